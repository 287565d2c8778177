using static TorchSharp.torch;
using static TorchSharp.torch.nn.functional;

namespace GanService.Models.Caae;

/// <summary>The CAAE's terms (the paper's eq. 3–5): L1 reconstruction, the two adversarial games as logistic
/// losses on logits, and total variation for smoothness.</summary>
public static class CaaeLoss
{
    public static Tensor Reconstruction(Tensor input, Tensor output) => (input - output).abs().mean();

    /// <summary>A discriminator's loss: real logits toward 1, fake ones toward 0.</summary>
    public static Tensor Discriminator(Tensor realLogits, Tensor fakeLogits) =>
        binary_cross_entropy_with_logits(realLogits, ones_like(realLogits)) + binary_cross_entropy_with_logits(fakeLogits, zeros_like(fakeLogits));

    /// <summary>The fooling side: fake logits toward 1.</summary>
    public static Tensor Fool(Tensor fakeLogits) => binary_cross_entropy_with_logits(fakeLogits, ones_like(fakeLogits));

    /// <summary>Mean absolute difference between neighbouring pixels, across and down.</summary>
    public static Tensor TotalVariation(Tensor image)
    {
        long h = image.shape[2], w = image.shape[3];
        using var dy = image.narrow(2, 1, h - 1) - image.narrow(2, 0, h - 1);
        using var dx = image.narrow(3, 1, w - 1) - image.narrow(3, 0, w - 1);
        return dy.abs().mean() + dx.abs().mean();
    }
}
