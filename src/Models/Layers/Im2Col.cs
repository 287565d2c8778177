using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Models.Layers;

/// <summary>
/// A 2-D convolution computed as im2col (<c>unfold</c>) + matmul, for the CPU shapes where libtorch 2.10's conv2d
/// backward returned NaN gradients now and then (<see cref="StableConv2d"/>, <c>EqualizedConv2d</c>).
/// </summary>
public static class Im2Col
{
    /// <param name="x">[N, in, H, W]</param>
    /// <param name="weight">[out, in, k, k]</param>
    /// <param name="bias">[out], or null</param>
    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, long stride = 1, long padding = 0)
    {
        using var scope = NewDisposeScope();
        long n = x.shape[0], kernel = weight.shape[2];
        long h = (x.shape[2] + 2 * padding - kernel) / stride + 1, w = (x.shape[3] + 2 * padding - kernel) / stride + 1;
        var columns = kernel == 1 && stride == 1 && padding == 0
            ? x.flatten(2)                                                    // [N, in, H·W]: a 1×1 conv needs no unfold
            : unfold(x, kernel, padding: padding, stride: stride);            // [N, in·k·k, h·w]
        var y = weight.flatten(1).matmul(columns);                            // [N, out, h·w]
        if (bias is not null) y = y.add(bias.view(1, -1, 1));
        return y.view(n, weight.shape[0], h, w).MoveToOuterDisposeScope();
    }
}
