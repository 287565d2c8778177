using System.Diagnostics;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Bench;

/// <summary>
/// <c>progan-conv</c>: the two ways EqualizedConv2d can compute a 3×3 convolution, side by side in one process:
/// libtorch's conv2d and im2col (unfold) + matmul, forward and the gradient penalty's double backward, at the ProGAN
/// emoji run's shapes (batch 16). Prints medians and the ratio.
/// </summary>
public static class ProGanConvBench
{
    public static int Run(string[] args)
    {
        int reps = args.Length > 1 ? int.Parse(args[1]) : 7;
        set_num_threads(1);
        Console.WriteLine($"{"shape",-22} {"conv2d ms",10} {"im2col ms",10} {"ratio",7}");
        foreach (var (cin, cout, size) in new[] { (16L, 16L, 64L), (16L, 32L, 64L), (32L, 32L, 32L), (64L, 64L, 16L), (64L, 64L, 8L) })
        {
            using var x = randn(16, cin, size, size).requires_grad_(true);
            using var w = randn(cout, cin, 3, 3).requires_grad_(true);
            double direct = Median(reps, () => Step(x, w, useConv: true));
            double columns = Median(reps, () => Step(x, w, useConv: false));
            Console.WriteLine($"{$"{cin}→{cout} @ {size}×{size}",-22} {direct,10:F1} {columns,10:F1} {columns / direct,6:F1}×");
        }
        return 0;
    }

    /// <summary>Forward, the gradient w.r.t. the input with create_graph, and backward through that: what WGAN-GP does.</summary>
    static void Step(Tensor x, Tensor w, bool useConv)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], h = x.shape[2];
        var y = useConv
            ? conv2d(x, w, padding: [1, 1])
            : w.flatten(1).matmul(unfold(x, 3, padding: 1)).view(n, -1, h, h);
        var grad = autograd.grad([y.square().sum()], [x], retain_graph: true, create_graph: true)[0];
        grad.square().sum().backward();
    }

    static double Median(int reps, Action action)
    {
        action();
        var times = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return Stats.Median(times);
    }
}
