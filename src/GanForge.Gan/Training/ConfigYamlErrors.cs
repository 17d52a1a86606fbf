using System.Reflection;
using GanForge.Serialization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;
using YamlDotNet.Serialization.NamingConventions;

namespace GanForge.Gan.Training;

/// <summary>
/// Puts a YAML deserializer error into config.yaml's words: the file, the line, the key as written and the
/// kind of value it takes ("run.yaml line 3: 'lr' expects a number, got a list"), never a .NET type name.
/// </summary>
static class ConfigYamlErrors
{
    public static string Describe(string text, string source, YamlException e)
    {
        string at = $"{source} line {e.Start.Line}";
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode root && Find(root, typeof(TrainConfig), "", e.Start) is { } found)
            {
                var (key, type, value) = found;
                if (type == null) return $"{at}: unknown setting '{MessageText.Quote(key)}'";
                return $"{at}: '{MessageText.Quote(key)}' expects {Kind(type)}, got {Got(value!)}";
            }
        }
        catch (Exception other) when (other is YamlException or InvalidOperationException)
        { /* not YAML the representation model takes either: the parser's own message says where */ }
        return $"{at}: {MessageText.Quote(e.InnerException?.Message ?? e.Message, 160)}";
    }

    /// <summary>
    /// The key at <paramref name="mark"/>: the last entry starting at or before it (the representation model gives a
    /// mapping or sequence only its start), its property type (null when the key is unknown) and its value node.
    /// </summary>
    static (string Key, Type? Type, YamlNode? Value)? Find(YamlMappingNode mapping, Type owner, string prefix, Mark mark)
    {
        var entry = mapping.Children.LastOrDefault(kv => !After(kv.Key.Start, mark));
        if (entry.Key == null) return null;
        var (keyNode, valueNode) = entry;
        string key = prefix + keyNode;
        var type = owner.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => p.CanWrite && HyphenatedNamingConvention.Instance.Apply(p.Name) == keyNode.ToString())?.PropertyType;
        if (type == null) return (key, null, null);
        if (After(keyNode.End, mark) || valueNode is not YamlMappingNode inner) return (key, type, valueNode);
        // optimizers: (group: settings) and model-options: (name: value) are dictionaries by name.
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Dictionary<,>))
        {
            var element = type.GetGenericArguments()[1];
            var item = inner.Children.LastOrDefault(kv => !After(kv.Key.Start, mark));
            if (item.Key == null) return (key, type, valueNode);
            return element != typeof(string) && item.Value is YamlMappingNode settings
                ? Find(settings, element, $"{key}.{item.Key}.", mark) ?? ($"{key}.{item.Key}", element, item.Value)
                : ($"{key}.{item.Key}", element, item.Value);
        }
        if (type.IsClass && type != typeof(string) && !type.IsGenericType) return Find(inner, type, key + ".", mark) ?? (key, type, valueNode);
        return (key, type, valueNode);
    }

    /// <summary>True when <paramref name="at"/> comes after <paramref name="mark"/> in the text.</summary>
    static bool After(Mark at, Mark mark) => (at.Line, at.Column).CompareTo((mark.Line, mark.Column)) > 0;

    static string Kind(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(int) || type == typeof(long)) return "a whole number";
        if (type == typeof(ulong)) return "a whole number, 0 or more";
        if (type == typeof(float) || type == typeof(double)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(string)) return "a single value";
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>)) return "a list";
        return "a mapping of settings (key: value lines)";
    }

    static string Got(YamlNode value) => value switch
    {
        YamlScalarNode s => $"'{MessageText.Quote(s.Value)}'",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "something else",
    };
}
