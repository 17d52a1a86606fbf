using System.Globalization;
using GanForge.Serialization;

namespace GanForge.Gan.Zoo;

/// <summary>The type of a model option's value.</summary>
public enum OptionKind { Float, Int, Bool, Choice, List }

/// <summary>
/// One option a variant takes (`model-options:` in the config, `--set key=value` on the command line),
/// with its default from the paper and the values it accepts.
/// </summary>
public sealed record ModelOption(string Key, string Default, string Description, OptionKind Kind,
    double Min = double.MinValue, double Max = double.MaxValue, string[]? Choices = null)
{
    public static ModelOption Float(string key, float value, string description, double min = 0, double max = double.MaxValue) =>
        new(key, value.ToString("R", CultureInfo.InvariantCulture), description, OptionKind.Float, min, max);

    public static ModelOption Int(string key, int value, string description, int min = 0, int max = int.MaxValue) =>
        new(key, value.ToString(CultureInfo.InvariantCulture), description, OptionKind.Int, min, max);

    public static ModelOption Bool(string key, bool value, string description) =>
        new(key, value ? "true" : "false", description, OptionKind.Bool);

    public static ModelOption Choice(string key, string value, string description, params string[] choices) =>
        new(key, value, description, OptionKind.Choice, Choices: choices);

    /// <summary>A comma-separated list of distinct <paramref name="choices"/> in the order given, or "none" (DiffAugment's policy).</summary>
    public static ModelOption List(string key, string value, string description, params string[] choices) =>
        new(key, value, description, OptionKind.List, Choices: choices);

    /// <summary>Checks <paramref name="text"/> and returns it in canonical form; a clear error otherwise.</summary>
    public string Parse(string text, string model)
    {
        string where = $"{model}: option '{Key}'";
        text = text.Trim();
        switch (Kind)
        {
            case OptionKind.Float:
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || !double.IsFinite(f))
                    throw new ArgumentException($"{where}: '{MessageText.Quote(text)}' is not a number");
                CheckRange(f, where);
                return ((float)f).ToString("R", CultureInfo.InvariantCulture);
            case OptionKind.Int:
                if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i))
                    throw new ArgumentException($"{where}: '{MessageText.Quote(text)}' is not a whole number");
                CheckRange(i, where);
                return i.ToString(CultureInfo.InvariantCulture);
            case OptionKind.Bool:
                return text.ToLowerInvariant() switch
                {
                    "true" or "yes" or "on" or "1" => "true",
                    "false" or "no" or "off" or "0" => "false",
                    _ => throw new ArgumentException($"{where}: '{MessageText.Quote(text)}' is not true or false"),
                };
            case OptionKind.List:
                var items = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (items.Length == 0 || (items.Length == 1 && items[0].Equals("none", StringComparison.OrdinalIgnoreCase))) return "none";
                var picked = items.Select(item => Choices!.FirstOrDefault(c => c.Equals(item, StringComparison.OrdinalIgnoreCase))
                    ?? throw new ArgumentException($"{where}: '{MessageText.Quote(item)}' is not one of {string.Join(", ", Choices!)} (give a comma-separated list, or none)"));
                return string.Join(",", picked.Distinct());
            default:
                var choice = Choices!.FirstOrDefault(c => c.Equals(text, StringComparison.OrdinalIgnoreCase));
                return choice ?? throw new ArgumentException($"{where}: '{MessageText.Quote(text)}' is not one of {string.Join(", ", Choices!)}");
        }
    }

    void CheckRange(double v, string where)
    {
        if (v < Min || v > Max)
            throw new ArgumentException($"{where}: {v.ToString(CultureInfo.InvariantCulture)} is outside [{Min.ToString(CultureInfo.InvariantCulture)}, " +
                                        $"{(Max == double.MaxValue ? "∞" : Max.ToString(CultureInfo.InvariantCulture))}]");
    }
}

/// <summary>A variant's options with every value resolved: the user's where given, the defaults elsewhere.</summary>
public sealed class ModelOptions
{
    readonly SortedDictionary<string, string> _values;

    ModelOptions(SortedDictionary<string, string> values) => _values = values;

    public static ModelOptions Empty { get; } = new(new SortedDictionary<string, string>(StringComparer.Ordinal));

    /// <summary>Every option by key, in canonical form (what config.yaml records).</summary>
    public IReadOnlyDictionary<string, string> Values => _values;

    /// <summary>Overlays <paramref name="given"/> on the declared defaults; an unknown key names the known ones.</summary>
    public static ModelOptions Resolve(string model, IReadOnlyList<ModelOption> declared, IReadOnlyDictionary<string, string>? given)
    {
        var values = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var o in declared) values[o.Key] = o.Default;
        foreach (var (key, text) in given ?? new Dictionary<string, string>())
        {
            var option = declared.FirstOrDefault(o => o.Key == key)
                ?? throw new ArgumentException(declared.Count == 0
                    ? $"{model}: unknown option '{MessageText.Quote(key)}' (this model takes no options)"
                    : $"{model}: unknown option '{MessageText.Quote(key)}'. Known: {string.Join(", ", declared.Select(o => o.Key))}");
            values[key] = option.Parse(text ?? "", model);
        }
        return new ModelOptions(values);
    }

    /// <summary>True when the variant declares <paramref name="key"/>.</summary>
    public bool Has(string key) => _values.ContainsKey(key);

    public float Float(string key) => float.Parse(Get(key), CultureInfo.InvariantCulture);
    public int Int(string key) => int.Parse(Get(key), CultureInfo.InvariantCulture);
    public bool Bool(string key) => Get(key) == "true";
    public string String(string key) => Get(key);

    string Get(string key) => _values.TryGetValue(key, out var v)
        ? v : throw new InvalidOperationException($"model option '{key}' is not declared by this variant");
}
