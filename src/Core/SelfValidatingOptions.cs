using Microsoft.Extensions.Options;

namespace GanService.Core;

/// <summary>Options that say themselves what is wrong with them (null when nothing is).</summary>
public interface ISelfValidatingOptions
{
    string? Validate();
}

/// <summary>Startup fails with the options' own message (e.g. "Storage:S3:Bucket must be set…"), not a generic one.</summary>
public sealed class SelfValidatingOptions<T> : IValidateOptions<T> where T : class, ISelfValidatingOptions
{
    public ValidateOptionsResult Validate(string? name, T options) =>
        options.Validate() is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
}
