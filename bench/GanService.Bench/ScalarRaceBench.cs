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
/// does) and once with Scalars held for the whole loop, in alternating rounds. Both tensors are read back after every
/// 1,000 calls: each call that did not throw must have added exactly 1, and one that threw 0 or 1. "Wrong" counts the
/// read-backs where that fails: a freed Scalar read as another value without an error.
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
        long calls = 0, wrong = 0, count = 0;   // count: what both tensors hold after each read-back
        long errors = 0;
        bool temporary = variant == "temporary";
        string? firstError = null;
        using var stop = new CancellationTokenSource();
        long gcs = 0;
        var helper = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true);
                Interlocked.Increment(ref gcs);
                Thread.SpinWait(20_000);   // a pause: back-to-back GCs starve the main thread, which blocks whenever it leaves native code mid-GC
            }
        }) { IsBackground = true };
        helper.Start();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            long addedC = 0, thrownC = 0, addedS = 0, thrownS = 0;
            for (int i = 0; i < 1000; i++)
            {
                calls++;
                try
                {
                    if (temporary) counter.add_(1);   // int Scalar and int alpha, both temporary
                    else counter.add_(one, one);
                    addedC++;
                }
                catch (ExternalException e)
                {
                    thrownC++;
                    firstError ??= e.Message.Split('\n')[0];
                }
                try
                {
                    if (temporary) sum.add_(1.0);     // double Scalar, int alpha
                    else sum.add_(oneDouble, one);
                    addedS++;
                }
                catch (ExternalException e)
                {
                    thrownS++;
                    firstError ??= e.Message.Split('\n')[0];
                }
            }
            // A call that did not throw added exactly 1; one that threw, 0 or 1. Anything else is a wrong value.
            long c = counter.item<long>();
            double d = sum.item<double>();
            if (c < count + addedC || c > count + addedC + thrownC) wrong++;
            if (d < count + addedS || d > count + addedS + thrownS) wrong++;
            errors += thrownC + thrownS;
            count = c;
            sum.copy_(counter);   // both hold count again, with no Scalar involved
        }
        stop.Cancel();
        helper.Join();
        GC.KeepAlive(one);
        GC.KeepAlive(oneDouble);
        return (calls, errors, wrong, gcs, firstError);
    }
}
