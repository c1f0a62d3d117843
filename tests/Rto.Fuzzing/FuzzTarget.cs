using CsCheck;

namespace Rto.Fuzzing;

/// <summary>
/// One parser under fuzzing: a generator of inputs (valid messages from the writer, the same
/// mutated, and junk built from the protocol's own tokens) and the properties every input must
/// keep. A property that breaks throws <see cref="FuzzPropertyException"/>; so does anything the
/// parser throws that it does not document.
/// </summary>
public abstract class FuzzTarget
{
    /// <summary>The name used on the command line and in docs/performance.md.</summary>
    public abstract string Name { get; }

    /// <summary>What is fuzzed and which properties are checked, in one line.</summary>
    public abstract string Description { get; }

    /// <summary>Every target, in the order docs/performance.md lists them.</summary>
    public static IReadOnlyList<FuzzTarget> All { get; } =
    [
        new Targets.MetricsRequestTarget(),
        new Targets.MeterLineTarget(),
        new Targets.JobsFrameTarget(),
        new Targets.FormulaTarget(),
        new Targets.SessionFileTarget(),
        new Targets.MeterRegistryTarget(),
    ];

    /// <summary>Runs the target with <paramref name="settings"/>; never throws for a failing input, it reports it.</summary>
    public abstract FuzzResult Run(FuzzSettings settings);
}

/// <summary>A target over inputs of type <typeparamref name="T"/>.</summary>
public abstract class FuzzTarget<T> : FuzzTarget
{
    /// <summary>The inputs.</summary>
    protected abstract Gen<T> Inputs { get; }

    /// <summary>Checks one input; throws <see cref="FuzzPropertyException"/> when a property breaks.</summary>
    public abstract void Check(T input);

    /// <summary>How a failing input is shown (bytes as an escaped string by default).</summary>
    protected virtual string Print(T input) => input?.ToString() ?? "null";

    /// <inheritdoc/>
    public sealed override FuzzResult Run(FuzzSettings settings) => FuzzRunner.Run(Name, Inputs, Check, Print, settings);
}

/// <summary>A property of a parser that an input broke.</summary>
public sealed class FuzzPropertyException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FuzzPropertyException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>For the analyzers' standard constructors.</summary>
    public FuzzPropertyException()
    {
    }

    /// <summary>For the analyzers' standard constructors.</summary>
    public FuzzPropertyException(string message)
        : base(message)
    {
    }
}
