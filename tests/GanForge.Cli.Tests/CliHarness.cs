using System.Diagnostics;
using GanForge.Cli;
using Spectre.Console;

namespace GanForge.Cli.Tests;

/// <summary>Runs ganforge in this process (as the tests' user meets it) or as a child process (for signals and locks).</summary>
static class CliHarness
{
    /// <summary>Runs ganforge with <paramref name="args"/>; returns the exit code and everything printed.</summary>
    public static (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        var previous = AnsiConsole.Console;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Interactive = InteractionSupport.No, Ansi = AnsiSupport.No,
        });
        console.Profile.Width = 10_000;   // no wrapping: assertions read whole lines
        AnsiConsole.Console = console;
        try
        {
            int code = CliApp.Run(args, writer, writer);
            return (code, writer.ToString());
        }
        finally { AnsiConsole.Console = previous; }
    }

    /// <summary>Starts the ganforge executable built beside the tests, its output collected line by line.</summary>
    public static ChildRun Start(params string[] args) => new(args, new Dictionary<string, string>());

    /// <summary>The same with <paramref name="environment"/> added to the child's.</summary>
    public static ChildRun Start(IReadOnlyDictionary<string, string> environment, params string[] args) => new(args, environment);

    /// <summary>A ganforge child process.</summary>
    public sealed class ChildRun : IDisposable
    {
        readonly Process _process;
        readonly List<string> _lines = [];

        public ChildRun(string[] args, IReadOnlyDictionary<string, string> environment)
        {
            var exe = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "ganforge.exe" : "ganforge");
            // A child inherits ignored signals, and a suite started in the background by a non-interactive shell
            // (`.ci/run &`) ignores SIGINT, which the runtime then leaves ignored: the child starts with SIGINT at
            // its default, as a user's terminal gives it (coreutils' env execs ganforge in the same process).
            bool resetInt = OperatingSystem.IsLinux() && File.Exists("/usr/bin/env");
            var info = new ProcessStartInfo(resetInt ? "/usr/bin/env" : exe)
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            if (resetInt) { info.ArgumentList.Add("--default-signal=INT"); info.ArgumentList.Add(exe); }
            foreach (var a in args) info.ArgumentList.Add(a);
            info.Environment["COLUMNS"] = "10000";
            foreach (var (name, value) in environment) info.Environment[name] = value;
            _process = new Process { StartInfo = info };
            _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_lines) _lines.Add(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_lines) _lines.Add(e.Data); };
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Id => _process.Id;

        /// <summary>Everything printed so far, lines joined by newlines.</summary>
        public string Output { get { lock (_lines) return string.Join("\n", _lines); } }

        /// <summary>Waits until a printed line contains <paramref name="text"/>; false if the process ended first or the generous limit passed.</summary>
        public bool WaitForLine(string text, int limitSeconds = 300)
        {
            var until = DateTime.UtcNow.AddSeconds(limitSeconds);
            while (DateTime.UtcNow < until)
            {
                lock (_lines) if (_lines.Any(l => l.Contains(text))) return true;
                if (_process.HasExited) { _process.WaitForExit(); lock (_lines) return _lines.Any(l => l.Contains(text)); }
                Thread.Sleep(50);
            }
            return false;
        }

        /// <summary>Whether the process has ended.</summary>
        public bool HasExited => _process.HasExited;

        /// <summary>Sends a POSIX signal (INT, TERM, KILL) with kill(1).</summary>
        public void Signal(string name)
        {
            using var kill = Process.Start("kill", ["-" + name, _process.Id.ToString()]);
            kill.WaitForExit();
        }

        /// <summary>Waits for the process to end (a generous limit, not a timing assertion) and returns its exit code.</summary>
        public int WaitForExit(int limitSeconds = 300)
        {
            if (!_process.WaitForExit(limitSeconds * 1000)) throw new TimeoutException($"ganforge did not exit within {limitSeconds} s:\n{Output}");
            _process.WaitForExit();   // drains the output
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(); }
            _process.Dispose();
        }
    }
}

/// <summary>
/// A CLI test class: a temporary folder of its own (removed afterwards), ganforge run in this process, and
/// a tiny training run to work on.
/// </summary>
public abstract class CliTestBase : IDisposable
{
    protected string Dir { get; } = Path.Combine(Path.GetTempPath(), "ganforge-cli-" + Guid.NewGuid().ToString("N"));

    protected CliTestBase() => Directory.CreateDirectory(Dir);

    public void Dispose()
    {
        try { Directory.Delete(Dir, true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }

    /// <summary>A path in the test's folder.</summary>
    protected string P(string name) => Path.Combine(Dir, name);

    /// <summary>Runs ganforge with <paramref name="args"/>; returns the exit code and everything printed.</summary>
    protected static (int Code, string Output) Run(params string[] args) => CliHarness.Run(args);

    /// <summary>Trains the MLP GAN for one epoch on 64 embedded images into P(<paramref name="name"/>); more flags may follow.</summary>
    protected string TrainTiny(string name = "run", params string[] more)
    {
        var (code, output) = Run(["train", "--model", "gan", "--limit", "64", "--batch-size", "32", "--epochs", "1", "--out", P(name), "--log-every", "1", .. more]);
        Assert.True(code == 0, output);
        return P(name);
    }
}
