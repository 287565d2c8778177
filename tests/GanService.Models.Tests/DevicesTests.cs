using TorchSharp;

namespace GanService.Models.Tests;

public sealed class DevicesTests
{
    [Fact]
    public void Cpu_and_auto_choose_a_device_and_bad_settings_are_refused()
    {
        var (cpu, cpuName) = Devices.Choose(" CPU ");
        Assert.Equal(DeviceType.CPU, cpu.type);
        Assert.Equal("cpu", cpuName);

        var (auto, autoName) = Devices.Choose("auto");
        if (torch.cuda.is_available())
        {
            // A concrete index: the worker asks nvidia-smi about this device by it.
            Assert.Equal((DeviceType.CUDA, 0, "cuda:0"), (auto.type, (int)auto.index, autoName));
        }
        else
        {
            Assert.Equal((DeviceType.CPU, "cpu"), (auto.type, autoName));
            Assert.Throws<InvalidOperationException>(() => Devices.Choose("cuda"));
            Assert.Throws<InvalidOperationException>(() => Devices.Choose("cuda:0"));
        }
        foreach (var bad in new[] { "gpu", "cuda:x", "cuda:-1", "" })
            Assert.ThrowsAny<Exception>(() => Devices.Choose(bad));
        Assert.Throws<ArgumentException>(() => Devices.Choose("tpu"));
    }
}
