using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.Layers;

/// <summary>The running statistics that a network's BatchNorm layers use in eval mode.</summary>
public static class BatchNormStats
{
    /// <summary>
    /// Replaces every BatchNorm layer's running mean and variance in <paramref name="net"/> by their plain average over
    /// <paramref name="batches"/> calls of <paramref name="forward"/> (which runs the net on batch i) in train mode
    /// without gradients; the layers' momentum is restored, and the net is put back in train or eval mode as its root
    /// was (every submodule alike). For weights that were never trained
    /// as they are, such as a moving average of a generator's, whose averaged statistics only approximate its own.
    /// </summary>
    public static void Recompute(nn.Module net, int batches, Action<int> forward)
    {
        var norms = net.modules().OfType<BatchNorm>().ToList();
        var momenta = norms.Select(n => n.momentum).ToList();
        bool wasTraining = net.training;
        try
        {
            foreach (var n in norms)
            {
                n.reset_running_stats();
                n.momentum = null;   // a cumulative average over the batches, as in PyTorch
            }
            net.train();
            using var _ = no_grad();
            for (int i = 0; i < batches; i++)
            {
                using var scope = NewDisposeScope();
                forward(i);
            }
        }
        finally
        {
            for (int i = 0; i < norms.Count; i++) norms[i].momentum = momenta[i];
            net.train(wasTraining);
        }
    }
}
