using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using GanService.Tests.Shared;
using Npgsql;
using SkiaSharp;

namespace GanService.Api.Tests;

/// <summary>POST /v1/agings over real HTTP, with the real worker running the shipped CAAE.</summary>
[Collection(ServiceCollection.Name)]
public sealed class AgingsTests(ServiceHost host)
{
    private readonly HttpClient client = host.Client;

    private static MultipartFormDataContent Form(byte[]? image, string fileName = "face.png", params (string Name, string Value)[] fields)
    {
        var form = new MultipartFormDataContent();
        if (image is not null)
        {
            var file = new ByteArrayContent(image);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "image", fileName);
        }
        foreach (var (name, value) in fields) form.Add(new StringContent(value), name);
        return form;
    }

    private async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(HttpContent content, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/agings") { Content = content };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        var response = await client.SendAsync(request);
        return (response, await Http.ReadAsync(response));
    }

    /// <summary>Posts with Prefer: wait and returns the finished job.</summary>
    private async Task<JsonElement> AgeAsync(byte[] image, params (string Name, string Value)[] fields)
    {
        var (response, job) = await PostAsync(Form(image, "face", fields), ("Prefer", "wait=60"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {job}");
        Assert.True(job.GetProperty("status").GetString() == "succeeded", job.ToString());
        return job;
    }

    private static SKBitmap Decode(byte[] png) => SKBitmap.Decode(png) ?? throw new InvalidOperationException("not an image");

    /// <summary>Mean absolute difference of two same-sized images' RGB bytes.</summary>
    private static double MeanDifference(SKBitmap a, SKBitmap b, int offsetX = 0)
    {
        double sum = 0;
        for (int y = 0; y < b.Height; y++)
            for (int x = 0; x < b.Width; x++)
            {
                SKColor p = a.GetPixel(x + offsetX, y), q = b.GetPixel(x, y);
                sum += Math.Abs(p.Red - q.Red) + Math.Abs(p.Green - q.Green) + Math.Abs(p.Blue - q.Blue);
            }
        return sum / (3.0 * b.Width * b.Height);
    }

    [Fact]
    public async Task A_face_comes_back_at_each_requested_age_with_the_strip_and_its_upload_kept()
    {
        var face = TestImages.Face(300, 200, SKEncodedImageFormat.Png);
        var job = await AgeAsync(face, ("targetAges", "older, baby"), ("gender", "female"), ("strip", "true"), ("seed", "5"));

        Assert.Equal("aging", job.GetProperty("kind").GetString());
        Assert.Equal("caae-faces", job.GetProperty("model").GetString());
        var input = job.GetProperty("input");
        Assert.Equal(["older", "baby"], input.GetProperty("targetAges").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("female", input.GetProperty("gender").GetString());
        var image = input.GetProperty("image");
        Assert.Equal(("png", 300, 200, (long)face.Length, Http.Sha(face)),
            (image.GetProperty("format").GetString(), image.GetProperty("width").GetInt32(), image.GetProperty("height").GetInt32(),
             image.GetProperty("bytes").GetInt64(), image.GetProperty("sha256").GetString()));
        // The upload is the job's input file, byte for byte.
        var uploaded = await client.GetAsync(job.GetProperty("inputUrl").GetString());
        Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        Assert.Equal("image/png", uploaded.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Http.Sha(face), Http.Sha(await uploaded.Content.ReadAsByteArrayAsync()));

        var outputs = job.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(3, outputs.Count);
        Assert.Equal(("older", "female"), (outputs[0].GetProperty("ageGroup").GetString(), outputs[0].GetProperty("label").GetString()));
        Assert.Equal(("baby", "unspecified"), (outputs[1].GetProperty("ageGroup").GetString(), outputs[1].GetProperty("label").GetString()));
        Assert.False(outputs[2].TryGetProperty("ageGroup", out _));
        Assert.Equal("strip", outputs[2].GetProperty("label").GetString());
        Assert.All(outputs, o => Assert.Equal(5, o.GetProperty("seed").GetInt64()));

        var older = await client.DownloadAsync(outputs[0]);
        var baby = await client.DownloadAsync(outputs[1]);
        var strip = await client.DownloadAsync(outputs[2]);
        Assert.Equal((64, 64), Http.PngSize(older));
        Assert.Equal((64, 64), Http.PngSize(baby));
        Assert.Equal((192, 64), Http.PngSize(strip));
        using var olderBitmap = Decode(older);
        using var babyBitmap = Decode(baby);
        using var stripBitmap = Decode(strip);
        // The age label changes the face; the strip is the input then the outputs, pixel for pixel.
        Assert.True(MeanDifference(olderBitmap, babyBitmap) > 2, "the older and baby faces are (nearly) the same image");
        Assert.Equal(0, MeanDifference(stripBitmap, olderBitmap, offsetX: 64));
        Assert.Equal(0, MeanDifference(stripBitmap, babyBitmap, offsetX: 128));
        // The strip's first tile is the upload as the model saw it: the 200×200 centre on white, so white corners
        // (the face's transparent surroundings) and the red bar's middle along the top.
        Assert.Equal(SKColors.White, stripBitmap.GetPixel(1, 60));
        var top = stripBitmap.GetPixel(32, 1);
        Assert.True(top.Red > 200 && top.Green < 60 && top.Blue < 60, $"expected the red bar at the top, got {top}");
    }

    [Fact]
    public async Task The_same_face_gives_the_same_pixels_and_exif_orientation_is_honoured()
    {
        var face = TestImages.Face(160, 160, SKEncodedImageFormat.Png);
        var a = await AgeAsync(face, ("targetAges", "child"));
        var b = await AgeAsync(face, ("targetAges", "child"), ("seed", "99"));
        Assert.Equal(Http.Sha(await client.DownloadAsync(a.GetProperty("outputs")[0])), Http.Sha(await client.DownloadAsync(b.GetProperty("outputs")[0])));

        // A phone photo stored on its side with EXIF orientation 6 ("rotate 90° clockwise to view") must give what the
        // upright photo gives; without the tag the same pixels are a sideways face, and a different answer.
        var upright = TestImages.Encode(160, 160, c => TestImages.DrawFace(c, 160, 160), SKEncodedImageFormat.Jpeg);
        var sideways = TestImages.Encode(160, 160, c =>
        {
            c.RotateDegrees(-90, 80, 80);
            TestImages.DrawFace(c, 160, 160);
        }, SKEncodedImageFormat.Jpeg);
        async Task<SKBitmap> Adult(byte[] image) => Decode(await client.DownloadAsync((await AgeAsync(image, ("targetAges", "adult"))).GetProperty("outputs")[0]));
        using var fromUpright = await Adult(upright);
        using var fromExif = await Adult(TestImages.WithExifOrientation(sideways, 6));
        using var fromSideways = await Adult(sideways);
        double exif = MeanDifference(fromExif, fromUpright), ignored = MeanDifference(fromSideways, fromUpright);
        Assert.True(exif < ignored / 2, $"EXIF-rotated upload differs from the upright one by {exif:F2}, the unrotated one by {ignored:F2}");
    }

    [Fact]
    public async Task Defaults_are_every_age_group_of_the_default_model_and_the_model_is_listed_with_its_figures()
    {
        var job = await AgeAsync(TestImages.Face(64, 64, SKEncodedImageFormat.Webp), ("format", "webp"));
        var outputs = job.GetProperty("outputs").EnumerateArray().ToList();
        Assert.Equal(["baby", "child", "adult", "older"], outputs.Select(o => o.GetProperty("ageGroup").GetString()));
        Assert.All(outputs, o => Assert.Equal("image/webp", o.GetProperty("contentType").GetString()));
        Assert.Equal("unspecified", job.GetProperty("input").GetProperty("gender").GetString());

        var (_, models) = await client.GetJsonAsync("/v1/models");
        var caae = Assert.Single(models.EnumerateArray(), m => m.GetProperty("name").GetString() == "caae-faces");
        Assert.Equal(("aging", "caae", true), (caae.GetProperty("kind").GetString(), caae.GetProperty("family").GetString(), caae.GetProperty("isDefault").GetBoolean()));
        Assert.Equal(["baby", "child", "adult", "older"], caae.GetProperty("ageGroups").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(["unspecified", "male", "female"], caae.GetProperty("labels").EnumerateArray().Select(a => a.GetString()));
        var heldOut = caae.GetProperty("metrics").GetProperty("aging").GetProperty("fluent-flat");
        Assert.InRange(heldOut.GetProperty("inRequestedAgeGroup").GetDouble(), 0, 1);
        Assert.Equal(job.GetProperty("modelVersion").GetString(), caae.GetProperty("version").GetString());
        var (one, _) = await client.GetJsonAsync("/v1/models/caae-faces");
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        // An aging model is not a generation model, and the other way round.
        var (gen, genBody) = await client.PostAsync("/v1/generations", """{"model":"caae-faces"}""");
        Http.AssertProblem(gen, genBody, HttpStatusCode.BadRequest, "model");
        var (age, ageBody) = await PostAsync(Form(TestImages.Face(64, 64, SKEncodedImageFormat.Png), "f.png", ("model", "dcgan-fashion")));
        Http.AssertProblem(age, ageBody, HttpStatusCode.BadRequest, "model");
    }

    [Fact]
    public async Task Hostile_uploads_get_problem_json_before_anything_is_queued_or_stored_and_the_service_stays_healthy()
    {
        var face = TestImages.Face(96, 96, SKEncodedImageFormat.Png);
        var jpeg = TestImages.Face(96, 96, SKEncodedImageFormat.Jpeg);
        var padded = new byte[10 * 1024 * 1024 + 1];
        face.CopyTo(padded, 0);
        var cases = new (string Name, HttpContent Content, HttpStatusCode Status, string? Field)[]
        {
            ("not an image", Form(Encoding.UTF8.GetBytes("#!/bin/sh\necho this is a shell script, not a face\n"), "face.png"), HttpStatusCode.BadRequest, "image"),
            ("truncated PNG", Form(face[..(face.Length / 2)]), HttpStatusCode.BadRequest, "image"),
            ("truncated JPEG", Form(jpeg[..(jpeg.Length - 40)], "face.jpg"), HttpStatusCode.BadRequest, "image"),
            ("PNG header claiming 100000×100000", Form(TestImages.PngHeaderClaiming(100_000, 100_000)), HttpStatusCode.RequestEntityTooLarge, "image"),
            ("JPEG claiming 65000×65000", Form(TestImages.JpegClaiming(65_000, 65_000), "big.jpg"), HttpStatusCode.RequestEntityTooLarge, "image"),
            ("over 10 MiB", Form(padded), HttpStatusCode.RequestEntityTooLarge, "image"),
            ("GIF", Form(TestImages.Gif89a(), "face.gif"), HttpStatusCode.UnsupportedMediaType, "image"),
            ("BMP", Form(TestImages.Bmp(), "face.png"), HttpStatusCode.UnsupportedMediaType, "image"),
            ("empty file", Form([]), HttpStatusCode.BadRequest, "image"),
            ("missing image", Form(null, fields: ("targetAges", "older")), HttpStatusCode.BadRequest, "image"),
            ("image as a text field", Form(null, fields: ("image", "iVBORw0KGgo=")), HttpStatusCode.BadRequest, "image"),
            ("two images", TwoImages(face), HttpStatusCode.BadRequest, "image"),
            ("unknown age group", Form(face, fields: ("targetAges", "adult,teenager")), HttpStatusCode.BadRequest, "targetAges"),
            ("empty age list", Form(face, fields: ("targetAges", " , ")), HttpStatusCode.BadRequest, "targetAges"),
            ("unknown gender", Form(face, fields: ("gender", "robot")), HttpStatusCode.BadRequest, "gender"),
            ("unknown model", Form(face, fields: ("model", "caae-nope")), HttpStatusCode.BadRequest, "model"),
            ("seed not a number", Form(face, fields: ("seed", "twelve")), HttpStatusCode.BadRequest, "seed"),
            ("seed too large", Form(face, fields: ("seed", "99999999999999999999")), HttpStatusCode.BadRequest, "seed"),
            ("unknown format", Form(face, fields: ("format", "tiff")), HttpStatusCode.BadRequest, "format"),
            ("strip not a boolean", Form(face, fields: ("strip", "sometimes")), HttpStatusCode.BadRequest, "strip"),
            ("misspelt field", Form(face, fields: ("targetAge", "older")), HttpStatusCode.BadRequest, "targetAge"),
            ("field sent twice", Form(face, fields: [("gender", "male"), ("gender", "female")]), HttpStatusCode.BadRequest, "gender"),
            ("webhook to a private address", Form(face, fields: ("webhook", "http://10.0.0.1/hook")), HttpStatusCode.BadRequest, "webhook"),
            ("JSON instead of multipart", Http.Json("""{"image":"face.png"}"""), HttpStatusCode.UnsupportedMediaType, null),
            ("multipart without its boundary", new StringContent("--x\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc\r\n--x--\r\n", Encoding.UTF8, "multipart/form-data"), HttpStatusCode.BadRequest, null),
        };
        long jobsBefore = await host.JobCountAsync();
        int inputsBefore = InputFiles();
        foreach (var (name, content, status, field) in cases)
        {
            var (response, body) = await PostAsync(content);
            Assert.True(response.StatusCode == status, $"{name}: expected {(int)status}, got {(int)response.StatusCode}: {body}");
            Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{name}: {response.Content.Headers.ContentType}");
            Assert.Equal((int)status, body.GetProperty("status").GetInt32());
            if (field is not null)
                Assert.True(body.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _), $"{name}: expected '{field}' named: {body}");
        }
        // A body past the request limit is refused from its Content-Length, before it is read (the client waits for
        // 100-continue, so it does not send the 12 MiB into a closed connection).
        using (var huge = new HttpRequestMessage(HttpMethod.Post, "/v1/agings") { Content = Form(new byte[12 * 1024 * 1024]) })
        {
            huge.Headers.ExpectContinue = true;
            var response = await client.SendAsync(huge);
            Http.AssertProblem(response, await Http.ReadAsync(response), HttpStatusCode.RequestEntityTooLarge);
        }
        Assert.Equal(jobsBefore, await host.JobCountAsync());
        Assert.Equal(inputsBefore, InputFiles());

        var (ready, _) = await client.GetJsonAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        await AgeAsync(face, ("targetAges", "older"));
    }

    [Fact]
    public async Task An_idempotent_retry_returns_the_first_job_and_keeps_no_second_copy_of_the_upload()
    {
        var face = TestImages.Face(80, 80, SKEncodedImageFormat.Png);
        string key = "aging-" + Guid.NewGuid();
        var (first, a) = await PostAsync(Form(face, "f.png", ("targetAges", "adult")), ("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        int inputs = InputFiles();
        var (second, b) = await PostAsync(Form(face, "f.png", ("targetAges", "adult")), ("Idempotency-Key", key));
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal("true", second.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.Equal(inputs, InputFiles());
        // The same key with another image is a different request.
        var (other, otherBody) = await PostAsync(Form(TestImages.Face(81, 80, SKEncodedImageFormat.Png), "f.png", ("targetAges", "adult")), ("Idempotency-Key", key));
        Http.AssertProblem(other, otherBody, HttpStatusCode.UnprocessableEntity);
        Assert.Equal(inputs, InputFiles());

        await using var db = new NpgsqlConnection(host.ConnectionString);
        await db.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT input_key FROM jobs WHERE id = @id", db);
        cmd.Parameters.AddWithValue("id", Guid.Parse(a.GetProperty("id").GetString()!));
        Assert.Equal($"jobs/{Guid.Parse(a.GetProperty("id").GetString()!):N}/input.png", await cmd.ExecuteScalarAsync());
    }

    private static MultipartFormDataContent TwoImages(byte[] face)
    {
        var form = Form(face);
        form.Add(new ByteArrayContent(face), "image", "again.png");
        return form;
    }

    /// <summary>Uploaded files in the blob store (jobs/{id}/input.*).</summary>
    private int InputFiles()
    {
        var dir = Path.Combine(host.Scratch, "blobs", "jobs");
        return Directory.Exists(dir) ? Directory.GetFiles(dir, "input.*", SearchOption.AllDirectories).Length : 0;
    }
}
