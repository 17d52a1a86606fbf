using GanForge.Gan.Training;
using GanForge.Serialization;
using Spectre.Console;

namespace GanForge.Cli;

/// <summary>Turns the errors a user can cause into one clear line and an exit code.</summary>
static class Errors
{
    public static int Run(Func<int> body)
    {
        try { return body(); }
        catch (Exception e) when (Unwrap(e) is { } inner && IsUserError(inner))
        {
            Print(inner);
            return inner is TrainingDivergedException ? 3 : 2;
        }
    }

    /// <summary>Wraps a command's action so user errors print a line instead of a stack trace.</summary>
    public static int Guard(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (IsUserError(e))
        {
            Print(e);
            return e is TrainingDivergedException ? 3 : 2;
        }
    }

    static Exception Unwrap(Exception e) => e is AggregateException { InnerException: { } i } ? Unwrap(i) : e;

    /// <summary>Put before every error message: a data-parallel rank other than 0 names itself ("rank 1: ").</summary>
    public static string Source { get; set; } = "";

    public static bool IsUserError(Exception e) => e is ArgumentException or InvalidDataException or IOException or KeyNotFoundException
        or UnauthorizedAccessException or TrainingDivergedException or InvalidOperationException or NotSupportedException;

    // One line whatever the message holds: a control character taken from a damaged file is shown escaped.
    public static void Print(Exception e) =>
        AnsiConsole.Console.MarkupLine($"{Markup.Escape(Source)}[red]error:[/] {Markup.Escape(MessageText.OneLine(e.Message))}");
}
