using FFMpegCore;
using FFMpegCore.Enums;
using SkiaSharp;

namespace GanService.Workers.Inference;

/// <summary>
/// Writes a clip (8-bit RGB HWC frames) as an animated GIF or WebP, which every browser plays, or as H.264 MP4 through
/// the distribution's ffmpeg (FFMpegCore) when the machine has it. GIF: one palette of up to 256 colours for the whole
/// clip (median cut over every frame, so a static background keeps its colours from frame to frame), LZW as GIF89a
/// specifies, looping forever. WebP: each frame lossless-encoded by libwebp (SkiaSharp), then muxed as the WebP
/// container's animation (VP8X + ANIM + one ANMF per frame), looping forever.
/// </summary>
public static class VideoEncoder
{
    public static byte[] Encode(IReadOnlyList<byte[]> frames, int width, int height, int fps, string format, string? ffmpegFolder = null) => format switch
    {
        "gif" => Gif(frames, width, height, fps),
        "webp" => Webp(frames, width, height, fps),
        "mp4" => Mp4(frames, width, height, fps, ffmpegFolder),
        _ => throw new ArgumentException($"Unknown video format '{format}'."),
    };

    /// <summary>Whether ffmpeg is found (in <paramref name="folder"/>, else on PATH), so MP4 can be written.</summary>
    public static bool HasFfmpeg(string? folder = null)
    {
        var dirs = string.IsNullOrEmpty(folder)
            ? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            : [folder];
        return dirs.Any(d => File.Exists(Path.Combine(d, "ffmpeg")));
    }

    // ---- GIF89a ----

    public static byte[] Gif(IReadOnlyList<byte[]> frames, int width, int height, int fps)
    {
        var palette = MedianCut(frames, 256);
        var lookup = new Dictionary<int, byte>();
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("GIF89a"u8);
        w.Write((ushort)width);
        w.Write((ushort)height);
        w.Write((byte)0xF7);        // global colour table of 256 entries, 8 bits per primary
        w.Write((byte)0);           // background colour index
        w.Write((byte)0);           // pixel aspect ratio: unspecified
        for (int i = 0; i < 256; i++)
        {
            (int R, int G, int B) c = i < palette.Count ? palette[i] : (0, 0, 0);
            w.Write((byte)c.R);
            w.Write((byte)c.G);
            w.Write((byte)c.B);
        }
        w.Write([0x21, 0xFF, 0x0B]);  // application extension: NETSCAPE2.0 looping, 0 = forever
        w.Write("NETSCAPE2.0"u8);
        w.Write([0x03, 0x01, 0x00, 0x00, 0x00]);
        ushort delay = (ushort)Math.Max(2, (int)Math.Round(100.0 / fps)); // hundredths of a second; browsers treat < 2 as 10
        var indices = new byte[width * height];
        foreach (var frame in frames)
        {
            w.Write([0x21, 0xF9, 0x04, 0x04]); // graphic control: disposal "do not dispose", no transparency
            w.Write(delay);
            w.Write([(byte)0, (byte)0]);
            w.Write((byte)0x2C);
            w.Write((ushort)0);
            w.Write((ushort)0);
            w.Write((ushort)width);
            w.Write((ushort)height);
            w.Write((byte)0);           // no local colour table, not interlaced
            for (int p = 0; p < indices.Length; p++)
            {
                int rgb = frame[3 * p] << 16 | frame[3 * p + 1] << 8 | frame[3 * p + 2];
                if (!lookup.TryGetValue(rgb, out var index)) lookup[rgb] = index = Nearest(palette, frame[3 * p], frame[3 * p + 1], frame[3 * p + 2]);
                indices[p] = index;
            }
            w.Write((byte)8);           // LZW minimum code size
            var lzw = Lzw(indices);
            for (int at = 0; at < lzw.Length; at += 255)
            {
                int n = Math.Min(255, lzw.Length - at);
                w.Write((byte)n);
                w.Write(lzw, at, n);
            }
            w.Write((byte)0);
        }
        w.Write((byte)0x3B);
        w.Flush();
        return ms.ToArray();
    }

    private static byte Nearest(List<(int R, int G, int B)> palette, int r, int g, int b)
    {
        int best = 0, bestD = int.MaxValue;
        for (int i = 0; i < palette.Count; i++)
        {
            int dr = palette[i].R - r, dg = palette[i].G - g, db = palette[i].B - b, d = dr * dr + dg * dg + db * db;
            if (d < bestD) (best, bestD) = (i, d);
        }
        return (byte)best;
    }

    /// <summary>Heckbert's median cut over the distinct colours (weighted by count): split the box with the widest channel at its median until there are <paramref name="max"/> boxes; each box's mean is a palette entry.</summary>
    private static List<(int R, int G, int B)> MedianCut(IReadOnlyList<byte[]> frames, int max)
    {
        var counts = new Dictionary<int, int>();
        foreach (var f in frames)
            for (int p = 0; p + 2 < f.Length; p += 3)
            {
                int rgb = f[p] << 16 | f[p + 1] << 8 | f[p + 2];
                counts[rgb] = counts.GetValueOrDefault(rgb) + 1;
            }
        var colours = counts.OrderBy(kv => kv.Key).Select(kv => (Rgb: kv.Key, Count: kv.Value)).ToArray();
        if (colours.Length <= max) return colours.Select(c => (c.Rgb >> 16, (c.Rgb >> 8) & 255, c.Rgb & 255)).ToList();
        var boxes = new List<(int Rgb, int Count)[]> { colours };
        while (boxes.Count < max)
        {
            int pick = -1, pickRange = 0, pickChannel = 0;
            for (int i = 0; i < boxes.Count; i++)
            {
                if (boxes[i].Length < 2) continue;
                for (int ch = 0; ch < 3; ch++)
                {
                    int shift = 16 - 8 * ch, lo = 255, hi = 0;
                    foreach (var c in boxes[i]) { int v = (c.Rgb >> shift) & 255; lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
                    if (hi - lo > pickRange) (pick, pickRange, pickChannel) = (i, hi - lo, ch);
                }
            }
            if (pick < 0) break;
            int s = 16 - 8 * pickChannel;
            var sorted = boxes[pick].OrderBy(c => (c.Rgb >> s) & 255).ThenBy(c => c.Rgb).ToArray();
            long total = sorted.Sum(c => (long)c.Count), running = 0;
            int cut = 1;
            for (; cut < sorted.Length - 1; cut++)
            {
                running += sorted[cut - 1].Count;
                if (running * 2 >= total) break;
            }
            boxes[pick] = sorted[..cut];
            boxes.Add(sorted[cut..]);
        }
        return boxes.Select(box =>
        {
            long n = box.Sum(c => (long)c.Count), r = 0, g = 0, b = 0;
            foreach (var c in box) { r += (long)(c.Rgb >> 16) * c.Count; g += (long)((c.Rgb >> 8) & 255) * c.Count; b += (long)(c.Rgb & 255) * c.Count; }
            return ((int)((r + n / 2) / n), (int)((g + n / 2) / n), (int)((b + n / 2) / n));
        }).ToList();
    }

    /// <summary>GIF's variable-width LZW for 8-bit indices: clear code 256, end 257, codes up to 12 bits, LSB first.</summary>
    private static byte[] Lzw(byte[] indices)
    {
        const int clear = 256, end = 257;
        var output = new List<byte>(indices.Length);
        int bitBuffer = 0, bitCount = 0, width = 9, next = 258;
        var table = new Dictionary<int, int>();
        void Emit(int code)
        {
            bitBuffer |= code << bitCount;
            bitCount += width;
            while (bitCount >= 8) { output.Add((byte)bitBuffer); bitBuffer >>= 8; bitCount -= 8; }
        }
        Emit(clear);
        int prefix = indices.Length > 0 ? indices[0] : 0;
        for (int i = 1; i < indices.Length; i++)
        {
            int key = prefix << 8 | indices[i];
            if (table.TryGetValue(key, out var code)) { prefix = code; continue; }
            Emit(prefix);
            if (next < 4096)
            {
                table[key] = next++;
                if (next > 1 << width && width < 12) width++;
            }
            else
            {
                Emit(clear);
                table.Clear();
                next = 258;
                width = 9;
            }
            prefix = indices[i];
        }
        if (indices.Length > 0) Emit(prefix);
        Emit(end);
        if (bitCount > 0) output.Add((byte)bitBuffer);
        return output.ToArray();
    }

    // ---- Animated WebP ----

    public static byte[] Webp(IReadOnlyList<byte[]> frames, int width, int height, int fps)
    {
        using var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write("RIFF"u8);
        w.Write(0u); // patched below
        w.Write("WEBP"u8);
        Chunk(w, "VP8X", [0x02, 0, 0, 0, .. U24(width - 1), .. U24(height - 1)]); // animation flag
        Chunk(w, "ANIM", [255, 255, 255, 255, 0, 0]); // background white, loop forever
        int duration = (int)Math.Round(1000.0 / fps);
        foreach (var frame in frames)
        {
            var still = StillWebp(frame, width, height);
            // The still is RIFF(WEBP (VP8X…)? (ALPH)? VP8/VP8L): the frame data is its image chunks.
            var body = new List<byte>();
            body.AddRange(U24(0));
            body.AddRange(U24(0));
            body.AddRange(U24(width - 1));
            body.AddRange(U24(height - 1));
            body.AddRange(U24(duration));
            body.Add(0x02); // do not blend with the previous frame, no disposal
            for (int at = 12; at + 8 <= still.Length;)
            {
                string id = System.Text.Encoding.ASCII.GetString(still, at, 4);
                int size = BitConverter.ToInt32(still, at + 4), padded = size + (size & 1);
                if (id is "ALPH" or "VP8 " or "VP8L") body.AddRange(still.AsSpan(at, 8 + padded).ToArray());
                at += 8 + padded;
            }
            Chunk(w, "ANMF", [.. body]);
        }
        w.Flush();
        var bytes = ms.ToArray();
        BitConverter.TryWriteBytes(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        return bytes;
    }

    private static byte[] StillWebp(byte[] rgb, int width, int height)
    {
        using var bitmap = ImageEncoder.ToBitmap(rgb, width, height, 3);
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 75))
            ?? throw new InvalidOperationException("SkiaSharp could not encode a WebP frame.");
        return data.ToArray();
    }

    private static byte[] U24(int v) => [(byte)v, (byte)(v >> 8), (byte)(v >> 16)];

    private static void Chunk(BinaryWriter w, string id, byte[] payload)
    {
        w.Write(System.Text.Encoding.ASCII.GetBytes(id));
        w.Write((uint)payload.Length);
        w.Write(payload);
        if ((payload.Length & 1) == 1) w.Write((byte)0);
    }

    // ---- MP4 (ffmpeg) ----

    /// <summary>H.264 (yuv420p, so sides are made even by padding) in an MP4 with its index up front, through ffmpeg.
    /// The raw frames go through a temporary file: piped input needs ffmpeg 8 on Linux (FFMpegCore's README).</summary>
    public static byte[] Mp4(IReadOnlyList<byte[]> frames, int width, int height, int fps, string? ffmpegFolder)
    {
        if (!HasFfmpeg(ffmpegFolder)) throw new NotSupportedException("mp4 needs ffmpeg on the worker, and it has none.");
        var dir = Directory.CreateTempSubdirectory("gan-mp4-");
        try
        {
            string raw = Path.Combine(dir.FullName, "frames.rgb"), mp4 = Path.Combine(dir.FullName, "video.mp4");
            using (var f = File.Create(raw))
                foreach (var frame in frames) f.Write(frame);
            FFMpegArguments
                .FromFileInput(raw, verifyExists: true, o => o
                    .ForceFormat("rawvideo")
                    .WithCustomArgument($"-pixel_format rgb24 -video_size {width}x{height} -framerate {fps}"))
                .OutputToFile(mp4, overwrite: true, o => o
                    .WithVideoCodec(VideoCodec.LibX264)
                    .WithPixelFormat("yuv420p")
                    .WithCustomArgument("-vf pad=ceil(iw/2)*2:ceil(ih/2)*2 -crf 18 -movflags +faststart -threads 1"))
                .Configure(o => o.BinaryFolder = ffmpegFolder ?? "")
                .ProcessSynchronously(throwOnError: true);
            return File.ReadAllBytes(mp4);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
