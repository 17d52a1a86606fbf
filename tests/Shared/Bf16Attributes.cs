namespace GanForge.Tests;

/// <summary>A fact skipped, with the reason, where bf16 products cannot run (<see cref="Precision.Bf16Unavailable"/>).</summary>
public sealed class Bf16FactAttribute : FactAttribute
{
    public Bf16FactAttribute()
    {
        if (Precision.Bf16Unavailable is { } why) Skip = $"{why}; the bf16 products are untested here";
    }
}

/// <summary>A theory skipped, with the reason, where bf16 products cannot run (<see cref="Precision.Bf16Unavailable"/>).</summary>
public sealed class Bf16TheoryAttribute : TheoryAttribute
{
    public Bf16TheoryAttribute()
    {
        if (Precision.Bf16Unavailable is { } why) Skip = $"{why}; the bf16 products are untested here";
    }
}
