using System.Buffers.Binary;
using System.Text.Json;

namespace GanService.Models;

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record SafeTensorEntry(string Name, string DType, long[] Shape, long Begin, long End);

/// <summary>
/// Reads and checks a safetensors file's header (8-byte little-endian length, JSON, then the data) without loading
/// the data: every entry's dtype is known, its byte range matches its shape and lies inside the file, and the ranges
/// tile the data section. Throws <see cref="InvalidDataException"/> naming what is wrong.
/// </summary>
public static class SafeTensorsFile
{
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, int> DTypeBytes = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    public static IReadOnlyList<SafeTensorEntry> ReadHeader(string path)
    {
        using var stream = File.OpenRead(path);
        long length = stream.Length;
        if (length < 8) throw new InvalidDataException($"the file is {length} bytes: too short for a safetensors header.");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        long headerBytes = BinaryPrimitives.ReadInt64LittleEndian(prefix);
        if (headerBytes <= 1 || headerBytes > MaxHeaderBytes || headerBytes > length - 8)
            throw new InvalidDataException($"the header length {headerBytes} does not fit a {length}-byte file: not a safetensors file, or truncated.");
        var json = new byte[headerBytes];
        stream.ReadExactly(json);
        long dataBytes = length - 8 - headerBytes;

        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new InvalidDataException($"the header is not valid JSON: {e.Message}"); }
        using var _ = doc;
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException("the header is not a JSON object.");
        var entries = new List<SafeTensorEntry>();
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            if (p.Name == "__metadata__") continue;
            try
            {
                var dtype = p.Value.GetProperty("dtype").GetString() ?? "";
                if (!DTypeBytes.TryGetValue(dtype, out int size)) throw new InvalidDataException($"tensor '{p.Name}' has unknown dtype '{dtype}'.");
                var shape = p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (shape.Any(d => d < 0) || offsets.Length != 2) throw new InvalidDataException($"tensor '{p.Name}' has a malformed shape or data_offsets.");
                long expected = shape.Aggregate(1L, (a, d) => checked(a * d)) * size;
                if (offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataBytes)
                    throw new InvalidDataException($"tensor '{p.Name}' lies at bytes {offsets[0]}..{offsets[1]} but the data section has {dataBytes}: truncated or corrupt.");
                if (offsets[1] - offsets[0] != expected)
                    throw new InvalidDataException($"tensor '{p.Name}' has {offsets[1] - offsets[0]} bytes for shape [{string.Join(", ", shape)}] of {dtype} ({expected} expected).");
                entries.Add(new SafeTensorEntry(p.Name, dtype, shape, offsets[0], offsets[1]));
            }
            catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
            {
                throw new InvalidDataException($"tensor '{p.Name}' has a malformed entry: {e.Message}");
            }
        }
        long covered = 0;
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            if (e.Begin != covered) throw new InvalidDataException($"tensor '{e.Name}' starts at byte {e.Begin}, expected {covered}: overlapping or gapped data.");
            covered = e.End;
        }
        if (covered != dataBytes) throw new InvalidDataException($"the tensors cover {covered} of the {dataBytes} data bytes.");
        return entries;
    }
}
