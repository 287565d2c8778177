using GanService.Models.Caae;
using GanService.Models.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace GanService.Models.Tests;

public sealed class CaaeTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("ganservice-faces-").FullName;

    // One thread, as train-caae: two gave NaN in libtorch 2.10's CPU backward of these networks.
    public CaaeTests() => set_num_threads(1);

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Networks_map_faces_to_codes_in_the_prior_and_codes_with_labels_to_faces()
    {
        using var scope = NewDisposeScope();
        var config = CaaeConfig.Faces64;
        manual_seed(3);
        using var e = new CaaeEncoder(config);
        using var g = new CaaeGenerator(config);
        using var dz = new CaaeDz(config);
        using var dimg = new CaaeDimg(config);
        var x = rand([4, 3, 64, 64]).mul(2).sub(1);
        var z = e.forward(x);
        Assert.Equal([4L, 50L], z.shape);
        Assert.True(z.abs().max().item<float>() <= 1f);
        var label = config.Label(tensor(new long[] { 0, 1, 2, 3 }), tensor(new long[] { 0, 1, 2, 1 }));
        Assert.Equal([4L, config.LabelDim], label.shape);
        var face = g.forward(z, label);
        Assert.Equal([4L, 3L, 64L, 64L], face.shape);
        Assert.True(face.abs().max().item<float>() <= 1f);
        Assert.Equal([4L, 1L], dz.forward(z).shape);
        Assert.Equal([4L, 1L], dimg.forward(face, label).shape);
        Assert.Throws<ArgumentException>(() => e.forward(rand([1, 3, 32, 32])));
        Assert.Throws<ArgumentException>(() => g.forward(z, label.narrow(1, 0, 3)));
    }

    [Fact]
    public void Label_is_one_hot_age_and_gender_each_repeated_in_minus_one_to_one()
    {
        var config = CaaeConfig.Faces64 with { LabelRepeat = 2 };
        using var label = config.Label(tensor(new long[] { 3 }), tensor(new long[] { 2 }));
        float[] expected = [-1, -1, -1, 1, -1, -1, -1, 1, /* gender */ -1, -1, 1, -1, -1, 1];
        Assert.Equal(expected, label.data<float>().ToArray());
    }

    [Fact]
    public void A_few_training_steps_lower_the_reconstruction_error()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        // Eight smooth "faces": coloured discs on white, a fixed batch (no augmentation, so the error is comparable).
        var grid = linspace(-1, 1, 64);
        var yy = grid.view(1, 64, 1);
        var xx = grid.view(1, 1, 64);
        var faces = stack(Enumerable.Range(0, 8).Select(i =>
        {
            var disc = (yy - 0.1 * (i % 3)).pow(2).add((xx + 0.1 * (i % 4)).pow(2)).lt(0.3 + 0.05 * i).to(ScalarType.Float32);
            var colour = tensor(new float[] { (i % 2) * 0.8f - 0.4f, (i % 3) * 0.5f - 0.5f, -0.2f * i }).view(3, 1, 1);
            return (1 - disc) + disc * colour;
        }).ToArray());
        var ages = tensor(new long[] { 0, 1, 2, 3, 0, 1, 2, 3 });
        var genders = tensor(new long[] { 0, 1, 2, 0, 0, 2, 1, 0 });
        using var trainer = new CaaeTrainer(CaaeConfig.Faces64, new CaaeTrainOptions(BatchSize: 8, LearningRate: 1e-3, MaxShift: 0, Jitter: 0, Seed: 5));
        float Error() => CaaeLoss.Reconstruction(faces, trainer.Transform(faces, ages, genders)).item<float>();
        float before = Error();
        for (int i = 0; i < 40; i++)
        {
            var step = trainer.TrainStep(faces, ages, genders);
            Assert.True(double.IsFinite(step.L1) && double.IsFinite(step.LossDz) && double.IsFinite(step.LossDimg), $"step {i}: {step}");
        }
        float after = Error();
        Assert.True(after < 0.75f * before, $"reconstruction L1 went from {before:F4} to {after:F4}");
    }

    [Fact]
    public void The_served_model_is_one_file_and_ages_a_face_as_the_trainer_draws_it()
    {
        using var scope = NewDisposeScope();
        var config = CaaeConfig.Faces64 with { BaseChannels = 8 };
        using var trainer = new CaaeTrainer(config, new CaaeTrainOptions(BatchSize: 4, Seed: 9));
        var faces = rand([4, 3, 64, 64]).mul(2).sub(1);
        trainer.TrainStep(faces, tensor(new long[] { 0, 1, 2, 3 }), tensor(new long[] { 0, 1, 2, 1 }));
        var path = Path.Combine(root, "caae.safetensors");
        Weights.Save(trainer.Model, path);
        var keys = trainer.Model.state_dict().Keys.ToList();
        Assert.Contains(keys, k => k.StartsWith("encoder."));
        Assert.Contains(keys, k => k.StartsWith("generator."));
        Assert.All(keys, k => Assert.True(k.StartsWith("encoder.") || k.StartsWith("generator."), k));

        using var served = CaaeModel.Load(System.Text.Json.JsonSerializer.Serialize(config, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)), path);
        var face = faces[1].unsqueeze(0);
        int[] ages = [3, 0, 2];
        var aged = served.Age(face, ages, gender: 2);
        Assert.Equal([3L, 3L, 64L, 64L], aged.shape);
        // The trainer's own transform of the same face at the same labels (babies drawn without gender).
        var agesT = tensor(ages.Select(a => (long)a).ToArray());
        var expected = trainer.Transform(face.expand(3, -1, -1, -1).contiguous(), agesT, Faces.GenderAt(agesT, full(3, 2L)));
        Assert.True(aged.allclose(expected, rtol: 1e-4, atol: 1e-5), $"max diff {(aged - expected).abs().max().item<float>()}");
        // Different ages draw different faces.
        float ageEffect = (aged[0] - aged[1]).abs().mean().item<float>();
        Assert.True(ageEffect > 1e-5f, $"age 3 and age 0 drew the same face (mean difference {ageEffect})");
        Assert.Throws<ArgumentException>(() => served.Age(face, [4], 0));
        Assert.Throws<ArgumentException>(() => served.Age(face, [1], 3));
    }

    [Fact]
    public void Training_resumed_from_a_checkpoint_continues_exactly()
    {
        using var scope = NewDisposeScope();
        var config = CaaeConfig.Faces64 with { BaseChannels = 8 };
        var options = new CaaeTrainOptions(BatchSize: 4, Seed: 21);
        manual_seed(4);
        var faces = rand([4, 3, 64, 64]).mul(2).sub(1);
        var ages = tensor(new long[] { 0, 1, 2, 3 });
        var genders = tensor(new long[] { 0, 2, 1, 2 });
        var checkpoints = Path.Combine(root, "checkpoints");
        Assert.Null(CaaeTrainer.Resume(checkpoints));

        using var straight = new CaaeTrainer(config, options);
        for (int i = 0; i < 2; i++) straight.TrainStep(faces, ages, genders);
        straight.SaveCheckpoint(checkpoints);
        for (int i = 0; i < 2; i++) straight.TrainStep(faces, ages, genders);

        using var resumed = CaaeTrainer.Resume(checkpoints)!;
        Assert.Equal(2, resumed.Step);
        for (int i = 0; i < 2; i++) resumed.TrainStep(faces, ages, genders);
        Assert.Equal(4, resumed.Step);
        SameState.AfterResuming("model", straight.Model, resumed.Model);
        SameState.AfterResuming("D_img", straight.Dimg, resumed.Dimg);
    }

    [Fact]
    public void The_paper_configuration_at_128_px_with_ten_age_groups_trains_a_step()
    {
        using var scope = NewDisposeScope();
        var config = CaaeConfig.Paper128 with { BaseChannels = 8 };
        using var trainer = new CaaeTrainer(config, new CaaeTrainOptions(BatchSize: 2));
        var step = trainer.TrainStep(rand([2, 3, 128, 128]).mul(2).sub(1), tensor(new long[] { 0, 9 }), tensor(new long[] { 1, 0 }));
        Assert.True(double.IsFinite(step.L1) && step.L1 > 0);
    }

    private void Image(string path, int size, SKColor color)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color);
        using var data = bitmap.Encode(path.EndsWith(".webp") ? SKEncodedImageFormat.Webp : SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    [Fact]
    public void Faces_catalog_labels_age_gender_and_tone_and_swaps_fluent_3d_medium_tones()
    {
        Image(Path.Combine(root, "emoji", "google", "images", "1f474-1f3fe.png"), 64, new SKColor(255, 0, 0, 255));   // old man, medium-dark
        Image(Path.Combine(root, "emoji", "google", "images", "1f476.png"), 64, new SKColor(0, 0, 255, 128));          // baby, half-transparent
        Image(Path.Combine(root, "emoji", "google", "images", "1f600.png"), 64, new SKColor(0, 0, 0, 255));            // not a face
        Image(Path.Combine(root, "faces", "fluent-3d", "images", "1f467-1f3fc.webp"), 256, new SKColor(0, 255, 0, 255)); // girl: file says medium-light, art is medium
        Image(Path.Combine(root, "faces", "openmoji", "images", "1f467-1f3fc.png"), 128, new SKColor(0, 0, 0, 255));    // girl, medium-light: no swap

        var google = Faces.Catalog(root, "google").OrderBy(f => f.AgeGroup).ToList();
        Assert.Equal(2, google.Count);
        Assert.Equal(("baby", 0, 0, 0), (google[0].Emoji, google[0].AgeGroup, google[0].Gender, google[0].Tone));
        Assert.Equal(("old man", 3, 1, 4), (google[1].Emoji, google[1].AgeGroup, google[1].Gender, google[1].Tone));
        var fluent = Assert.Single(Faces.Catalog(root, "fluent-3d"));
        Assert.Equal(("girl", 1, 2, 3), (fluent.Emoji, fluent.AgeGroup, fluent.Gender, fluent.Tone));
        Assert.Equal(new long[] { 0, 2 }, Faces.GenderAt(tensor(new long[] { 0, 3 }), tensor(new long[] { 2, 2 })).data<long>().ToArray());

        var (images, ages, genders, tones) = Faces.Load([google[0], fluent], 64);
        Assert.Equal([2L, 3L, 64L, 64L], images.shape);
        Assert.Equal(new long[] { 0, 1 }, ages.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 2 }, genders.data<long>().ToArray());
        Assert.Equal(new long[] { 0, 3 }, tones.data<long>().ToArray());
        var baby = images[0, TensorIndex.Colon, 32, 32].data<float>().ToArray();   // half blue over white
        Assert.InRange(baby[0], -0.05f, 0.05f);
        Assert.InRange(baby[2], 0.95f, 1.0f);
        var girl = images[1, TensorIndex.Colon, 32, 32].data<float>().ToArray();   // 256 px green scaled down
        Assert.Equal(new[] { -1f, 1f, -1f }, girl);
        var openmoji = Assert.Single(Faces.Catalog(root, "openmoji"));
        Assert.Equal(("girl", 2), (openmoji.Emoji, openmoji.Tone));
        Assert.Throws<ArgumentException>(() => Faces.Catalog(root, "apple"));
    }
}
