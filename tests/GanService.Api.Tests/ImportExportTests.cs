using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace GanService.Api.Tests;

/// <summary>POST /v1/models/import and GET /v1/models/{name}/weights over real HTTP; generation by a real worker.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ImportExportTests(ServiceHost host)
{
    private async Task<(HttpResponseMessage Response, JsonElement Body)> ImportAsync(
        string name, string family, string config, byte[]? weights, string? labels = null)
    {
        using var form = new MultipartFormDataContent();
        form.Add(new StringContent(name), "name");
        form.Add(new StringContent(family), "family");
        form.Add(new StringContent(config), "config");
        if (labels is not null) form.Add(new StringContent(labels), "labels");
        if (weights is not null)
        {
            var file = new ByteArrayContent(weights);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "weights", "generator.safetensors");
        }
        var response = await host.Client.PostAsync("/v1/models/import", form);
        return (response, await Http.ReadAsync(response));
    }

    private async Task<(JsonElement Model, byte[] Weights)> ExportAsync(string name)
    {
        var (response, model) = await host.Client.GetJsonAsync($"/v1/models/{name}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var weights = await host.Client.GetAsync($"/v1/models/{name}/weights");
        Assert.Equal(HttpStatusCode.OK, weights.StatusCode);
        var bytes = await weights.Content.ReadAsByteArrayAsync();
        Assert.Equal(model.GetProperty("sha256").GetString(), Http.Sha(bytes));
        return (model, bytes);
    }

    private Task<long> ModelCountAsync() => host.ScalarAsync<long>("SELECT count(*) FROM model_versions");

    [Fact]
    public async Task Exported_weights_and_config_import_under_a_new_name_and_generate_the_same_pixels()
    {
        var (model, weights) = await ExportAsync("dcgan-fashion");
        var name = "dcgan-copy-" + Guid.NewGuid().ToString("N")[..8];
        var labels = string.Join(",", model.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        var (response, imported) = await ImportAsync(name, "dcgan", model.GetProperty("config").GetRawText(), weights, labels);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {imported}");
        Assert.Equal(model.GetProperty("sha256").GetString(), imported.GetProperty("sha256").GetString());
        Assert.Equal(model.GetProperty("version").GetString(), imported.GetProperty("version").GetString());

        var original = await host.Client.GenerateAsync("""{"model":"dcgan-fashion","count":1,"seed":9,"label":"bag"}""");
        var copy = await host.Client.GenerateAsync($$"""{"model":"{{name}}","count":1,"seed":9,"label":"bag"}""");
        Assert.Equal(Http.Sha(await host.Client.DownloadAsync(original.GetProperty("outputs")[0])),
            Http.Sha(await host.Client.DownloadAsync(copy.GetProperty("outputs")[0])));
    }

    [Fact]
    public async Task Mismatched_corrupt_or_misdescribed_imports_answer_400_naming_the_field_and_register_nothing()
    {
        var (model, weights) = await ExportAsync("dcgan-fashion");
        var config = model.GetProperty("config").GetRawText();
        var wider = JsonSerializer.Serialize(JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(config)!
            .ToDictionary(kv => kv.Key, kv => kv.Key == "ngf" ? JsonDocument.Parse("64").RootElement : kv.Value));
        var labels = string.Join(",", model.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        var random = new byte[4096];
        new Random(1).NextBytes(random);
        var cases = new (string Family, string Config, byte[]? Weights, string? Labels, string Field, string Says)[]
        {
            ("dcgan", wider, weights, labels, "weights", "the config needs"),
            ("progan", """{"finalResolution":32,"channels":1,"latentDim":100}""", weights, null, "weights", "missing"),
            ("dcgan", config, weights[..(weights.Length / 2)], labels, "weights", "truncated"),
            ("dcgan", config, random, labels, "weights", "safetensors"),
            ("dcgan", config, [], labels, "weights", "required"),
            ("dcgan", config, null, labels, "weights", "required"),
            ("dcgan", "{not json", weights, labels, "config", "invalid"),
            ("dcgan", config.TrimEnd('}') + ""","extra":1}""", weights, labels, "config", "extra"),
            ("dcgan", """{"imageSize":48,"channels":1,"latentDim":100,"numClasses":10,"ngf":32,"ndf":32}""", weights, labels, "config", "invalid"),
            ("stylegan", config, weights, labels, "family", "stylegan"),
            ("dcgan", config, weights, "a,b,c", "labels", "10 classes"),
        };
        foreach (var c in cases)
        {
            long before = await ModelCountAsync();
            var (response, problem) = await ImportAsync("import-bad-" + Guid.NewGuid().ToString("N")[..6], c.Family, c.Config, c.Weights, c.Labels);
            Http.AssertProblem(response, problem, HttpStatusCode.BadRequest, c.Field);
            Assert.Contains(c.Says, problem.GetProperty("errors").GetProperty(c.Field)[0].GetString());
            Assert.Equal(before, await ModelCountAsync());
        }
        var (taken, takenProblem) = await ImportAsync("dcgan-fashion", "progan", """{"finalResolution":32}""", weights);
        Http.AssertProblem(taken, takenProblem, HttpStatusCode.BadRequest, "weights");
    }

    [Fact]
    public async Task The_export_and_import_commands_round_trip_a_version_and_refuse_mismatched_weights()
    {
        var dir = Path.Combine(host.Scratch, "export-" + Guid.NewGuid().ToString("N")[..6]);
        var (code, output) = await host.RunWorkersCliAsync($"export --model dcgan-fashion --out \"{dir}\"");
        Assert.True(code == 0, output);
        var (model, weights) = await ExportAsync("dcgan-fashion");
        Assert.Equal(Http.Sha(weights), Http.Sha(await File.ReadAllBytesAsync(Path.Combine(dir, "generator.safetensors"))));

        var name = "dcgan-cli-" + Guid.NewGuid().ToString("N")[..6];
        var labels = string.Join(",", model.GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        (code, output) = await host.RunWorkersCliAsync(
            $"import --name {name} --family dcgan --config \"{Path.Combine(dir, "config.json")}\" --weights \"{Path.Combine(dir, "generator.safetensors")}\" --labels {labels}");
        Assert.True(code == 0, output);
        Assert.Equal(model.GetProperty("version").GetString(), await host.ScalarAsync<string>(
            "SELECT v.version FROM models m JOIN model_versions v ON v.id = m.current_version_id WHERE m.name = @n", ("n", name)));

        long before = await ModelCountAsync();
        var wide = Path.Combine(dir, "wide.json");
        await File.WriteAllTextAsync(wide, """{"imageSize":32,"channels":1,"latentDim":100,"numClasses":10,"ngf":64,"ndf":32}""");
        (code, output) = await host.RunWorkersCliAsync(
            $"import --name {name}-wide --family dcgan --config \"{wide}\" --weights \"{Path.Combine(dir, "generator.safetensors")}\"");
        Assert.Equal(1, code);
        Assert.Contains("the config needs", output);
        Assert.Equal(before, await ModelCountAsync());
    }

    [Fact]
    public async Task Import_and_export_are_admin_only_and_unknown_models_answer_404()
    {
        var jobsOnly = await host.InsertKeyAsync("jobs-only-import", "jobs");
        using var client = host.NewClient(jobsOnly.Key);
        var export = await client.GetAsync("/v1/models/dcgan-fashion/weights");
        Assert.Equal(HttpStatusCode.Forbidden, export.StatusCode);
        using var form = new MultipartFormDataContent { { new StringContent("x"), "name" } };
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync("/v1/models/import", form)).StatusCode);
        var (missing, problem) = await host.Client.GetJsonAsync("/v1/models/no-such-model/weights");
        Http.AssertProblem(missing, problem, HttpStatusCode.NotFound);
        var (badPin, pinProblem) = await host.Client.GetJsonAsync("/v1/models/dcgan-fashion@123");
        Http.AssertProblem(badPin, pinProblem, HttpStatusCode.NotFound);
    }
}
