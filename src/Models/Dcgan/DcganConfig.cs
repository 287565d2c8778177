namespace GanService.Models.Dcgan;

/// <summary>Hyperparameters of a (class-conditional) DCGAN. <see cref="NumClasses"/> = 0 means unconditional.</summary>
public sealed record DcganConfig(
    int ImageSize,
    int Channels,
    int LatentDim,
    int NumClasses,
    int Ngf,
    int Ndf)
{
    /// <summary>Fashion-MNIST padded to 32×32, grey, 10 classes; half the reference widths so it trains on 2 CPU cores.</summary>
    public static DcganConfig Fashion32 { get; } = new(32, 1, 100, 10, 32, 32);

    /// <summary>The pytorch/examples dcgan/main.py layout: 64×64 RGB, unconditional, ngf = ndf = 64.</summary>
    public static DcganConfig Reference64 { get; } = new(64, 3, 100, 0, 64, 64);

    /// <summary>Number of stride-2 up/down-sampling stages between 4×4 and the image.</summary>
    public int Stages
    {
        get
        {
            if (ImageSize < 8 || (ImageSize & (ImageSize - 1)) != 0)
                throw new ArgumentException($"ImageSize must be a power of two ≥ 8, got {ImageSize}.");
            return (int)Math.Log2(ImageSize) - 2;
        }
    }

    public void Validate()
    {
        _ = Stages;
        if (Channels is < 1 or > 4) throw new ArgumentException($"Channels must be 1..4, got {Channels}.");
        if (LatentDim is < 1 or > 4096) throw new ArgumentException($"LatentDim must be 1..4096, got {LatentDim}.");
        if (NumClasses is < 0 or > 10000) throw new ArgumentException($"NumClasses must be 0..10000, got {NumClasses}.");
        if (Ngf is < 1 or > 1024 || Ndf is < 1 or > 1024) throw new ArgumentException("Ngf and Ndf must be 1..1024.");
    }
}
