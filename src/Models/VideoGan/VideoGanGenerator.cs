using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace GanService.Models.VideoGan;

/// <summary>One clip's parts: the video [N, 3, T, H, W], the static background [N, 3, H, W], the mask [N, 1, T, H, W] in [0, 1], the foreground [N, 3, T, H, W].</summary>
public sealed record VideoParts(Tensor Video, Tensor Background, Tensor Mask, Tensor Foreground) : IDisposable
{
    public void Dispose()
    {
        Video.Dispose();
        Background.Dispose();
        Mask.Dispose();
        Foreground.Dispose();
    }
}

/// <summary>
/// VGAN's two-stream generator. Background: z → 4×4 (a linear map) → 2D transposed convs → a static RGB image.
/// Foreground: z → first-frames×4×4 (a linear map) → 3D transposed convs (4×4×4, stride 2, doubling time and space)
/// → two heads from the last hidden layer: RGB (tanh) and a 1-channel mask (sigmoid). The video is
/// mask⊙fg + (1−mask)⊙bg, the background repeated over time. Key names: <c>bg.*</c>, <c>fg.*</c>, <c>fg_rgb.*</c>,
/// <c>fg_mask.*</c>, <c>bg_in.*</c>, <c>fg_in.*</c>. The first layer of each stream is a Linear rather than the paper's
/// ConvTranspose on a 1×1 input (the same map; libtorch 2.10's oneDNN kernel is wrong for that conv, see LatentProjection).
/// </summary>
public sealed class VideoGanGenerator : Module<Tensor, VideoParts>
{
    private readonly Linear bg_in, fg_in;
    private readonly Sequential bg, fg;
    private readonly ConvTranspose3d fg_rgb, fg_mask;
    private readonly long topChannels;

    public VideoGanConfig Config { get; }

    public VideoGanGenerator(VideoGanConfig config) : base(nameof(VideoGanGenerator))
    {
        config.Validate();
        Config = config;
        int stages = config.Stages;
        topChannels = (long)config.Ngf << (stages - 1);

        bg_in = Linear(config.LatentDim, topChannels * 16, hasBias: false);
        var b = new List<Module<Tensor, Tensor>> { BatchNorm2d(topChannels), ReLU() };
        long c = topChannels;
        for (int i = 1; i < stages; i++, c /= 2)
            b.AddRange([ConvTranspose2d(c, c / 2, 4, 2, 1, bias: false), BatchNorm2d(c / 2), ReLU()]);
        b.AddRange([ConvTranspose2d(c, 3, 4, 2, 1), Tanh()]);
        bg = Sequential(b);

        fg_in = Linear(config.LatentDim, topChannels * config.FirstFrames * 16, hasBias: false);
        var f = new List<Module<Tensor, Tensor>> { BatchNorm3d(topChannels), ReLU() };
        c = topChannels;
        for (int i = 1; i < stages; i++, c /= 2)
            f.AddRange([ConvTranspose3d(c, c / 2, 4, 2, 1, bias: false), BatchNorm3d(c / 2), ReLU()]);
        fg = Sequential(f);
        fg_rgb = ConvTranspose3d(c, 3, 4, 2, 1);
        fg_mask = ConvTranspose3d(c, 1, 4, 2, 1);
        RegisterComponents();
        Layers.Init.Dcgan(this);   // N(0, 0.02) weights, BatchNorm N(1, 0.02), as the paper's code
    }

    /// <summary>
    /// Sets every bias of the mask head to <paramref name="bias"/>, so training starts with masks near sigmoid(bias)
    /// (e.g. −2 → 0.12): the background stream then draws most of each frame from the first step, rather than the mask
    /// head's default start near 0.5, from which our first run's foreground stream took over the background.
    /// </summary>
    public void InitMaskBias(double bias)
    {
        using var _ = no_grad();
        fg_mask.bias!.fill_(bias);
    }

    /// <summary>
    /// Recomputes the BatchNorm statistics as the average over <paramref name="batches"/> batches of 64 latents drawn
    /// with seed 12345 (<see cref="Layers.BatchNormStats"/>). For averaged weights (<see cref="VideoGanTrainer.Ema"/>),
    /// whose averaged statistics only approximate their own.
    /// </summary>
    public void RecomputeBatchNorm(int batches)
    {
        var device = parameters().First().device;
        using var gen = new torch.Generator(12345);
        Layers.BatchNormStats.Recompute(this, batches, _ => forward(randn([64, Config.LatentDim], generator: gen).to(device)).Dispose());
    }

    /// <summary>Builds a generator from its config JSON and loads its safetensors weights, in inference mode.</summary>
    public static VideoGanGenerator Load(string configJson, string weightsPath)
    {
        var config = System.Text.Json.JsonSerializer.Deserialize<VideoGanConfig>(configJson, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))
            ?? throw new InvalidDataException("a vgan model needs a config.");
        var g = new VideoGanGenerator(config);
        try
        {
            Weights.Load(g, weightsPath);
            g.eval();
            return g;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }

    /// <param name="z">[N, LatentDim]</param>
    public override VideoParts forward(Tensor z)
    {
        if (z.dim() != 2 || z.shape[1] != Config.LatentDim)
            throw new ArgumentException($"z must be [N, {Config.LatentDim}], got [{string.Join(", ", z.shape)}].");
        using var scope = NewDisposeScope();
        long n = z.shape[0];
        var background = bg.forward(bg_in.forward(z).view(n, topChannels, 4, 4));
        var hidden = fg.forward(fg_in.forward(z).view(n, topChannels, Config.FirstFrames, 4, 4));
        var foreground = fg_rgb.forward(hidden).tanh();
        var mask = fg_mask.forward(hidden).sigmoid();
        var video = mask * foreground + (1 - mask) * background.unsqueeze(2);
        return new VideoParts(video.MoveToOuterDisposeScope(), background.MoveToOuterDisposeScope(),
            mask.MoveToOuterDisposeScope(), foreground.MoveToOuterDisposeScope());
    }
}
