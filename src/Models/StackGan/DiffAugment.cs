using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.StackGan;

/// <summary>
/// Differentiable augmentation (Zhao et al. 2020, "DiffAugment"): the same random colour, translation and cutout
/// applied to every image the discriminator sees, real or generated, in D's step and in G's, so D cannot memorise a
/// small real set and G still gets gradients through the augmentation. Per image: brightness ±0.5, saturation ×0..2,
/// contrast ×0.5..1.5; a shift of up to 1/8 of the side (edges repeat the border, white for emoji); one square of half
/// the side set to 0 (grey in [−1, 1]).
/// </summary>
public static class DiffAugment
{
    /// <param name="images">[N, 3, S, S] in [−1, 1], on any device.</param>
    /// <param name="random">Draws the per-image parameters (on the CPU, then moved), so a seeded run repeats them.</param>
    public static Tensor Apply(Tensor images, torch.Generator random)
    {
        using var scope = NewDisposeScope();
        long n = images.shape[0], size = images.shape[2];
        var device = images.device;
        Tensor R(params long[] shape) => rand(shape, generator: random).to(device);

        // Colour, on [0, 1] as the paper's code does it.
        var x = images.add(1).mul(0.5);
        x = x.add(R(n, 1, 1, 1).sub(0.5));
        var mean = x.mean([1L], keepdim: true);
        x = x.sub(mean).mul(R(n, 1, 1, 1).mul(2)).add(mean);
        mean = x.mean([1L, 2L, 3L], keepdim: true);
        x = x.sub(mean).mul(R(n, 1, 1, 1).add(0.5)).add(mean);
        x = x.mul(2).sub(1);

        // Translation by up to 1/8 of the side, per image, through an affine grid (border padding).
        var shift = R(n, 2).mul(2).sub(1).mul(0.25);   // grid units: the side is 2, so ±0.25 is ±1/8
        var theta = zeros(n, 2, 3, device: device);
        theta[TensorIndex.Colon, 0, 0] = ones(n, device: device);
        theta[TensorIndex.Colon, 1, 1] = ones(n, device: device);
        theta[TensorIndex.Colon, 0, 2] = shift[TensorIndex.Colon, 0];
        theta[TensorIndex.Colon, 1, 2] = shift[TensorIndex.Colon, 1];
        var grid = nn.functional.affine_grid(theta, [n, 3, size, size], align_corners: false);
        x = nn.functional.grid_sample(x, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Border, align_corners: false);

        // Cutout: a square of half the side at a random centre, per image.
        var centre = R(n, 2).mul(size).floor();
        var coords = arange(size, device: device).to(ScalarType.Float32);
        long half = size / 4;
        var inY = coords.view(1, -1).sub(centre[TensorIndex.Colon, 0].view(-1, 1)).abs().lt(half);   // [N, S]
        var inX = coords.view(1, -1).sub(centre[TensorIndex.Colon, 1].view(-1, 1)).abs().lt(half);
        var keep = inY.unsqueeze(2).logical_and(inX.unsqueeze(1)).logical_not().to(x.dtype).unsqueeze(1);   // [N, 1, S, S]
        return x.mul(keep).MoveToOuterDisposeScope();
    }
}
