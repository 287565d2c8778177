using static TorchSharp.torch;

namespace GanService.Models.Caae;

/// <summary>
/// Hyperparameters of a Conditional Adversarial Autoencoder (Zhang, Song and Qi, "Age Progression/Regression by
/// Conditional Adversarial Autoencoder", CVPR 2017). The paper: 128 px, z 50, 10 age groups × 2 genders, 5×5
/// kernels, encoder channels 64…1024. <see cref="Faces64"/> is the shipped size: 64 px, the emoji faces' four age
/// groups and three genders, channels 16…256 (a 2-core CPU trains it in an hour).
/// </summary>
public sealed record CaaeConfig(
    int Resolution = 64,
    int ZDim = 50,
    int AgeGroups = 4,
    int Genders = 3,
    int LabelRepeat = 4,
    int BaseChannels = 16,
    int DiscriminatorChannels = 16)
{
    public static CaaeConfig Faces64 { get; } = new();

    public static CaaeConfig Paper128 { get; } = new(Resolution: 128, AgeGroups: 10, Genders: 2, LabelRepeat: 4, BaseChannels: 64, DiscriminatorChannels: 16);

    /// <summary>One-hot age and gender, each repeated <see cref="LabelRepeat"/> times so the label weighs about as
    /// much as z at the generator's input (the paper's duplication), in {−1, 1} like tanh's z.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int LabelDim => (AgeGroups + Genders) * LabelRepeat;

    /// <summary>The encoder's five stride-2 convolutions leave Resolution/32 on a side.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int EncodedSize => Resolution / 32;

    public void Validate()
    {
        if (Resolution < 32 || (Resolution & (Resolution - 1)) != 0) throw new ArgumentException($"Resolution must be a power of two ≥ 32, got {Resolution}.");
        if (ZDim < 1 || AgeGroups < 2 || Genders < 1 || LabelRepeat < 1 || BaseChannels < 1 || DiscriminatorChannels < 1)
            throw new ArgumentException("ZDim, LabelRepeat and the channel counts must be positive; AgeGroups at least 2.");
    }

    /// <summary>The label vectors [N, LabelDim] for age group and gender indices [N] (int64).</summary>
    public Tensor Label(Tensor ages, Tensor genders)
    {
        using var scope = NewDisposeScope();
        var age = nn.functional.one_hot(ages, AgeGroups).to(ScalarType.Float32);
        var gender = nn.functional.one_hot(genders, Genders).to(ScalarType.Float32);
        var label = cat([age.repeat(1, LabelRepeat), gender.repeat(1, LabelRepeat)], 1).mul(2).sub(1);
        return label.MoveToOuterDisposeScope();
    }
}
