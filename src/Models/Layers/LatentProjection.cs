using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.Layers;

/// <summary>
/// <c>ConvTranspose2d(in, out, k, stride 1, padding 0)</c> on a 1×1 input, computed as the matrix product it is:
/// out[n, o, i, j] = Σ_c z[n, c] · W[c, o, i, j]. Same parameter (<c>weight</c>, PyTorch's ConvTranspose2d layout
/// [in, out, k, k]), so state dicts load both ways. Why not the conv itself: libtorch 2.10's oneDNN kernel
/// (jit:avx512_core) writes garbage into part of the output when <c>in</c> is not a multiple of 16 (nz 100 + 10
/// labels = 110): wrong pixels, NaN now and then, and a batch-dependent result.
/// </summary>
public sealed class LatentProjection : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long inChannels, outChannels, kernel;

    public LatentProjection(long inChannels, long outChannels, long kernel = 4) : base(nameof(LatentProjection))
    {
        (this.inChannels, this.outChannels, this.kernel) = (inChannels, outChannels, kernel);
        weight = new Parameter(empty(inChannels, outChannels, kernel, kernel));
        RegisterComponents();
    }

    public Parameter Weight => weight;

    /// <param name="x">[N, in, 1, 1]</param>
    /// <returns>[N, out, k, k]</returns>
    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4 || x.shape[1] != inChannels || x.shape[2] != 1 || x.shape[3] != 1)
            throw new ArgumentException($"expected [N, {inChannels}, 1, 1], got [{string.Join(", ", x.shape)}].");
        using var flat = x.flatten(1);
        using var w = weight.view(inChannels, outChannels * kernel * kernel);
        // One [1, in] × [in, out·k²] product per sample: BLAS picks its kernel (and summation order) by the number of
        // rows, and an image must not depend on the batch it was computed in.
        var rows = new Tensor[x.shape[0]];
        try
        {
            for (long n = 0; n < rows.Length; n++)
            {
                using var row = flat.narrow(0, n, 1);
                rows[n] = row.matmul(w);
            }
            using var y = cat(rows, 0);
            return y.view(x.shape[0], outChannels, kernel, kernel);
        }
        finally
        {
            foreach (var r in rows) r?.Dispose();
        }
    }
}
