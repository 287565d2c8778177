using GanService.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Models.ProGan;

/// <summary>
/// Equalized learning rate (ProGAN §4.1): weights are drawn from N(0, 1) and scaled at run time by He's constant
/// gain / √fan_in, so every layer learns at the same speed under Adam. Parameters <c>weight</c>, <c>bias</c>.
/// </summary>
public sealed class EqualizedConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly double scale;
    private readonly long padding;
    private readonly long kernel;

    public EqualizedConv2d(long inChannels, long outChannels, long kernel, double gain = 1.4142135623730951) : base(nameof(EqualizedConv2d))
    {
        weight = new Parameter(randn(outChannels, inChannels, kernel, kernel));
        bias = new Parameter(zeros(outChannels));
        scale = gain / Math.Sqrt(inChannels * kernel * kernel);
        padding = kernel / 2;
        this.kernel = kernel;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // conv2d where oneDNN is on its best-tested path (input channels a multiple of 16, as every 3×3 conv here
        // except the critic's last, whose input has the minibatch-stddev map appended): 10–33× faster than im2col
        // at 64×64 through the penalty's double backward (bench: GanService.Bench progan-conv). libtorch 2.10's CPU ConvolutionBackward can still
        // return a non-finite gradient now and then under the gradient penalty's double backward (1 step in 500
        // in a stress run); ProGanTrainer skips such a step. Other convs run as im2col (unfold) + matmul.
        using var scope = NewDisposeScope();
        if (kernel > 1 && x.shape[1] % 16 == 0)
            return conv2d(x, weight.mul(scale), bias, padding: [padding, padding]).MoveToOuterDisposeScope();
        return Im2Col.Conv2d(x, weight.mul(scale), bias, padding: padding).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Equalized fully connected layer. With perSample it computes one row at a time, so that a sample's
/// output never depends on the batch it is in (BLAS picks its kernel by the number of rows).
/// </summary>
public sealed class EqualizedLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter bias;
    private readonly double scale;
    private readonly bool perSample;

    public EqualizedLinear(long inFeatures, long outFeatures, double gain = 1.4142135623730951, bool perSample = false) : base(nameof(EqualizedLinear))
    {
        weight = new Parameter(randn(outFeatures, inFeatures));
        bias = new Parameter(zeros(outFeatures));
        scale = gain / Math.Sqrt(inFeatures);
        this.perSample = perSample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var w = weight.mul(scale);
        if (!perSample) return linear(x, w, bias);
        var rows = new Tensor[x.shape[0]];
        try
        {
            for (long n = 0; n < rows.Length; n++)
            {
                using var row = x.narrow(0, n, 1);
                rows[n] = linear(row, w, bias);
            }
            return cat(rows, 0);
        }
        finally
        {
            foreach (var r in rows) r?.Dispose();
        }
    }
}

public static class ProGanOps
{
    /// <summary>Pixel-wise feature vector normalisation (ProGAN §4.2): x / √(mean over channels of x² + ε).</summary>
    public static Tensor PixelNorm(Tensor x, double eps = 1e-8)
    {
        using var sq = x.square();
        using var mean = sq.mean([1], keepdim: true);
        using var denom = mean.add(eps).rsqrt();
        return x.mul(denom);
    }

    /// <summary>
    /// Minibatch standard deviation (ProGAN §3): the standard deviation of each feature over groups of
    /// <paramref name="groupSize"/> samples, averaged to one value per group and appended as one more feature map.
    /// </summary>
    public static Tensor MinibatchStdDev(Tensor x, int groupSize = 4)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        long g = Math.Min(groupSize, n);
        while (n % g != 0) g--;
        using var scope = NewDisposeScope();
        var y = x.view(g, n / g, c, h, w);
        y = y.sub(y.mean([0], keepdim: true));
        var std = y.square().mean([0]).add(1e-8).sqrt();              // [n/g, c, h, w]
        var perGroup = std.mean([1, 2, 3]).view(1, n / g, 1, 1, 1);     // [1, n/g, 1, 1, 1]
        var maps = perGroup.expand(g, n / g, 1, h, w).reshape(n, 1, h, w);
        return cat([x, maps], 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Nearest-neighbour ×2 as a broadcast copy: each pixel viewed as a 1×1 block, expanded to 2×2. Its backward is a
    /// plain sum. (repeat_interleave gave the same pixels, but its backward returned a wrong gradient about once in 300
    /// steps when another thread ran libtorch at the same time: 5 of 1,500 three-thread runs of the WGAN-GP step test's
    /// body, 0 of 1,500 with this.)
    /// </summary>
    public static Tensor Upsample2x(Tensor x)
    {
        long n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3];
        using var blocks = x.unsqueeze(3).unsqueeze(5);                  // [n, c, h, 1, w, 1]
        using var wide = blocks.expand(n, c, h, 2, w, 2);
        return wide.reshape(n, c, 2 * h, 2 * w);
    }

    public static Tensor Downsample2x(Tensor x) => avg_pool2d(x, 2);

    public static Tensor Lrelu(Tensor x) => leaky_relu(x, 0.2);
}
