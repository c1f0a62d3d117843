namespace Rto.Optimization.Models;

/// <summary>
/// A model file that cannot be compiled. <see cref="Exception.Message"/> reads like a compiler
/// error, <c>models/reactor.model:3:17: unknown function 'sqr'</c>, so a log line points at the fix.
/// </summary>
public sealed class FormulaSyntaxException : Exception
{
    /// <summary>An error at <paramref name="file"/>:<paramref name="line"/>:<paramref name="column"/>.</summary>
    public FormulaSyntaxException(string file, int line, int column, string reason)
        : base($"{file}:{line}:{column}: {reason}")
    {
        File = file;
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>The file name as given to the parser.</summary>
    public string File { get; }

    /// <summary>1-based line of the error.</summary>
    public int Line { get; }

    /// <summary>1-based column of the error.</summary>
    public int Column { get; }

    /// <summary>The error without its position.</summary>
    public string Reason { get; }
}
