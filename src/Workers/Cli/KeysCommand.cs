using GanService.Core.Auth;

namespace GanService.Workers.Cli;

/// <summary>keys create --name N [--scopes jobs,admin] | keys list | keys revoke ID-or-PREFIX</summary>
public static class KeysCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, CliArgs args)
    {
        using var scope = services.CreateScope();
        var store = scope.ServiceProvider.GetRequiredService<ApiKeyStore>();
        switch (args.Positional.FirstOrDefault())
        {
            case "create":
                var name = args.String("name", "unnamed");
                var scopes = args.String("scopes", Scopes.Jobs).Split(',', StringSplitOptions.RemoveEmptyEntries);
                try
                {
                    var (row, key) = await store.CreateAsync(name, scopes, CancellationToken.None);
                    Console.WriteLine($"id      {row.Id}\nname    {row.Name}\nscopes  {string.Join(",", row.Scopes)}\nkey     {key}");
                    Console.Error.WriteLine("Store the key now: only its hash is kept.");
                    return 0;
                }
                catch (ArgumentException e)
                {
                    Console.Error.WriteLine(e.Message);
                    return 2;
                }
            case "list":
                Console.WriteLine($"{"id",-36}  {"prefix",-8}  {"name",-16}  {"scopes",-10}  {"created",-20}  revoked");
                foreach (var k in await store.ListAsync(CancellationToken.None))
                    Console.WriteLine($"{k.Id,-36}  {k.Prefix,-8}  {k.Name,-16}  {string.Join(",", k.Scopes),-10}  {k.CreatedAt:yyyy-MM-dd HH:mm:ss}  {k.RevokedAt?.ToString("yyyy-MM-dd HH:mm:ss") ?? "-"}");
                return 0;
            case "revoke" when args.Positional.Count > 1:
                int n = await store.RevokeAsync(args.Positional[1], CancellationToken.None);
                Console.WriteLine(n == 0 ? "no active key matched" : $"revoked {n} key(s)");
                return n == 0 ? 1 : 0;
            default:
                Console.Error.WriteLine("usage: keys create --name NAME [--scopes jobs,admin] | keys list | keys revoke ID|PREFIX");
                return 2;
        }
    }
}
