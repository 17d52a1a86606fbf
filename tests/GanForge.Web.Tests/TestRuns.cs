using System.Net.Http.Headers;
using GanForge.Gan;
using GanForge.Gan.Training;

namespace GanForge.Web.Tests;

/// <summary>
/// A runs folder shared by the tests: one tiny trained run ("tiny": the MLP GAN, 4 steps on 128 embedded images,
/// z of 16, with its checkpoint) made once, plus helpers for runs written by hand.
/// </summary>
public sealed class RunsFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("ganforge-web-").FullName;

    public const string Trained = "tiny";

    /// <summary>A class-conditional run (acgan) and an InfoGAN run, 16 pixels, two steps each.</summary>
    public const string Conditional = "tiny-acgan", Coded = "tiny-infogan";

    public RunsFixture()
    {
        var config = new TrainConfig
        {
            Model = "gan", Data = "embedded", Epochs = 1, MaxSteps = 4, Limit = 128, BatchSize = 32, LatentDim = 16, LogEvery = 1,
            Seed = 1, Out = Path.Combine(Root, Trained), CheckpointMinutes = 0,
        };
        TrainingSetup.Create(config, resume: false).Run();
        foreach (var (name, model) in new[] { (Conditional, "acgan"), (Coded, "infogan") })
        {
            var c = new TrainConfig
            {
                Model = model, Data = "embedded", Epochs = 1, MaxSteps = 2, Limit = 128, BatchSize = 32, LatentDim = 16, ImageSize = 16,
                LogEvery = 1, Seed = 1, Out = Path.Combine(Root, name), CheckpointMinutes = 0,
            };
            c.Set("width=8");
            TrainingSetup.Create(c, resume: false).Run();
        }
    }

    /// <summary>A run folder written by hand: config.yaml and <paramref name="steps"/> metrics lines, no checkpoint.</summary>
    public string HandMade(string name, int steps, string model = "dcgan")
    {
        var dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.yaml"), $"model: {model}\ndata: embedded\n");
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), string.Concat(Enumerable.Range(1, steps).Select(MetricsLine)));
        return dir;
    }

    /// <summary>One metrics.jsonl line of step <paramref name="step"/> (losses, D outputs, accuracies, speed).</summary>
    /// <remarks>Values drift as in a real run, with a deterministic wobble, so a chart of them reads like one.</remarks>
    public static string MetricsLine(int step)
    {
        double settle = 1 - Math.Exp(-step / 6.0), wobble = Math.Sin(step * 1.7), wobble2 = Math.Cos(step * 2.3);
        double lossD = 1.38 - 0.3 * settle + 0.04 * wobble, lossG = 0.69 + 0.5 * settle + 0.06 * wobble2;
        double dReal = 0.5 + 0.15 * settle + 0.02 * wobble2, dFake = 0.5 - 0.15 * settle + 0.02 * wobble;
        double accReal = 0.5 + 0.25 * settle + 0.03 * wobble, accFake = 0.5 + 0.2 * settle + 0.03 * wobble2;
        return FormattableString.Invariant(
            $"{{\"step\":{step},\"epoch\":1,\"loss_d\":{lossD:F4},\"loss_g\":{lossG:F4},\"d_real\":{dReal:F4},\"d_fake\":{dFake:F4},\"acc_real\":{accReal:F4},\"acc_fake\":{accFake:F4},\"acc\":{(accReal + accFake) / 2:F4},\"images_per_s\":{900 + 40 * wobble:F1}}}\n");
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition("runs")]
public sealed class RunsCollection : ICollectionFixture<RunsFixture>;

/// <summary>A server on a free loopback port over a runs folder, with a client whose requests come from its own pages.</summary>
public sealed class ServerHarness : IAsyncDisposable
{
    public WebServer Server { get; }
    public HttpClient Client { get; }
    public string StudiesFile { get; }
    public Uri Address => Server.Address;

    ServerHarness(WebServer server, string studies)
    {
        Server = server;
        StudiesFile = studies;
        Client = new HttpClient { BaseAddress = server.Address };
        Client.DefaultRequestHeaders.Add("Origin", server.Address.GetLeftPart(UriPartial.Authority));
    }

    /// <summary>Starts a server over <paramref name="runs"/> with a fresh study database.</summary>
    public static async Task<ServerHarness> Start(string runs)
    {
        var studies = Path.Combine(Path.GetTempPath(), $"ganforge-studies-{Guid.NewGuid():N}.db");
        var server = WebServer.Create(new WebServerOptions { Runs = runs, Studies = studies, Port = 0 });
        await server.StartAsync();
        return new ServerHarness(server, studies);
    }

    /// <summary>POSTs <paramref name="json"/> as application/json.</summary>
    public Task<HttpResponseMessage> Post(string path, string json) =>
        Client.PostAsync(path, new StringContent(json, new MediaTypeHeaderValue("application/json")));

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
            try { File.Delete(StudiesFile + suffix); } catch (IOException) { }
    }
}
