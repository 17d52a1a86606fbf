using System.Globalization;
using System.Text;

namespace GanForge.Serialization;

/// <summary>
/// Text taken from a user's file (a name, a value, a header) made fit for a one-line error message: control and
/// formatting characters escaped (\u001b), so a damaged file cannot break the line or drive the terminal, and long
/// text cut short.
/// </summary>
public static class MessageText
{
    /// <summary><paramref name="text"/> with control characters escaped, cut to <paramref name="max"/> characters and "...".</summary>
    public static string Quote(string? text, int max = 64)
    {
        if (text == null) return "";
        var sb = new StringBuilder(Math.Min(text.Length, max) + 8);
        foreach (char c in text)
        {
            if (sb.Length >= max) { sb.Append("..."); break; }
            if (NeedsEscape(c)) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>A message made one line: every control character escaped, nothing cut (the CLI's last guard).</summary>
    public static string OneLine(string message) => message.Any(NeedsEscape) ? Quote(message, int.MaxValue) : message;

    static bool NeedsEscape(char c) => char.GetUnicodeCategory(c) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;
}
