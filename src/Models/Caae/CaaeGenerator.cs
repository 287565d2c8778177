using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.Caae;

/// <summary>G: identity z and an age/gender label → a face. A linear map to 16B × (R/16)², four 5×5 stride-2
/// transposed convolutions with BatchNorm and ReLU, a 5×5 convolution to RGB and tanh.</summary>
public sealed class CaaeGenerator : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear fc;
    private readonly BatchNorm2d bn;
    private readonly Sequential main;

    public CaaeConfig Config { get; }

    private long Start => Config.BaseChannels * 16L;
    private int StartSize => Config.Resolution / 16;

    public CaaeGenerator(CaaeConfig config) : base(nameof(CaaeGenerator))
    {
        config.Validate();
        Config = config;
        fc = Linear(config.ZDim + config.LabelDim, Start * StartSize * StartSize);
        bn = BatchNorm2d(Start);
        var layers = new List<Module<Tensor, Tensor>>();
        // 16B × R/16 → 8B × R/8 → 4B × R/4 → 2B × R/2 → B × R
        long c = Start;
        for (int i = 0; i < 4; i++, c /= 2)
        {
            layers.Add(ConvTranspose2d(c, c / 2, 5, 2, 2, output_padding: 1));
            layers.Add(BatchNorm2d(c / 2));
            layers.Add(ReLU());
        }
        layers.Add(Conv2d(c, 3, 5, 1, 2));
        layers.Add(Tanh());
        main = Sequential(layers);
        RegisterComponents();
    }

    public override Tensor forward(Tensor z, Tensor label)
    {
        if (z.ndim != 2 || z.shape[1] != Config.ZDim || label.ndim != 2 || label.shape[1] != Config.LabelDim || label.shape[0] != z.shape[0])
            throw new ArgumentException($"expected z [N, {Config.ZDim}] and label [N, {Config.LabelDim}], got [{string.Join(", ", z.shape)}] and [{string.Join(", ", label.shape)}].");
        using var input = cat([z, label], 1);
        using var projected = fc.forward(input);
        using var grid = projected.view(-1, Start, StartSize, StartSize);
        using var normed = bn.forward(grid);
        using var activated = functional.relu(normed);
        return main.forward(activated);
    }
}
