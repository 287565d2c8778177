using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Bench;

/// <summary>
/// <c>scalar-race [seconds] [rounds]</c>: does a TorchSharp Scalar that only lives for one call get freed while libtorch
/// still reads it? TorchSharp's <c>Tensor.add_(Scalar)</c> turns <c>1</c> into a Scalar, passes its handle to native
/// code and never touches the object again, so a GC that runs while the call is in native code may finalize it (the
/// finalizer frees the native Scalar). A helper thread forces GCs the whole time; the main thread counts with
/// <c>add_</c> on a one-element tensor, once with temporary Scalars (what BatchNorm's <c>num_batches_tracked.add_(1)</c>
/// does) and once with Scalars held for the whole loop, in alternating rounds. A round is wrong when libtorch throws or
/// the count is not the number of calls made.
/// </summary>
public static class ScalarRaceBench
{
    public static int Run(string[] args)
    {
        double seconds = args.Length > 1 ? double.Parse(args[1]) : 10;
        int rounds = args.Length > 2 ? int.Parse(args[2]) : 3;
        set_num_threads(1);
        Console.WriteLine($"scalar-race: {rounds} rounds of {seconds} s per variant, a helper thread forcing gen-0 GCs throughout");
        var totals = new Dictionary<string, (long Calls, long Errors, long Wrong)>();
        for (int r = 0; r < rounds; r++)
        {
            foreach (var variant in new[] { "temporary", "held" })
            {
                var (calls, errors, wrong, gcs, firstError) = Round(variant, seconds);
                Console.WriteLine($"round {r + 1} {variant,-9}: {calls,10:N0} calls, {gcs,7:N0} GCs, {errors} libtorch errors, {wrong} wrong sums" +
                                  (firstError is null ? "" : $" (first: {firstError})"));
                var t = totals.GetValueOrDefault(variant);
                totals[variant] = (t.Calls + calls, t.Errors + errors, t.Wrong + wrong);
            }
        }
        foreach (var (variant, t) in totals)
            Console.WriteLine($"total {variant,-9}: {t.Calls:N0} calls, {t.Errors} errors ({1e6 * t.Errors / Math.Max(1, t.Calls):F2} per million), {t.Wrong} wrong sums");
        return 0;
    }

    private static (long Calls, long Errors, long Wrong, long Gcs, string? FirstError) Round(string variant, double seconds)
    {
        using var counter = zeros(1, dtype: ScalarType.Int64);
        using var sum = zeros(1, dtype: ScalarType.Float64);
        using Scalar one = 1, oneDouble = 1.0;
        long calls = 0, errors = 0, expected = 0;
        string? firstError = null;
        using var stop = new CancellationTokenSource();
        long gcs = 0;
        var helper = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                Interlocked.Increment(ref gcs);
            }
        }) { IsBackground = true };
        helper.Start();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            for (int i = 0; i < 1000; i++)
            {
                try
                {
                    calls++;
                    if (variant == "temporary")
                    {
                        counter.add_(1);                // int Scalar and int alpha, both temporary
                        sum.add_(1.0);                  // double Scalar, int alpha
                    }
                    else
                    {
                        counter.add_(one, one);
                        sum.add_(oneDouble, one);
                    }
                    expected++;
                }
                catch (ExternalException e)
                {
                    errors++;
                    firstError ??= e.Message.Split('\n')[0];
                    // The failed call may or may not have added; resynchronise with what the tensors now hold.
                    expected = counter.item<long>();
                    sum.fill_(expected);
                }
            }
        }
        stop.Cancel();
        helper.Join();
        GC.KeepAlive(one);
        GC.KeepAlive(oneDouble);
        long wrong = (counter.item<long>() != expected ? 1 : 0) + (sum.item<double>() != expected ? 1 : 0);
        return (calls, errors, wrong, gcs, firstError);
    }
}
