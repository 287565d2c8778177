using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;

namespace GanService.Models.Training;

/// <summary>
/// Checkpoint folders under a root: each save goes to a new <c>step-NNNNNNNNN</c> folder, then <c>root/latest</c> is
/// pointed at it by an atomic rename, so a process killed while saving leaves the previous checkpoint in force. The
/// two committed last are kept.
/// </summary>
public static class Checkpoints
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The (created) folder for a checkpoint at <paramref name="step"/>.</summary>
    public static string Begin(string root, long step)
    {
        var dir = Path.Combine(root, $"step-{step:D9}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>
    /// Makes <paramref name="dir"/> (written completely) the latest checkpoint and drops every other folder but the
    /// one that was latest before it. Newest means committed last, not the highest step: a --fresh run's step 0 beside
    /// an older run's higher steps stays, and those go.
    /// </summary>
    public static void Commit(string root, string dir)
    {
        var previous = Latest(root) is { } p ? Path.GetFileName(p) : null;
        WriteAtomically(Path.Combine(root, "latest"), Path.GetFileName(dir));
        foreach (var old in Directory.GetDirectories(root, "step-*"))
            if (Path.GetFileName(old) is var name && name != Path.GetFileName(dir) && name != previous)
                Directory.Delete(old, recursive: true);
    }

    /// <summary>Writes <paramref name="text"/> to a temporary file and renames it over <paramref name="path"/>: a reader sees the old text or the new, never part of it.</summary>
    public static void WriteAtomically(string path, string text)
    {
        File.WriteAllText(path + ".tmp", text);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    /// <summary>The folder <c>root/latest</c> names, or null when there is no checkpoint yet.</summary>
    public static string? Latest(string root)
    {
        var latest = Path.Combine(root, "latest");
        return File.Exists(latest) ? Path.Combine(root, File.ReadAllText(latest).Trim()) : null;
    }

    /// <summary>Writes a trainer's position (step, config, options) as <c>state.json</c> in <paramref name="dir"/>.</summary>
    public static void WriteState<T>(string dir, T state) =>
        File.WriteAllText(Path.Combine(dir, "state.json"), JsonSerializer.Serialize(state, Json));

    /// <summary>The latest checkpoint's folder and the position its <c>state.json</c> holds, or null when there is none.</summary>
    public static (string Dir, T State)? LatestState<T>(string root)
    {
        if (Latest(root) is not { } dir) return null;
        var state = JsonSerializer.Deserialize<T>(File.ReadAllText(Path.Combine(dir, "state.json")), Json)
            ?? throw new InvalidDataException($"{dir}/state.json is empty.");
        return (dir, state);
    }

    /// <summary>
    /// One checkpoint of a trainer: each module's weights as <c>{name}.safetensors</c>, each optimizer's state as
    /// <c>{name}.bin</c> and the position as <c>state.json</c>, in a new folder committed as the latest. Returns the folder.
    /// </summary>
    public static string Save<T>(string root, long step, T state, IEnumerable<(string Name, torch.nn.Module Module)> modules,
        IEnumerable<(string Name, Adam Optimizer)> optimizers)
    {
        var dir = Begin(root, step);
        foreach (var (name, module) in modules) Weights.Save(module, Path.Combine(dir, name + ".safetensors"));
        foreach (var (name, optimizer) in optimizers) optimizer.save_state_dict(Path.Combine(dir, name + ".bin"));
        WriteState(dir, state);
        Commit(root, dir);
        return dir;
    }

    /// <summary>Loads what <see cref="Save{T}"/> wrote in <paramref name="dir"/> into the same named modules and optimizers.</summary>
    public static void Load(string dir, IEnumerable<(string Name, torch.nn.Module Module)> modules, IEnumerable<(string Name, Adam Optimizer)> optimizers)
    {
        foreach (var (name, module) in modules) Weights.Load(module, Path.Combine(dir, name + ".safetensors"));
        foreach (var (name, optimizer) in optimizers) optimizer.load_state_dict(Path.Combine(dir, name + ".bin"));
    }
}
