namespace GanService.Api.Tests;

[Collection(ServiceCollection.Name)]
public sealed class WorkerDeviceTests(ServiceHost host)
{
    private static string NativeDir => Path.Combine(Path.GetDirectoryName(ServiceHost.Bin("GanService.Workers"))!, "runtimes", "linux-x64", "native");

    [Fact]
    public async Task Device_verb_reports_the_libtorch_it_loaded_and_no_cuda_here()
    {
        var (code, output) = await host.RunWorkersCliAsync("device");
        Assert.True(code == 0, output);
        Assert.Contains("libtorch: " + Path.Combine(NativeDir, "libtorch_cpu.so"), output);
        Assert.Contains("cuda available: False", output);
    }

    [Fact]
    public async Task A_configured_libtorch_folder_is_put_on_the_library_path_before_libtorch_loads()
    {
        var (code, output) = await host.RunWorkersCliAsync("device", new Dictionary<string, string> { ["GANSERVICE_LIBTORCH_DIR"] = NativeDir });
        Assert.True(code == 0, output);
        Assert.Contains("re-executing with " + NativeDir, output);
        Assert.Contains("LD_LIBRARY_PATH: " + NativeDir, output);
        Assert.Contains("libtorch: " + Path.Combine(NativeDir, "libtorch_cpu.so"), output);
    }

    [Fact]
    public async Task A_missing_libtorch_folder_stops_the_worker_with_its_name()
    {
        var missing = Path.Combine(host.Scratch, "no-such-libtorch");
        var (code, output) = await host.RunWorkersCliAsync("device", new Dictionary<string, string> { ["GANSERVICE_LIBTORCH_DIR"] = missing });
        Assert.NotEqual(0, code);
        Assert.Contains(missing, output);
    }
}
