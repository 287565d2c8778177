using System.Diagnostics;
using System.Text.Json;

namespace GanService.Api.Tests;

/// <summary>
/// deploy/k8s checked by a schema validator (tools/node/validate-k8s.mjs: the Kubernetes API's OpenAPI schemas from
/// kubernetes-models, KEDA's CRD schemas), then what the manifests say about probes, GPUs, shutdown and scaling.
/// </summary>
public sealed class DeployManifestTests
{
    private static readonly string Folder = Path.Combine(ServiceHost.RepoRoot, "deploy", "k8s");

    private static async Task<(int Code, string Out, string Err)> ValidateAsync(params string[] args)
    {
        var start = new ProcessStartInfo("node", [Path.Combine(ServiceHost.RepoRoot, "tools", "node", "validate-k8s.mjs"), .. args])
            { RedirectStandardOutput = true, RedirectStandardError = true };
        using var node = Process.Start(start)!;
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        return (node.ExitCode, await stdout, await stderr);
    }

    private static JsonElement Find(JsonElement docs, string kind, string name) =>
        docs.EnumerateArray().Single(d => d.GetProperty("kind").GetString() == kind && d.GetProperty("metadata").GetProperty("name").GetString() == name);

    [Fact]
    public async Task The_manifests_pass_the_schema_validator()
    {
        var (code, output, errors) = await ValidateAsync(Folder);
        Assert.True(code == 0, output + errors);
        Assert.Equal("10 documents valid, 0 invalid", output.Trim());
    }

    [Fact]
    public async Task The_validator_refuses_a_broken_manifest_naming_the_field()
    {
        var dir = Directory.CreateTempSubdirectory("k8s-broken-").FullName;
        try
        {
            var api = await File.ReadAllTextAsync(Path.Combine(Folder, "api.yaml"));
            Assert.Contains("replicas: 2", api);
            await File.WriteAllTextAsync(Path.Combine(dir, "api.yaml"), api.Replace("replicas: 2", "replicas: two"));
            await File.WriteAllTextAsync(Path.Combine(dir, "keda.yaml"), (await File.ReadAllTextAsync(Path.Combine(Folder, "keda.yaml"))).Replace("scaleTargetRef:", "scaleTarget:"));
            var (code, _, errors) = await ValidateAsync(dir);
            Assert.Equal(1, code);
            Assert.Contains("Deployment ganservice-api: /spec/replicas must be integer", errors);
            Assert.Contains("ScaledObject ganservice-worker: /spec must have required property scaleTargetRef", errors);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_api_is_probed_the_workers_get_a_gpu_and_time_to_finish_and_keda_scales_them_on_the_queue()
    {
        var (code, output, errors) = await ValidateAsync("--dump", Folder);
        Assert.True(code == 0, errors);
        var docs = JsonDocument.Parse(output).RootElement;

        var api = Find(docs, "Deployment", "ganservice-api").GetProperty("spec").GetProperty("template").GetProperty("spec");
        var apiContainer = api.GetProperty("containers")[0];
        Assert.Equal("/health/live", apiContainer.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal("/health/ready", apiContainer.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal(8080, apiContainer.GetProperty("ports")[0].GetProperty("containerPort").GetInt32());
        Assert.True(api.GetProperty("terminationGracePeriodSeconds").GetInt32() > 60, "longer than the longest Prefer: wait");
        Assert.Equal("http", Find(docs, "Service", "ganservice-api").GetProperty("spec").GetProperty("ports")[0].GetProperty("targetPort").GetString());

        var worker = Find(docs, "Deployment", "ganservice-worker").GetProperty("spec").GetProperty("template").GetProperty("spec");
        var workerContainer = worker.GetProperty("containers")[0];
        Assert.Equal("1", workerContainer.GetProperty("resources").GetProperty("limits").GetProperty("nvidia.com/gpu").ToString());
        var config = Find(docs, "ConfigMap", "ganservice-config").GetProperty("data");
        int grace = int.Parse(config.GetProperty("Worker__ShutdownGraceSeconds").GetString()!);
        Assert.True(worker.GetProperty("terminationGracePeriodSeconds").GetInt32() >= grace + 15, "the pod outlives the jobs' grace and Hangfire's stop");
        Assert.Equal(config.GetProperty("Worker__MetricsPort").GetString(), workerContainer.GetProperty("ports")[0].GetProperty("containerPort").GetInt32().ToString());
        foreach (var d in new[] { api, worker })
            Assert.Contains(d.GetProperty("containers")[0].GetProperty("envFrom").EnumerateArray(), e => e.TryGetProperty("secretRef", out var s) && s.GetProperty("name").GetString() == "ganservice-secrets");

        var scaled = Find(docs, "ScaledObject", "ganservice-worker").GetProperty("spec");
        Assert.Equal("ganservice-worker", scaled.GetProperty("scaleTargetRef").GetProperty("name").GetString());
        var trigger = scaled.GetProperty("triggers")[0];
        Assert.Equal("postgresql", trigger.GetProperty("type").GetString());
        Assert.Contains("FROM jobs WHERE status IN ('queued', 'running')", trigger.GetProperty("metadata").GetProperty("query").GetString());
        Assert.Equal(config.GetProperty("Worker__Concurrency").GetString(), trigger.GetProperty("metadata").GetProperty("targetQueryValue").GetString());
    }
}
