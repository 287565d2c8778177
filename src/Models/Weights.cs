using System.Security.Cryptography;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace GanService.Models;

/// <summary>Safetensors with PyTorch key names, loaded strictly, identified by the file's sha256.</summary>
public static class Weights
{
    public static string Save(nn.Module module, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tmp = path + ".tmp";
        module.save_safetensors(tmp);
        File.Move(tmp, path, true);
        return Sha256(path);
    }

    public static void Load(nn.Module module, string path) => module.load_safetensors(path, strict: true);

    /// <summary>Copies every parameter and buffer of <paramref name="from"/> into the same-named one of <paramref name="to"/>, without autograd.</summary>
    public static void Copy(nn.Module from, nn.Module to)
    {
        using var _ = no_grad();
        var target = to.state_dict();
        foreach (var (name, value) in from.state_dict()) target[name].copy_(value);
    }

    /// <summary>
    /// One step of an exponential moving average of weights: every floating-point parameter and buffer of
    /// <paramref name="average"/> becomes β·itself + (1−β)·<paramref name="live"/>'s; integer buffers (BatchNorm's
    /// num_batches_tracked) are copied.
    /// </summary>
    public static void UpdateAverage(nn.Module average, nn.Module live, double beta)
    {
        using var _ = no_grad();
        // Held for the loop: a temporary Scalar can be freed while libtorch reads it (README, Notes for developers).
        using Scalar keep = beta, take = 1 - beta;
        var current = live.state_dict();
        foreach (var (name, value) in average.state_dict())
        {
            if (value.is_floating_point()) value.mul_(keep).add_(current[name], alpha: take);
            else value.copy_(current[name]);
        }
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
