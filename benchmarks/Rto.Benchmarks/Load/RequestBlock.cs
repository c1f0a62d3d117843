using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Rto.Benchmarks.Load;

/// <summary>
/// One connection's requests, encoded once: a round of one request per key, sent over and over.
/// For puts every round patches in the next timestamp (always 10 digits), so each put appends a
/// new point without formatting anything on the hot path.
/// </summary>
internal sealed class RequestBlock
{
    private const int TimestampDigits = 10;

    private readonly byte[] _bytes;
    private readonly int[] _starts;
    private readonly bool _hasTimestamps;
    private long _timestamp;
    private int _next;

    private RequestBlock(string[] lines, bool hasTimestamps, long timestamp)
    {
        _starts = new int[lines.Length + 1];
        var all = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            _starts[i] = all.Length;
            all.Append(lines[i]);
        }

        _starts[lines.Length] = all.Length;
        _bytes = Encoding.ASCII.GetBytes(all.ToString());
        _hasTimestamps = hasTimestamps;
        _timestamp = timestamp;
    }

    /// <summary>
    /// The key of request <paramref name="index"/> on <paramref name="connection"/>. The run tag keeps
    /// a second run against the same server from overwriting the first run's points instead of
    /// appending.
    /// </summary>
    public static string Key(string run, int connection, int index) => string.Create(CultureInfo.InvariantCulture, $"load.{run}.c{connection}.k{index}");

    public static RequestBlock Puts(string run, int connection, int keys, long firstTimestamp) =>
        new([.. Enumerable.Range(0, keys).Select(k => string.Create(CultureInfo.InvariantCulture, $"put {Key(run, connection, k)} 10.5 {firstTimestamp:D10}\n"))], true, firstTimestamp);

    public static RequestBlock Gets(string run, int connection, int keys) =>
        new([.. Enumerable.Range(0, keys).Select(k => $"get {Key(run, connection, k)}\n")], false, 0);

    /// <summary>Writes the next <paramref name="count"/> requests, wrapping around to a new round as needed.</summary>
    public void WriteTo(IBufferWriter<byte> output, int count)
    {
        int requests = _starts.Length - 1;
        while (count > 0)
        {
            if (_next == requests)
            {
                _next = 0;
                NextRound();
            }

            int take = Math.Min(count, requests - _next);
            output.Write(_bytes.AsSpan(_starts[_next], _starts[_next + take] - _starts[_next]));
            _next += take;
            count -= take;
        }
    }

    private void NextRound()
    {
        if (!_hasTimestamps)
        {
            return;
        }

        Span<byte> digits = stackalloc byte[TimestampDigits];
        Utf8Formatter.TryFormat(++_timestamp, digits, out _, new StandardFormat('D', TimestampDigits));
        for (int i = 1; i < _starts.Length; i++)
        {
            // Each put line ends with "<timestamp>\n".
            digits.CopyTo(_bytes.AsSpan(_starts[i] - 1 - TimestampDigits));
        }
    }
}
