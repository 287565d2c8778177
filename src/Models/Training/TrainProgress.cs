namespace GanService.Models.Training;

/// <summary>A snapshot a trainer reports after a step: where it is and how it goes.</summary>
public sealed record TrainProgress(long Step, long TotalSteps, int Epoch, double LossD, double LossG, double ImagesPerSecond)
{
    public double Fraction => TotalSteps == 0 ? 1 : (double)Step / TotalSteps;
}
