namespace GanForge.Metrics;

/// <summary>An evaluation metric found by name in <see cref="MetricRegistry"/>.</summary>
public interface IMetric
{
    /// <summary>The registry name, lower case ("fid").</summary>
    string Name { get; }

    /// <summary>Computes the score; the result carries <see cref="MetricInputs.Protocol"/>.</summary>
    MetricResult Compute(MetricInputs inputs);
}
