using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Models.Dcgan;

/// <summary>The original GAN losses on logits: D maximises log D(x) + log(1 − D(G(z))); G uses the non-saturating −log D(G(z)).</summary>
public static class DcganLoss
{
    /// <param name="realTarget">1.0, or e.g. 0.9 for one-sided label smoothing.</param>
    public static Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, double realTarget = 1.0) =>
        binary_cross_entropy_with_logits(realLogits, full_like(realLogits, realTarget))
        + binary_cross_entropy_with_logits(fakeLogits, zeros_like(fakeLogits));

    public static Tensor Generator(Tensor fakeLogits) =>
        binary_cross_entropy_with_logits(fakeLogits, ones_like(fakeLogits));
}
