using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.Caae;

/// <summary>E: a face → its identity z in [−1, 1]^ZDim. Five 5×5 stride-2 convolutions with ReLU (the paper's
/// encoder), then a linear map and tanh.</summary>
public sealed class CaaeEncoder : Module<Tensor, Tensor>
{
    private readonly Sequential main;
    private readonly Linear fc;

    public CaaeConfig Config { get; }

    public CaaeEncoder(CaaeConfig config) : base(nameof(CaaeEncoder))
    {
        config.Validate();
        Config = config;
        var layers = new List<Module<Tensor, Tensor>>();
        long inC = 3, outC = config.BaseChannels;
        // 3 × R → B × R/2 → 2B × R/4 → 4B × R/8 → 8B × R/16 → 16B × R/32
        for (int i = 0; i < 5; i++, inC = outC, outC *= 2)
        {
            layers.Add(Conv2d(inC, outC, 5, 2, 2));
            layers.Add(ReLU());
        }
        main = Sequential(layers);
        fc = Linear(inC * config.EncodedSize * config.EncodedSize, config.ZDim);
        RegisterComponents();
    }

    public override Tensor forward(Tensor image)
    {
        if (image.ndim != 4 || image.shape[1] != 3 || image.shape[2] != Config.Resolution || image.shape[3] != Config.Resolution)
            throw new ArgumentException($"expected [N, 3, {Config.Resolution}, {Config.Resolution}], got [{string.Join(", ", image.shape)}].");
        using var features = main.forward(image);
        using var flat = features.flatten(1);
        using var z = fc.forward(flat);
        return z.tanh();
    }
}
