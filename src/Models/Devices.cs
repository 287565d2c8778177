using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models;

/// <summary>Where models run: <c>auto</c> (the first CUDA device when libtorch finds one, else the CPU), <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
public static class Devices
{
    public static (Device Device, string Name) Choose(string setting)
    {
        setting = setting.Trim().ToLowerInvariant();
        if (setting == "cpu") return (CPU, "cpu");
        bool cudaOk = cuda.is_available();
        if (setting == "auto") return cudaOk ? (new Device(DeviceType.CUDA, 0), "cuda:0") : (CPU, "cpu");
        if (setting == "cuda" || setting.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cudaOk) throw new InvalidOperationException($"The device is '{setting}' but libtorch finds no CUDA device.");
            int index = 0;
            if (setting != "cuda" && !(int.TryParse(setting[5..], out index) && index >= 0))
                throw new ArgumentException($"The device must be auto, cpu, cuda or cuda:N, not '{setting}'.");
            if (index >= cuda.device_count()) throw new ArgumentException($"The device is '{setting}' but libtorch finds {cuda.device_count()} CUDA device(s).");
            return (new Device(DeviceType.CUDA, index), $"cuda:{index}");
        }
        throw new ArgumentException($"The device must be auto, cpu, cuda or cuda:N, not '{setting}'.");
    }
}
