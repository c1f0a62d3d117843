using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using Microsoft.Win32.SafeHandles;
using Rto.Optimization;

namespace Rto.Server.Optimization;

/// <summary>One line of a session file after the header.</summary>
internal abstract record SessionRecord;

/// <summary>An evaluation as the caller reported it: the candidate, the CVs (session order), objective, ok.</summary>
internal sealed record EvaluationRecord(int Iteration, double[] Mvs, Evaluation Evaluation) : SessionRecord;

internal sealed record PauseRecord : SessionRecord;

internal sealed record ResumeRecord : SessionRecord;

/// <summary>
/// A session's human-readable file <c>&lt;id&gt;.session</c>: a header (<see cref="SessionDefinition"/>)
/// ended by <c>---</c>, then one tab-separated line per evaluation, pause and resume. Doubles are
/// written round-trip in the invariant culture. The header is fsynced before Start answers (a
/// session the caller knows of survives a power loss); later lines are written straight to the OS
/// without fsync, so they survive a crash of the server but the last few may be lost with the
/// machine, in which case the restored session proposes that candidate again.
/// </summary>
internal sealed class SessionFile : ISessionJournal
{
    public const string Extension = ".session";
    private const string Magic = "# rto optimization session";
    private const string HeaderEnd = "---";

    private readonly Lock _writing = new();
    private long _length;

    private SessionFile(string path, long length)
    {
        Path = path;
        _length = length;
    }

    public string Path { get; }

    public static string PathOf(string directory, Guid id) => System.IO.Path.Combine(directory, id.ToString("D") + Extension);

    /// <summary>Writes the header of a new session and fsyncs it.</summary>
    public static SessionFile Create(string directory, SessionDefinition definition)
    {
        Directory.CreateDirectory(directory);
        string path = PathOf(directory, definition.Id);
        byte[] header = Encoding.UTF8.GetBytes(FormatHeader(definition));
        using (var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None))
        {
            stream.Write(header);
            stream.Flush(flushToDisk: true);
        }

        return new SessionFile(path, header.Length);
    }

    /// <summary>Appends one line (already ending with a newline); written to the OS before returning.</summary>
    public void Append(string line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line);
        lock (_writing)
        {
            using SafeFileHandle handle = File.OpenHandle(Path, FileMode.Open, FileAccess.Write, FileShare.Read);
            RandomAccess.Write(handle, bytes, _length);
            _length += bytes.Length;
        }
    }

    public List<SessionRecord> ReadRecords() => Read(Path).Records;

    public void Delete()
    {
        lock (_writing)
        {
            File.Delete(Path);
        }
    }

    /// <summary>
    /// Reads a session file: the header (a <see cref="FormatException"/> when it is damaged) and every
    /// complete record. Reading stops at the first line that does not parse or has no newline (a write
    /// cut short by a crash); the file is cut back to the end of the last good line so appends continue cleanly.
    /// </summary>
    public static (SessionFile File, SessionDefinition Definition, List<SessionRecord> Records, string? DroppedTail) Open(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        (SessionDefinition definition, List<SessionRecord> records, string? dropped, long goodBytes) = Parse(bytes);
        if (goodBytes < bytes.Length)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.SetLength(goodBytes);
        }

        return (new SessionFile(path, goodBytes), definition, records, dropped);
    }

    /// <summary>
    /// Reads a session file as <see cref="Open"/> does but changes nothing: a session may be appending
    /// to it meanwhile, and a line it is still writing counts as not there yet.
    /// </summary>
    public static (SessionDefinition Definition, List<SessionRecord> Records) Read(string path)
    {
        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
        {
            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }

        (SessionDefinition definition, List<SessionRecord> records, _, _) = Parse(bytes);
        return (definition, records);
    }

    /// <summary>Reads a session from its text as a whole (a cluster keeps the header and each line as JetStream messages); an incomplete tail is ignored.</summary>
    public static (SessionDefinition Definition, List<SessionRecord> Records) FromText(byte[] text)
    {
        (SessionDefinition definition, List<SessionRecord> records, _, _) = Parse(text);
        return (definition, records);
    }

    /// <summary>
    /// Parses a session file's bytes: the definition (a <see cref="FormatException"/> when the header
    /// is damaged), the complete records, the dropped tail, and how many bytes those records end at.
    /// </summary>
    internal static (SessionDefinition Definition, List<SessionRecord> Records, string? DroppedTail, long GoodBytes) Parse(byte[] bytes)
    {
        // Only the UTF-8 prefix is text: a byte that is not UTF-8 (a hand edit, a damaged disk)
        // ends the file there. Decoding it as U+FFFD instead would make the good bytes counted
        // back from the text wrong, and a restart would cut or extend the file at the wrong place.
        int utf8 = ValidUtf8Length(bytes);
        string text = Encoding.UTF8.GetString(bytes, 0, utf8);
        int position = 0;
        var header = new Dictionary<string, string>(StringComparer.Ordinal);
        var mvs = new List<DecisionVariable>();
        var cvs = new List<Constraint>();
        bool ended = false;
        while (!ended && TryReadLine(text, ref position, out string line))
        {
            if (line == HeaderEnd)
            {
                ended = true;
            }
            else if (line.StartsWith("mv\t", StringComparison.Ordinal))
            {
                string[] f = line.Split('\t');
                Require(f.Length == 6 && SessionDefinition.TryParseType(f[3], out _), line);
                SessionDefinition.TryParseType(f[3], out VariableType type);
                mvs.Add(Valid(() => DecisionVariable.Create(Unescape(f[1]), type, ParseDouble(f[4]), ParseDouble(f[5])) with { Name = Unescape(f[2]) }, line));
            }
            else if (line.StartsWith("cv\t", StringComparison.Ordinal))
            {
                string[] f = line.Split('\t');
                Require(f.Length == 5, line);
                cvs.Add(Valid(() => CreateConstraint(Unescape(f[1]), f[3], f[4]) with { Name = Unescape(f[2]) }, line));
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                int colon = line.IndexOf(": ", StringComparison.Ordinal);
                Require(colon > 0, line);
                header[line[..colon]] = line[(colon + 2)..];
            }
        }

        Require(ended, utf8 < bytes.Length ? $"(the header is not UTF-8 at byte {utf8})" : "(the header has no end line '---')");
        Require(mvs.Count > 0, "(the header has no MVs)");
        try
        {
            var problem = new OptimizationProblem(mvs, cvs, bool.Parse(header["maximize"]), int.Parse(header["max_iterations"], CultureInfo.InvariantCulture));
            var definition = new SessionDefinition(
                Guid.Parse(header["id"]), DateTimeOffset.Parse(header["created"], CultureInfo.InvariantCulture), Unescape(header["method"]), Unescape(header["model"]),
                int.Parse(header["seed"], CultureInfo.InvariantCulture), problem);

            var records = new List<SessionRecord>();
            int good = position;
            string? dropped = null;
            while (position < text.Length)
            {
                int start = position;
                SessionRecord? record = TryReadLine(text, ref position, out string line) ? ParseRecord(line, mvs.Count, cvs.Count) : null;
                if (record is null)
                {
                    dropped = text[start..];
                    break;
                }

                records.Add(record);
                good = position;
            }

            if (utf8 < bytes.Length)
            {
                dropped = (dropped ?? "") + Encoding.UTF8.GetString(bytes, utf8, bytes.Length - utf8);
            }

            return (definition, records, dropped, Encoding.UTF8.GetByteCount(text.AsSpan(0, good)));
        }
        catch (Exception ex) when (ex is KeyNotFoundException or ArgumentException or OverflowException)
        {
            throw new FormatException($"damaged header: {ex.Message}", ex);
        }
    }

    public static string FormatHeader(SessionDefinition d)
    {
        var s = new StringBuilder();
        s.Append(Magic).Append('\n');
        s.Append("id: ").Append(d.Id.ToString("D")).Append('\n');
        s.Append("created: ").Append(d.Created.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Append('\n');
        s.Append("method: ").Append(Escape(d.Method)).Append('\n');
        s.Append("seed: ").Append(d.Seed.ToString(CultureInfo.InvariantCulture)).Append('\n');
        s.Append("maximize: ").Append(d.Problem.Maximize ? "true" : "false").Append('\n');
        s.Append("max_iterations: ").Append(d.Problem.MaxEvaluations.ToString(CultureInfo.InvariantCulture)).Append('\n');
        s.Append("model: ").Append(Escape(d.ModelId)).Append('\n');
        s.Append("# mv\tid\tname\ttype\tlower\tupper\n");
        foreach (DecisionVariable mv in d.Problem.Variables)
        {
            s.Append("mv\t").Append(Escape(mv.Id)).Append('\t').Append(Escape(mv.Name)).Append('\t').Append(SessionDefinition.FormatType(mv.Type)).Append('\t')
                .Append(Format(mv.Lower)).Append('\t').Append(Format(mv.Upper)).Append('\n');
        }

        s.Append("# cv\tid\tname\tlower\tupper\n");
        foreach (Constraint cv in d.Problem.Constraints)
        {
            s.Append("cv\t").Append(Escape(cv.Id)).Append('\t').Append(Escape(cv.Name)).Append('\t')
                .Append(cv.HasLower ? Format(cv.Lower) : SessionDefinition.NoLimitText).Append('\t')
                .Append(cv.HasUpper ? Format(cv.Upper) : SessionDefinition.NoLimitText).Append('\n');
        }

        s.Append("# evaluation\tno\ttime\tmv=…\tcv=…\tobjective=…\tok|failed\tfeasible|infeasible\tbest=no objective\n");
        s.Append(HeaderEnd).Append('\n');
        return s.ToString();
    }

    public static string FormatEvaluation(EvaluationRecord r, bool feasible, DateTimeOffset at, int bestIteration, double bestObjective)
    {
        var s = new StringBuilder(128);
        s.Append("evaluation\t").Append(r.Iteration.ToString(CultureInfo.InvariantCulture)).Append('\t')
            .Append(at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)).Append("\tmv=");
        AppendList(s, r.Mvs);
        s.Append("\tcv=");
        AppendList(s, r.Evaluation.ConstraintValues);
        s.Append("\tobjective=").Append(Format(r.Evaluation.Objective))
            .Append(r.Evaluation.Succeeded ? "\tok" : "\tfailed")
            .Append(feasible ? "\tfeasible" : "\tinfeasible")
            .Append("\tbest=").Append(bestIteration.ToString(CultureInfo.InvariantCulture)).Append(' ').Append(Format(bestObjective)).Append('\n');
        return s.ToString();
    }

    public static string FormatEvent(string name, DateTimeOffset at) =>
        $"{name}\t{at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\n";

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static SessionRecord? ParseRecord(string line, int mvCount, int cvCount)
    {
        string[] f = line.Split('\t');
        switch (f[0])
        {
            case "pause" when f.Length == 2:
                return new PauseRecord();
            case "resume" when f.Length == 2:
                return new ResumeRecord();
            case "evaluation" when f.Length == 9:
                if (!int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int iteration)
                    || !TryParseList(f[3], "mv=", mvCount, out double[] mvs)
                    || !TryParseList(f[4], "cv=", cvCount, out double[] cvs)
                    || !f[5].StartsWith("objective=", StringComparison.Ordinal)
                    || !double.TryParse(f[5].AsSpan(10), NumberStyles.Float, CultureInfo.InvariantCulture, out double objective)
                    || f[6] is not ("ok" or "failed")
                    || !f[8].StartsWith("best=", StringComparison.Ordinal))
                {
                    return null;
                }

                return new EvaluationRecord(iteration, mvs, new Evaluation(objective, cvs, f[6] == "ok"));
            default:
                return null;
        }
    }

    private static bool TryParseList(string field, string prefix, int count, out double[] values)
    {
        values = new double[count];
        if (!field.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        ReadOnlySpan<char> rest = field.AsSpan(prefix.Length);
        if (count == 0)
        {
            return rest.IsEmpty;
        }

        int i = 0;
        foreach (Range range in rest.Split(';'))
        {
            if (i == count || !double.TryParse(rest[range], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
            {
                return false;
            }

            i++;
        }

        return i == count;
    }

    private static void AppendList(StringBuilder s, double[] values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                s.Append(';');
            }

            s.Append(Format(values[i]));
        }
    }

    private static int ValidUtf8Length(byte[] bytes)
    {
        if (Utf8.IsValid(bytes))
        {
            return bytes.Length;
        }

        int length = 0;
        while (Rune.DecodeFromUtf8(bytes.AsSpan(length), out _, out int consumed) == OperationStatus.Done)
        {
            length += consumed;
        }

        return length;
    }

    private static bool TryReadLine(string text, ref int position, out string line)
    {
        int newline = text.IndexOf('\n', position);
        if (newline < 0)
        {
            line = "";
            return false;
        }

        line = text[position..newline];
        position = newline + 1;
        return true;
    }

    private static double ParseDouble(string text) => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>
    /// "no limit" reads as ±<see cref="double.MaxValue"/>, the wire's "no limit", except across an
    /// infinite limit on the other side: a CV accepted with bounds [−∞, −∞] is written as
    /// "no limit", "-Infinity" and must not come back as [MinValue, −∞], which is refused.
    /// </summary>
    private static Constraint CreateConstraint(string id, string lowerText, string upperText)
    {
        double lower = lowerText == SessionDefinition.NoLimitText ? double.MinValue : ParseDouble(lowerText);
        double upper = upperText == SessionDefinition.NoLimitText ? double.MaxValue : ParseDouble(upperText);
        return Constraint.Create(
            id,
            lowerText == SessionDefinition.NoLimitText ? Math.Min(lower, upper) : lower,
            upperText == SessionDefinition.NoLimitText ? Math.Max(upper, lower) : upper);
    }

    /// <summary>A variable or constraint the package refuses (bounds edited by hand) makes the header damaged.</summary>
    private static T Valid<T>(Func<T> create, string line)
    {
        try
        {
            return create();
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"damaged header line: {line} ({ex.Message})", ex);
        }
    }

    private static void Require(bool condition, string line)
    {
        if (!condition)
        {
            throw new FormatException($"damaged header line: {line}");
        }
    }

    // Ids and names may hold any character; the few that would break a line or a field are %-escaped.
    private static string Escape(string text) =>
        text.AsSpan().IndexOfAny("%\t\n\r") < 0 ? text : text.Replace("%", "%25", StringComparison.Ordinal).Replace("\t", "%09", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal);

    private static string Unescape(string text) => text.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(text) : text;
}
