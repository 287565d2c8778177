using System.Net.Http.Headers;
using System.Text;

namespace GanService.Api.Tests;

/// <summary>Deterministic (seeded) mutations of a valid JSON body of one endpoint: type swaps, huge numbers, deep
/// nesting, random bytes, truncation, flipped bytes, renamed or duplicated keys, non-object roots, edge values.</summary>
public sealed class BodyFuzzer(IReadOnlyDictionary<string, string> valid, IReadOnlyDictionary<string, string[]> edges)
{
    /// <summary>POST /v1/generations. The webhook points at a port on loopback that nothing serves (the test hosts
    /// allow 127.0.0.1), so an accepted body's deliveries fail at once.</summary>
    public static readonly BodyFuzzer Generations = new(
        new Dictionary<string, string>
        {
            ["model"] = "\"dcgan-fashion\"", ["count"] = "1", ["seed"] = "42", ["label"] = "\"sneaker\"", ["truncation"] = "0.7",
            ["format"] = "\"png\"", ["webhook"] = "\"http://127.0.0.1:9/hook\"", ["webhookEvents"] = "[\"completed\"]",
        },
        new Dictionary<string, string[]>
        {
            ["count"] = ["1", "2", "4", "64", "65"],
            ["seed"] = ["0", "9223372036854775807", "-9223372036854775808", "-1", "1234567890123"],
            ["label"] = ["\"ankle-boot\"", "\"T-SHIRT\"", "null"],
            ["truncation"] = ["1", "1e-9", "0.5", "null", "0"],
            ["format"] = ["\"png\"", "\"WEBP\"", "\"jpeg\""],
            ["webhookEvents"] = ["[\"start\",\"progress\",\"completed\"]", "[\"COMPLETED\"]", "[]", "[\"completed\",\"completed\"]"],
        });

    /// <summary>POST /v1/videos: a short clip of the video model; edges include latent walks and the wrong kinds of model.</summary>
    public static readonly BodyFuzzer Videos = new(
        new Dictionary<string, string>
        {
            ["model"] = "\"vgan-moving-fashion\"", ["seed"] = "4", ["frames"] = "4", ["format"] = "\"gif\"", ["fps"] = "8",
            ["fromSeed"] = "null", ["toSeed"] = "null", ["label"] = "null",
            ["webhook"] = "\"http://127.0.0.1:9/hook\"", ["webhookEvents"] = "[\"completed\"]",
        },
        new Dictionary<string, string[]>
        {
            ["model"] = ["\"dcgan-fashion\"", "\"caae-faces\"", "\"VGAN-MOVING-FASHION\"", "null"],
            ["frames"] = ["2", "16", "17", "0", "-1", "null"],
            ["format"] = ["\"webp\"", "\"GIF\"", "\"avi\"", "null"],
            ["fps"] = ["1", "60", "61", "0"],
            ["fromSeed"] = ["1", "-9223372036854775808"],
            ["toSeed"] = ["2", "9223372036854775807"],
            ["label"] = ["\"bag\"", "\"hat\""],
        });

    /// <summary>POST /v1/text-to-image: edges include prompts at and past the length limit, control characters, a lone
    /// surrogate, blank text, and a model of the wrong kind.</summary>
    public static readonly BodyFuzzer TextToImage = new(
        new Dictionary<string, string>
        {
            ["model"] = "\"stackgan-emoji\"", ["prompt"] = "\"red apple\"", ["count"] = "1", ["seed"] = "42", ["includeStageOne"] = "false",
            ["format"] = "\"png\"", ["webhook"] = "\"http://127.0.0.1:9/hook\"", ["webhookEvents"] = "[\"completed\"]",
        },
        new Dictionary<string, string[]>
        {
            ["prompt"] =
            [
                "\"a\"", "\"" + new string('p', 256) + "\"", "\"" + new string('p', 257) + "\"", "\"\\u0000\"", "\"\\ud800\"", "\"   \"",
                "\"😀 red apple\"", "\"RED\\tApple\\n\"", "\"\\u0007bell\"",
            ],
            ["count"] = ["1", "16", "17", "0"],
            ["includeStageOne"] = ["true", "false", "null"],
            ["model"] = ["\"dcgan-fashion\"", "\"STACKGAN-EMOJI\"", "null"],
            ["format"] = ["\"png\"", "\"WEBP\"", "\"gif\""],
        });

    /// <summary>POST /v1/trainings, a run small enough to cancel at once.</summary>
    public static readonly BodyFuzzer Trainings = new(
        new Dictionary<string, string>
        {
            ["family"] = "\"progan\"", ["dataset"] = "\"fashion-mnist\"", ["name"] = "\"sweep-progan\"", ["latentDim"] = "8",
            ["fmapBase"] = "32", ["fmapMax"] = "8", ["stableKimg"] = "0.05", ["fadeKimg"] = "0.016", ["batchSize"] = "16",
            ["seed"] = "3", ["progressive"] = "true", ["evaluate"] = "false", ["sets"] = "null", ["resolution"] = "null",
        },
        new Dictionary<string, string[]>
        {
            ["resolution"] = ["4", "8", "32", "64", "128", "256", "512", "0", "-4", "null"],
            ["stableKimg"] = ["0", "0.001", "10000", "10000.001", "-1"],
            ["fadeKimg"] = ["0", "10000", "1e-300"],
            ["batchSize"] = ["1", "2", "256", "257", "0"],
            ["latentDim"] = ["1", "512", "513", "0"],
            ["name"] = ["\"a\"", "\"UPPER\"", "\"-leading\"", "\"" + new string('n', 65) + "\"", "\"dcgan-fashion\""],
            ["sets"] = ["[\"google\"]", "[]", "[\"nope\"]"],
        });

    private static readonly string[] HugeNumbers =
    [
        "1e400", "-1e400", "99999999999999999999999999", "9223372036854775808", "-9223372036854775809", "2147483648",
        "-2147483649", "1.7976931348623157e308", "4.9e-324", "-0", "0.0000000000000001", "1e-400", "123456789012345678901234567890.5",
    ];

    private string[] Fields => [.. valid.Keys];

    private Dictionary<string, string> Valid() => new(valid);

    private static string Render(IEnumerable<KeyValuePair<string, string>> fields) =>
        "{" + string.Join(",", fields.Select(f => $"\"{f.Key}\":{f.Value}")) + "}";

    public (string Description, HttpContent Content) Next(Random rng)
    {
        var fields = Valid();
        string field = Fields[rng.Next(Fields.Length)];
        switch (rng.Next(10))
        {
            case 0:
            {
                var value = RandomValue(rng);
                fields[field] = value;
                return Json($"{field} := {Short(value)}", Render(fields));
            }
            case 1:
            {
                var value = HugeNumbers[rng.Next(HugeNumbers.Length)];
                fields[field] = value;
                return Json($"{field} := {value}", Render(fields));
            }
            case 2:
            {
                int depth = rng.Next(2) == 0 ? rng.Next(10, 70) : rng.Next(500, 5000);
                fields[field] = rng.Next(2) == 0
                    ? new string('[', depth) + new string(']', depth)
                    : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
                return Json($"{field} nested {depth} deep", Render(fields));
            }
            case 3:
            {
                var bytes = new byte[rng.Next(1, 600)];
                rng.NextBytes(bytes);
                var content = new ByteArrayContent(bytes);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                return ($"{bytes.Length} random bytes", content);
            }
            case 4:
            {
                var body = Render(fields);
                int cut = rng.Next(0, body.Length);
                return Json($"truncated at {cut}", body[..cut]);
            }
            case 5:
            {
                var body = Encoding.UTF8.GetBytes(Render(fields));
                int flips = rng.Next(1, 4);
                for (int f = 0; f < flips; f++) body[rng.Next(body.Length)] = (byte)rng.Next(256);
                var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                return ($"{flips} byte(s) flipped: {Short(Encoding.UTF8.GetString(body))}", content);
            }
            case 6:
            {
                // Renamed, duplicated or extra keys.
                var list = fields.ToList();
                switch (rng.Next(3))
                {
                    case 0: list.Add(new(RandomKey(rng), RandomValue(rng))); break;
                    case 1: list.Add(new(field, RandomValue(rng))); break;
                    default: list[rng.Next(list.Count)] = new(RandomKey(rng), list[rng.Next(list.Count)].Value); break;
                }
                var body = Render(list);
                return Json($"keys: {Short(body)}", body);
            }
            case 7:
            {
                // The whole body is not an object.
                var body = rng.Next(4) switch
                {
                    0 => "[" + Render(fields) + "]",
                    1 => RandomValue(rng),
                    2 => "\"" + Render(fields).Replace("\"", "\\\"") + "\"",
                    _ => "  \t\r\n ",
                };
                return Json($"root: {Short(body)}", body);
            }
            case 8:
            {
                // Valid values at the edges, some fields left out: these may be accepted.
                foreach (var (f, values) in edges) fields[f] = values[rng.Next(values.Length)];
                var body = Render(fields.Where(_ => rng.Next(3) > 0));
                return Json($"edge: {Short(body)}", body);
            }
            default:
            {
                // Several fields swapped at once.
                foreach (var f in Fields.Where(_ => rng.Next(2) == 0)) fields[f] = RandomValue(rng);
                var body = Render(fields);
                return Json($"multi: {Short(body)}", body);
            }
        }
    }

    private static string RandomValue(Random rng) => rng.Next(12) switch
    {
        0 => "null",
        1 => "true",
        2 => "false",
        3 => rng.Next(int.MinValue, int.MaxValue).ToString(),
        4 => (rng.NextDouble() * 4 - 2).ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        5 => "[]",
        6 => "{}",
        7 => "[1,\"two\",null,{\"x\":[3]}]",
        8 => "\"" + new string('z', rng.Next(1, 20000)) + "\"",
        9 => "\"\\u0000\\ud800\\t\\\"" + RandomString(rng) + "\"",
        10 => "\"" + RandomString(rng) + "\"",
        _ => rng.Next(1, 65).ToString(),
    };

    private static string RandomString(Random rng)
    {
        const string alphabet = "abcXYZ019 -_.é漢😀/\\\\";
        var chars = new StringBuilder();
        int n = rng.Next(0, 30);
        for (int i = 0; i < n; i++)
        {
            char c = alphabet[rng.Next(alphabet.Length)];
            if (c == '\\') chars.Append("\\\\");
            else chars.Append(c);
        }
        return chars.ToString();
    }

    private static string RandomKey(Random rng) => rng.Next(4) switch
    {
        0 => "lable",
        1 => "Count",
        2 => "",
        _ => "x" + rng.Next(1000),
    };

    private static (string, HttpContent) Json(string description, string body) => (description, Http.Json(body));

    private static string Short(string s) => s.Length <= 80 ? s : s[..80] + $"…({s.Length} chars)";
}
