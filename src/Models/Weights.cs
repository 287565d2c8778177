using System.Security.Cryptography;
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

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
