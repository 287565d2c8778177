using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Training;

public static class Gradients
{
    /// <summary>
    /// Whether the loss and every gradient of the modules are finite (one sum per parameter, one read back). libtorch
    /// 2.10's CPU convolution backward now and then returns NaN gradients (README, Notes for developers); a trainer
    /// skips that update rather than let one NaN poison the weights.
    /// </summary>
    public static bool AllFinite(double loss, params nn.Module[] modules)
    {
        if (!double.IsFinite(loss)) return false;
        using var _ = NewDisposeScope();
        using var __ = no_grad();
        var sums = modules.SelectMany(m => m.parameters()).Where(p => p.grad is not null).Select(p => p.grad!.sum()).ToArray();
        return sums.Length == 0 || stack(sums).sum().isfinite().item<bool>();
    }
}
