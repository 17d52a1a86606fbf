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

    public RunsFixture()
    {
        var config = new TrainConfig
        {
            Model = "gan", Data = "embedded", Epochs = 1, MaxSteps = 4, Limit = 128, BatchSize = 32, LatentDim = 16, LogEvery = 1,
            Seed = 1, Out = Path.Combine(Root, Trained), CheckpointMinutes = 0,
        };
        TrainingSetup.Create(config, resume: false).Run();
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
    public static string MetricsLine(int step) => FormattableString.Invariant(
        $"{{\"step\":{step},\"epoch\":1,\"loss_d\":{1.3 - 0.01 * step},\"loss_g\":{0.7 + 0.02 * step},\"d_real\":0.6,\"d_fake\":0.4,\"acc_real\":0.7,\"acc_fake\":0.6,\"acc\":0.65,\"images_per_s\":900}}\n");

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
