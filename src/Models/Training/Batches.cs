using TorchSharp;
using static TorchSharp.torch;

namespace GanService.Models.Training;

/// <summary>The mini-batch schedule the trainers share, and evaluation's slicing of a large batch.</summary>
public static class Batches
{
    /// <summary><paramref name="f"/> applied to <paramref name="x"/> in slices of <paramref name="size"/> rows (dim 0), the results concatenated.</summary>
    public static Tensor InSlices(Tensor x, int size, Func<Tensor, Tensor> f) =>
        cat(Enumerable.Range(0, (int)((x.shape[0] + size - 1) / size))
            .Select(i => f(x.narrow(0, i * size, Math.Min(size, x.shape[0] - i * size)))).ToList(), 0);

    /// <summary>
    /// Index tensors of whole mini-batches: a fresh permutation of 0..n-1 each epoch, drawn from one generator seeded
    /// with <paramref name="seed"/>, until <paramref name="totalSteps"/>. Each index is disposed when the next is asked
    /// for; <paramref name="epochEnded"/> runs after each epoch's last batch.
    /// </summary>
    public static IEnumerable<(int Epoch, Tensor Index)> Shuffled(long n, int batchSize, long totalSteps, long seed, Action<int>? epochEnded = null)
    {
        long perEpoch = n / batchSize;
        long step = 0;
        using var shuffle = new torch.Generator((ulong)seed);
        for (int epoch = 0; step < totalSteps; epoch++)
        {
            using var perm = randperm(n, generator: shuffle);
            for (long b = 0; b < perEpoch && step < totalSteps; b++, step++)
            {
                using var index = perm.narrow(0, b * batchSize, batchSize);
                yield return (epoch, index);
            }
            epochEnded?.Invoke(epoch);
        }
    }
}
