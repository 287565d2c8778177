using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GanService.Models.Layers;

public static class Init
{
    /// <summary>DCGAN initialisation: conv weights N(0, 0.02) (2D and 3D), BatchNorm weight N(1, 0.02) and bias 0.</summary>
    public static void Dcgan(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Conv2d c: nn.init.normal_(c.weight!, 0.0, 0.02); break;
                case StableConv2d c: nn.init.normal_(c.Weight, 0.0, 0.02); break;
                case ConvTranspose2d c: nn.init.normal_(c.weight!, 0.0, 0.02); break;
                case Conv3d c: nn.init.normal_(c.weight!, 0.0, 0.02); break;
                case ConvTranspose3d c: nn.init.normal_(c.weight!, 0.0, 0.02); break;
                case Linear l: nn.init.normal_(l.weight!, 0.0, 0.02); break;
                case LatentProjection p: nn.init.normal_(p.Weight, 0.0, 0.02); break;
                case BatchNorm2d b:
                    nn.init.normal_(b.weight!, 1.0, 0.02);
                    nn.init.zeros_(b.bias!);
                    break;
                case BatchNorm3d b:
                    nn.init.normal_(b.weight!, 1.0, 0.02);
                    nn.init.zeros_(b.bias!);
                    break;
            }
        }
    }
}
