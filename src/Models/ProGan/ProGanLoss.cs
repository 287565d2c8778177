using static TorchSharp.torch;

namespace GanService.Models.ProGan;

/// <summary>WGAN-GP (Gulrajani et al.) with ProGAN's drift term: keeps the critic's scores near zero.</summary>
public static class ProGanLoss
{
    /// <summary>
    /// Critic loss: E[D(fake)] − E[D(real)] + λ·E[(‖∇D(x̂)‖₂ − 1)²] + drift·E[D(real)²], x̂ on random lines
    /// between real and fake images. Returns the total and its gradient-penalty part.
    /// </summary>
    public static (Tensor Loss, Tensor Penalty) Critic(
        Func<Tensor, Tensor> critic, Tensor real, Tensor fake, double lambda = 10.0, double drift = 1e-3, TorchSharp.torch.Generator? generator = null)
    {
        var realScores = critic(real);
        var fakeScores = critic(fake);
        var eps = rand([real.shape[0], 1, 1, 1], generator: generator).to(real.device);
        var mixed = real.lerp(fake, eps).detach().requires_grad_(true);
        var mixedScores = critic(mixed);
        var grads = autograd.grad([mixedScores.sum()], [mixed], retain_graph: true, create_graph: true)[0];
        var penalty = grads.flatten(1).square().sum([1]).add(1e-12).sqrt().sub(1).square().mean();
        var loss = fakeScores.mean() - realScores.mean() + lambda * penalty + drift * realScores.square().mean();
        return (loss, penalty);
    }

    public static Tensor Generator(Tensor fakeScores) => fakeScores.mean().neg();
}
