using static TorchSharp.torch;

namespace GanService.Models.Data;

/// <summary>
/// A moving-objects video set made by our code: each clip is one Fashion-MNIST item, tinted, moving in a straight line
/// at a constant speed and bouncing off the frame's edges, over a static textured background (stripes at an angle, a
/// checkerboard, rings or a gradient, in two colours). Clip i of a set depends only on (seed, i), so a set is
/// reproducible and a training run can draw fresh clips at every step. The item's own intensity is its alpha, so the
/// data is exactly "a foreground over a static background", the decomposition VGAN learns.
/// </summary>
public sealed class MovingFashion
{
    public const string Licence = FashionMnist.Licence;

    /// <summary>Background texture kinds, in the order clips draw them.</summary>
    public static IReadOnlyList<string> Backgrounds { get; } = ["stripes", "checker", "rings", "gradient"];

    private readonly float[] alpha; // [items, P, P] in [0, 1]
    private readonly long[] labels;

    public int Frames { get; }
    public int ImageSize { get; }
    /// <summary>The item's side in pixels: half the frame.</summary>
    public int ItemSize { get; }
    public int Items => labels.Length;

    /// <param name="items">Fashion-MNIST images [N, 1, 32, 32] in [−1, 1] (<see cref="FashionMnist.Load"/>).</param>
    /// <param name="itemLabels">Their classes [N].</param>
    public MovingFashion(Tensor items, Tensor itemLabels, int frames, int imageSize)
    {
        if (frames < 2 || imageSize < 16) throw new ArgumentException("clips need 2 or more frames of 16 px or more.");
        Frames = frames;
        ImageSize = imageSize;
        ItemSize = imageSize / 2;
        using var scope = NewDisposeScope();
        // The 28×28 item (the loader pads to 32), area-resized to the item size, as alpha in [0, 1].
        var core = items.narrow(2, 2, 28).narrow(3, 2, 28).add(1).div(2);
        var resized = nn.functional.interpolate(core, [ItemSize, ItemSize], mode: InterpolationMode.Area).clamp(0, 1);
        alpha = resized.contiguous().data<float>().ToArray();
        labels = itemLabels.data<long>().ToArray();
    }

    /// <summary>
    /// Clips <paramref name="first"/> … first+count−1 of the seed's stream: [count, 3, Frames, S, S] in [−1, 1], the class
    /// of each clip's item [count] and its background kind [count] (an index into <see cref="Backgrounds"/>).
    /// </summary>
    public (Tensor Clips, Tensor Labels, Tensor Backgrounds) Clips(long seed, int count, int first = 0)
    {
        int t = Frames, s = ImageSize, p = ItemSize, plane = s * s;
        var data = new float[(long)count * 3 * t * plane];
        var y = new long[count];
        var kinds = new long[count];
        var bg = new float[3 * plane];
        for (int c = 0; c < count; c++)
        {
            var rng = new SplitMix(seed, first + c);
            int item = rng.Next(Items);
            y[c] = labels[item];
            kinds[c] = Background(ref rng, bg, s);
            // A light tint over darker backgrounds keeps the item visible on every texture.
            Span<float> tint = [rng.Uniform(0.2f, 1f), rng.Uniform(0.2f, 1f), rng.Uniform(0.2f, 1f)];
            float range = s - p;
            float x0 = rng.Uniform(0, range), y0 = rng.Uniform(0, range);
            float speed = rng.Uniform(1f, 2.5f) * s / 32f, angle = rng.Uniform(0, 2 * MathF.PI);
            float vx = speed * MathF.Cos(angle), vy = speed * MathF.Sin(angle);
            long clipBase = (long)c * 3 * t * plane;
            for (int f = 0; f < t; f++)
            {
                int ox = (int)MathF.Round(Bounce(x0 + vx * f, range)), oy = (int)MathF.Round(Bounce(y0 + vy * f, range));
                for (int ch = 0; ch < 3; ch++)
                {
                    long frameBase = clipBase + ((long)ch * t + f) * plane;
                    Array.Copy(bg, ch * plane, data, frameBase, plane);
                    for (int i = 0; i < p; i++)
                    for (int j = 0; j < p; j++)
                    {
                        float a = alpha[((long)item * p + i) * p + j];
                        if (a <= 0) continue;
                        long at = frameBase + (oy + i) * s + ox + j;
                        data[at] = a * tint[ch] + (1 - a) * data[at];
                    }
                }
            }
        }
        return (tensor(data, [count, 3, t, s, s]), tensor(y, [count]), tensor(kinds, [count]));
    }

    /// <summary>Reflects a coordinate into [0, range]: the item bounces off the edges.</summary>
    private static float Bounce(float u, float range)
    {
        if (range <= 0) return 0;
        float period = 2 * range;
        u %= period;
        if (u < 0) u += period;
        return u > range ? period - u : u;
    }

    private static int Background(ref SplitMix rng, float[] bg, int s)
    {
        int kind = rng.Next(Backgrounds.Count);
        Span<float> a = [rng.Uniform(-1f, 0.2f), rng.Uniform(-1f, 0.2f), rng.Uniform(-1f, 0.2f)];
        Span<float> b = [rng.Uniform(-1f, 0.2f), rng.Uniform(-1f, 0.2f), rng.Uniform(-1f, 0.2f)];
        float period = rng.Uniform(6f, 16f) * s / 32f, theta = rng.Uniform(0, MathF.PI), phase = rng.Uniform(0, 2 * MathF.PI);
        float cx = rng.Uniform(0, s), cy = rng.Uniform(0, s);
        float ct = MathF.Cos(theta), st = MathF.Sin(theta), k = 2 * MathF.PI / period;
        for (int i = 0; i < s; i++)
        for (int j = 0; j < s; j++)
        {
            float m = kind switch
            {
                0 => 0.5f + 0.5f * MathF.Sin(k * (j * ct + i * st) + phase),
                1 => MathF.Sin(k * j + phase) * MathF.Sin(k * i + phase) > 0 ? 1f : 0f,
                2 => 0.5f + 0.5f * MathF.Sin(k * MathF.Sqrt((j - cx) * (j - cx) + (i - cy) * (i - cy)) + phase),
                _ => Math.Clamp(0.5f + ((j - s / 2f) * ct + (i - s / 2f) * st) / s, 0, 1),
            };
            for (int ch = 0; ch < 3; ch++) bg[ch * s * s + i * s + j] = a[ch] * (1 - m) + b[ch] * m;
        }
        return kind;
    }

    /// <summary>SplitMix64 (Steele, Lea, Flood 2014): a stream fixed by (seed, clip), the same on every machine and .NET version.</summary>
    private struct SplitMix(long seed, long clip)
    {
        private ulong state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL ^ (ulong)clip * 0xBF58476D1CE4E5B9UL);

        private ulong NextBits()
        {
            ulong z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public int Next(int n) => (int)(NextBits() % (ulong)n);

        public float Uniform(float lo, float hi) => lo + (hi - lo) * (float)((NextBits() >> 40) / (double)(1UL << 24));
    }
}
