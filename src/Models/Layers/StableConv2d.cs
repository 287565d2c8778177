using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Models.Layers;

/// <summary>
/// A 2-D convolution (parameters <c>weight</c> [out, in, k, k] and optional <c>bias</c>, as <c>nn.Conv2d</c> names them)
/// that runs as libtorch's conv2d on a GPU, and on the CPU only where oneDNN is on its well-tested path (input and
/// output channels multiples of 16). Elsewhere on the CPU it runs as im2col (unfold) + matmul: libtorch 2.10's CPU
/// convolution backward returned NaN input gradients now and then for such shapes (StackGAN Stage-I: after one step,
/// in about half of identical single-thread runs; ProGAN saw the same, see <c>EqualizedConv2d</c>).
/// </summary>
public sealed class StableConv2d : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly Parameter? bias;
    private readonly long stride, padding, inChannels, outChannels;

    public StableConv2d(long inChannels, long outChannels, long kernel, long stride = 1, long padding = 0, bool bias = true) : base(nameof(StableConv2d))
    {
        // nn.Conv2d's default initialisation: uniform in ±1/√fan_in for both.
        double bound = 1 / Math.Sqrt(inChannels * kernel * kernel);
        weight = new Parameter(rand(outChannels, inChannels, kernel, kernel).mul(2 * bound).sub(bound));
        this.bias = bias ? new Parameter(rand(outChannels).mul(2 * bound).sub(bound)) : null;
        (this.stride, this.padding, this.inChannels, this.outChannels) = (stride, padding, inChannels, outChannels);
        RegisterComponents();
    }

    public Tensor Weight => weight;

    public override Tensor forward(Tensor x)
    {
        if (x.device.type != DeviceType.CPU || (inChannels % 16 == 0 && outChannels % 16 == 0))
            return conv2d(x, weight, bias, strides: [stride, stride], padding: [padding, padding]);
        return Im2Col.Conv2d(x, weight, bias, stride, padding);
    }
}
