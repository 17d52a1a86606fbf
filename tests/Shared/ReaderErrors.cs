namespace GanForge.Tests;

/// <summary>
/// What a reader of a user's file may throw when the file is bad: one of the error types the CLI prints as one line
/// (InvalidDataException, ArgumentException, InvalidOperationException, exactly: not a subclass such as
/// ArgumentOutOfRangeException, which an index check throws), with a message of one line, free of control characters,
/// short, and naming the file. Shared by the fuzz harness (tools/fuzz) and the regression corpus tests.
/// </summary>
public static class ReaderErrors
{
    /// <summary>Longest message accepted, besides the file's path (which may appear twice).</summary>
    public const int MaxMessageLength = 300;

    static readonly Type[] Clean = [typeof(InvalidDataException), typeof(ArgumentException), typeof(InvalidOperationException)];

    /// <summary>
    /// Null when <paramref name="e"/> is a clean rejection of the file at <paramref name="path"/>, else what is wrong
    /// with it. <paramref name="mustNameFile"/> false waives the file's name (settings errors that name an option).
    /// </summary>
    public static string? Problem(Exception e, string path, bool mustNameFile = true)
    {
        if (Array.IndexOf(Clean, e.GetType()) < 0) return $"{e.GetType().Name} is not a clean error type";
        string m = e.Message;
        if (m.Length == 0) return "empty message";
        if (m.Any(char.IsControl)) return $"control character U+{(int)m.First(char.IsControl):X4} in the message";
        if (m.Length > MaxMessageLength + 2 * path.Length) return $"message of {m.Length} characters";
        if (mustNameFile && !m.Contains(Path.GetFileName(path), StringComparison.Ordinal)) return "message does not name the file";
        return null;
    }
}
