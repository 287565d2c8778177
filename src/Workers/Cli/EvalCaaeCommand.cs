using System.Text.Json;
using GanService.Models;
using GanService.Models.Caae;
using GanService.Models.Data;
using static TorchSharp.torch;

namespace GanService.Workers.Cli;

/// <summary>
/// <c>eval-caae</c>: a trained CAAE (--model, the folder train-caae wrote) on every face set: the reconstruction L1 of
/// each face at its own age and gender (in [−1, 1] pixels, so 2 is the largest possible), per set; the held-out set
/// (OpenMoji) is what the model never saw.
/// </summary>
public static class EvalCaaeCommand
{
    public static int Run(CliArgs args)
    {
        string modelDir = args.String("model", "models/caae-faces");
        string dataDir = args.String("data", ".data/datasets");
        set_num_threads(args.Int("threads", 1));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(modelDir, "caae.json")));
        var config = doc.RootElement.GetProperty("config").Deserialize<CaaeConfig>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        using var e = new CaaeEncoder(config);
        using var g = new CaaeGenerator(config);
        Weights.Load(e, Path.Combine(modelDir, "encoder.safetensors"));
        Weights.Load(g, Path.Combine(modelDir, "generator.safetensors"));
        e.eval();
        g.eval();
        foreach (var set in Faces.Sets)
        {
            List<FaceItem> items;
            try { items = Faces.Catalog(dataDir, set); }
            catch (DirectoryNotFoundException) { Console.WriteLine($"{set}: not fetched"); continue; }
            using var scope = NewDisposeScope();
            using var _ = inference_mode();
            var (faces, ages, genders, _) = Faces.Load(items, config.Resolution);
            var recon = g.forward(e.forward(faces), config.Label(ages, genders));
            var l1 = (faces - recon).abs().mean([1, 2, 3]);
            string role = Faces.TrainingSets.Contains(set) ? "trained on" : "held out";
            // Baselines beside it: a blank white image, and the set's mean face.
            float white = (faces - 1).abs().mean().item<float>(), mean = (faces - faces.mean([0], keepdim: true)).abs().mean().item<float>();
            Console.WriteLine($"{set,-12} {role,-10} {items.Count} faces: reconstruction L1 {l1.mean().item<float>():F4} (white {white:F3}, mean face {mean:F3}) " +
                $"(per age group: {string.Join(", ", Faces.AgeGroups.Select((a, i) => $"{a} {l1[ages.eq(i)].mean().item<float>():F3}"))})");
        }
        return 0;
    }
}
