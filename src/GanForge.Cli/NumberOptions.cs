using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Numerics;

namespace GanForge.Cli;

/// <summary>
/// Numeric options whose parse errors are in the user's words ("--lr: 'abc' is not a number"), where
/// System.CommandLine's own would name the .NET type (System.Nullable`1[System.Single]).
/// </summary>
static class NumberOptions
{
    /// <summary>An option that is null unless given.</summary>
    public static Option<T?> Optional<T>(string name, string description) where T : struct, INumber<T>, IMinMaxValue<T> =>
        new(name) { Description = description, CustomParser = r => r.Tokens.Count == 0 ? null : Parse<T>(r, name) };

    /// <summary>An option with a default value.</summary>
    public static Option<T> WithDefault<T>(string name, string description, T value) where T : struct, INumber<T>, IMinMaxValue<T> =>
        new(name) { Description = description, DefaultValueFactory = _ => value, CustomParser = r => r.Tokens.Count == 0 ? value : Parse<T>(r, name) ?? value };

    static T? Parse<T>(ArgumentResult result, string name) where T : struct, INumber<T>, IMinMaxValue<T>
    {
        var token = result.Tokens[^1].Value;
        bool real = typeof(T) == typeof(float) || typeof(T) == typeof(double);
        if (T.TryParse(token, real ? NumberStyles.Float : NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)) return value;
        string kind = real ? "a number"
            : double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _) ? $"a whole number from {T.MinValue} to {T.MaxValue}"
            : T.MinValue == T.Zero ? "a whole number, 0 or more" : "a whole number";
        result.AddError($"{name}: '{token}' is not {kind}");
        return null;
    }
}
