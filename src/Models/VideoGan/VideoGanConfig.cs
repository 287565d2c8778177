namespace GanService.Models.VideoGan;

/// <summary>
/// Shape of a VGAN (Vondrick, Pirsiavash, Torralba 2016, "Generating Videos with Scene Dynamics"): clips of
/// <see cref="Frames"/> frames of <see cref="ImageSize"/>² RGB from a <see cref="LatentDim"/>-d z. Both streams start at
/// 4×4 and double per stage; the foreground stream also doubles time, so Frames = 2^Stages · (first frames).
/// </summary>
/// <param name="Ngf">Channels of the generators' last hidden layer; each earlier stage doubles them.</param>
/// <param name="Ndf">Channels of the discriminator's first layer; each next stage doubles them.</param>
/// <param name="MaskSparsity">λ of the L1 term on the mask's mean (the paper's 0.1; its code's nn.L1Penalty averages too).
/// The shipped model uses 10: at 0.1 the term had no measurable effect and the streams swapped roles (README, Video).</param>
/// <param name="MinibatchStddev">D also sees the spread of its last features across the batch (Karras et al. 2018's
/// minibatch standard deviation), not in the paper: without it, both of our CPU runs' foreground streams collapsed to one
/// pattern whatever z (spread across z 0.025 against the background's 0.29), since a single clip shows no lack of variety.</param>
public sealed record VideoGanConfig(int Frames, int ImageSize, int LatentDim = 100, int Ngf = 32, int Ndf = 32, double MaskSparsity = 0.1,
    bool MinibatchStddev = true)
{
    /// <summary>The paper: 32 frames of 64×64, 512 channels at the 4×4 stage.</summary>
    public static VideoGanConfig Paper { get; } = new(32, 64, Ngf: 64, Ndf: 64, MinibatchStddev: false);

    /// <summary>
    /// What ships: 16 frames of 32×32. Training cost grows with frames × pixels; on the 2-core CPU that trains our
    /// weights the paper's shape is ~16× slower per clip (see README, Video).
    /// </summary>
    public static VideoGanConfig Clips32 { get; } = new(16, 32);

    /// <summary>Up-sampling stages from 4×4 to ImageSize.</summary>
    public int Stages => (int)Math.Round(Math.Log2(ImageSize / 4.0));

    /// <summary>Frames at the foreground stream's 4×4 stage.</summary>
    public int FirstFrames => Frames >> Stages;

    public void Validate()
    {
        if (ImageSize < 16 || ImageSize > 256 || 4 << Stages != ImageSize)
            throw new ArgumentException($"image size must be 16, 32, 64, 128 or 256, got {ImageSize}.");
        if (Frames < 1 << Stages || Frames > 256 || FirstFrames << Stages != Frames)
            throw new ArgumentException($"frames must be a multiple of {1 << Stages} (one doubling per stage) up to 256, got {Frames}.");
        if (LatentDim is < 1 or > 1024) throw new ArgumentException($"latent size must be 1..1024, got {LatentDim}.");
        if (Ngf is < 1 or > 512 || Ndf is < 1 or > 512) throw new ArgumentException("ngf and ndf must be 1..512.");
        if (MaskSparsity < 0) throw new ArgumentException("mask sparsity must be ≥ 0.");
    }
}
