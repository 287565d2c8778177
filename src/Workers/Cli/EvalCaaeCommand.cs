using System.Text.Json;
using GanService.Core.Models;
using GanService.Models;
using GanService.Models.Caae;
using GanService.Models.Data;
using GanService.Models.Evaluation;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>eval-caae</c>: a trained CAAE (--model, the folder train-caae wrote) on every face set: the reconstruction L1 of
/// each face at its own age and gender (in [−1, 1] pixels, so 2 is the largest possible), per set, beside trivial
/// baselines; then judges we train on OpenMoji + Fluent Flat re-judge every face drawn at every age (age group, skin
/// tone, gender). Fluent Flat is the held-out vendor. Writes the folder's metrics.json (the version's <c>metrics</c>).
/// </summary>
public static class EvalCaaeCommand
{
    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/caae-faces");
        string dataDir = args.String("data", ".data/datasets");
        set_num_threads(args.Int("threads", 1));
        var manifest = ModelManifest.Read(Path.Combine(modelDir, "model.json"));
        var weights = Path.Combine(modelDir, manifest.Weights);
        using var model = CaaeModel.Load(manifest.Config.GetRawText(), weights);
        var config = model.Config;
        var metrics = new Dictionary<string, object?>
        {
            ["heldOutSet"] = "fluent-flat", ["trainingSets"] = Faces.TrainingSets, ["judgeSets"] = new[] { "openmoji", "fluent-flat" },
        };
        var reconstruction = new Dictionary<string, object>();
        metrics["reconstructionL1"] = reconstruction;
        // Per set: the faces with their labels, and E's codes for them (encoded once, used for both measures).
        var loaded = new Dictionary<string, (List<FaceItem> Items, Tensor Faces, Tensor Ages, Tensor Genders, Tensor Tones, Tensor Z)>();
        foreach (var set in Faces.Sets)
        {
            List<FaceItem> items;
            try { items = Faces.Catalog(dataDir, set); }
            catch (DirectoryNotFoundException) { Console.WriteLine($"{set}: not fetched"); continue; }
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var (faces, ages, genders, tones) = Faces.Load(items, config.Resolution);
            var z = model.Encode(faces);
            loaded[set] = (items, faces.DetachFromDisposeScope(), ages.DetachFromDisposeScope(), genders.DetachFromDisposeScope(), tones.DetachFromDisposeScope(), z.DetachFromDisposeScope());
            var recon = model.Draw(z, ages, genders);
            var l1 = (faces - recon).abs().mean([1, 2, 3]);
            float l1Mean = l1.mean().item<float>();
            // Baselines beside it: a blank white image, and the set's mean face.
            float white = (faces - 1).abs().mean().item<float>(), mean = (faces - faces.mean([0], keepdim: true)).abs().mean().item<float>();
            reconstruction[set] = new { role = Role(set), faces = items.Count, l1 = Math.Round(l1Mean, 4), whiteBaseline = Math.Round(white, 4), meanFaceBaseline = Math.Round(mean, 4) };
            Console.WriteLine($"{set,-12} {Role(set),-10} {items.Count} faces: reconstruction L1 {l1Mean:F4} (white {white:F3}, mean face {mean:F3}) " +
                $"(per age group: {string.Join(", ", Faces.AgeGroups.Select((a, i) => $"{a} {l1[ages.eq(i)].mean().item<float>():F3}"))})");
        }
        if (args.Flag("no-judges") || !loaded.ContainsKey("openmoji") || !loaded.ContainsKey("fluent-flat")) return Write(modelDir, weights, metrics);

        // Judges trained by us on other data than the generator's (OpenMoji + Fluent Flat, augmented): age group, skin
        // tone, gender. Their accuracy on the real faces of the generator's sets says how far to trust them there.
        var judgeData = new[] { loaded["openmoji"], loaded["fluent-flat"] };
        var jFaces = cat(judgeData.Select(d => d.Faces).ToArray());
        using var ageJudge = TrainJudge(jFaces, cat(judgeData.Select(d => d.Ages).ToArray()), Faces.AgeGroups.Count, 11);
        using var toneJudge = TrainJudge(jFaces, cat(judgeData.Select(d => d.Tones).ToArray()), Faces.Tones.Count, 12);
        using var genderJudge = TrainJudge(jFaces, cat(judgeData.Select(d => d.Genders).ToArray()), Faces.Genders.Count, 13);
        var trained = Faces.TrainingSets.Where(loaded.ContainsKey).Select(s => loaded[s]).ToArray();
        var real = (Faces: cat(trained.Select(d => d.Faces).ToArray()), Ages: cat(trained.Select(d => d.Ages).ToArray()),
            Tones: cat(trained.Select(d => d.Tones).ToArray()), Genders: cat(trained.Select(d => d.Genders).ToArray()));
        var judged = (Age: ClassifierTrainer.Accuracy(ageJudge.Model, real.Faces, real.Ages), Tone: ClassifierTrainer.Accuracy(toneJudge.Model, real.Faces, real.Tones),
            Gender: ClassifierTrainer.Accuracy(genderJudge.Model, real.Faces, real.Genders));
        metrics["judgeAccuracyOnRealFaces"] = new { age = Math.Round(judged.Age, 4), tone = Math.Round(judged.Tone, 4), gender = Math.Round(judged.Gender, 4) };
        var aging = new Dictionary<string, object>();
        metrics["aging"] = aging;
        Console.WriteLine($"judges (trained on openmoji + fluent-flat) on the {real.Faces.shape[0]} real faces of the generator's sets: " +
            $"age {judged.Age:P1}, tone {judged.Tone:P1}, gender {judged.Gender:P1}");

        foreach (var set in new[] { "fluent-flat" }.Concat(Faces.TrainingSets).Where(loaded.ContainsKey))
        {
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var d = loaded[set];
            long n = d.Faces.shape[0];
            int groups = config.AgeGroups;
            // Every face at every age group: [groups·n] outputs, target age g for the g-th block.
            var targetAges = arange(groups, ScalarType.Int64).repeat_interleave(n);
            var inputGenders = d.Genders.repeat(groups);
            var targetGenders = Faces.GenderAt(targetAges, inputGenders);
            var outputs = model.Draw(d.Z.repeat(groups, 1), targetAges, targetGenders);
            var ageHit = Predict(ageJudge.Model, outputs).eq(targetAges).to(ScalarType.Float32);
            float ageShare = ageHit.mean().item<float>();
            var byGroup = Faces.AgeGroups.Select((a, i) => (a, i)).ToDictionary(x => x.a, x => ageHit[targetAges.eq(x.i)].mean().item<float>());
            var toneHit = Predict(toneJudge.Model, outputs).eq(d.Tones.repeat(groups)).to(ScalarType.Float32).mean().item<float>();
            var gendered = targetGenders.ne(0);
            var genderHit = Predict(genderJudge.Model, outputs)[gendered].eq(targetGenders[gendered]).to(ScalarType.Float32).mean().item<float>();
            aging[set] = new
            {
                role = Role(set),
                outputs = groups * n,
                inRequestedAgeGroup = Math.Round(ageShare, 4),
                inRequestedAgeGroupByGroup = byGroup.ToDictionary(x => x.Key, x => Math.Round(x.Value, 4)),
                skinToneKept = Math.Round(toneHit, 4),
                genderKept = Math.Round(genderHit, 4),
            };
            Console.WriteLine($"{set,-12} {Role(set),-10} {groups * n} aged outputs: in the requested age group {ageShare:P1} (" +
                string.Join(", ", byGroup.Select(x => $"{x.Key} {x.Value:P0}")) +
                $"); skin tone kept {toneHit:P1}; gender kept {genderHit:P1} (outputs with a gender)");
        }
        return Write(modelDir, weights, metrics);
    }

    private static string Role(string set) => Faces.TrainingSets.Contains(set) ? "trained on" : "held out";

    private static int Write(string modelDir, string weights, Dictionary<string, object?> metrics)
    {
        metrics["evaluatedAt"] = DateTimeOffset.UtcNow;
        metrics["weightsSha256"] = Weights.Sha256(weights);
        var path = Path.Combine(modelDir, "metrics.json");
        File.WriteAllText(path, JsonSerializer.Serialize(metrics, ModelManifest.Json) + "\n");
        Console.WriteLine($"wrote {path}");
        return 0;
    }

    private static ClassifierTrainer TrainJudge(Tensor faces, Tensor labels, int classes, long seed, int steps = 800)
    {
        var trainer = new ClassifierTrainer(new ClassifierTrainOptions(LearningRate: 1e-3, LearningRateDecay: 1, Seed: seed,
            Config: new ClassifierConfig(3, faces.shape[2] is var s ? (int)s : 64, classes, Width: 16)));
        using var gen = new TorchSharp.torch.Generator((ulong)seed);
        long n = faces.shape[0];
        for (int step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            var index = randint(0, n, [32], generator: gen, dtype: ScalarType.Int64);
            trainer.Step(FaceAugment.Apply(faces.index_select(0, index), gen, 4, 0.05), labels.index_select(0, index));
        }
        trainer.Model.eval();
        return trainer;
    }

    private static Tensor Predict(Classifier model, Tensor images) => model.forward(images).argmax(1);

}
