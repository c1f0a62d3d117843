using System.Buffers;
using System.Text.Json;

namespace Rto.Protocols.Jobs;

/// <summary>What <see cref="JsonFrameReader.TryReadFrame"/> found in the buffer.</summary>
public enum JsonFrameStatus
{
    /// <summary>No complete JSON value yet; read more bytes and call again.</summary>
    NeedMoreData,

    /// <summary>A complete top-level JSON value was taken from the buffer.</summary>
    Frame,

    /// <summary>
    /// The next value did not complete within the maximum frame size. Nothing beyond the maximum
    /// was scanned; the caller should answer with an error and close the connection.
    /// </summary>
    TooLarge,

    /// <summary>
    /// The bytes are not JSON; <see cref="JsonFrameReader.InvalidReason"/> says why. The stream
    /// cannot be resynchronised: answer with an error and close the connection.
    /// </summary>
    Invalid,
}

/// <summary>
/// Finds complete top-level JSON values in a byte stream. JSON is self-delimiting, so no length
/// prefix or separator is needed: values may follow each other directly or with whitespace
/// between them. The scan resumes where the previous call stopped (the tokenizer state is kept),
/// so a value arriving one byte at a time is tokenized once, not once per byte.
/// </summary>
/// <remarks>
/// A mutable struct: keep it in a local for the lifetime of one connection. Between calls the
/// caller must keep the unconsumed bytes (advance the pipe to <c>buffer.Start</c> as consumed and
/// the original end as examined). Not thread-safe.
/// </remarks>
public struct JsonFrameReader
{
    private static readonly JsonReaderOptions s_options = new()
    {
        AllowMultipleValues = true,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = 64,
    };

    private readonly int _maxFrameSize;
    private JsonReaderState _state;
    private long _scanned;

    /// <summary>Creates a reader that accepts values of at most <paramref name="maxFrameSize"/> bytes.</summary>
    public JsonFrameReader(int maxFrameSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameSize, 2);
        _maxFrameSize = maxFrameSize;
        _state = new JsonReaderState(s_options);
    }

    /// <summary>The largest value, in bytes, that is accepted.</summary>
    public readonly int MaxFrameSize => _maxFrameSize;

    /// <summary>Why the last call returned <see cref="JsonFrameStatus.Invalid"/>.</summary>
    public string? InvalidReason { get; private set; }

    /// <summary>
    /// Takes the next complete JSON value from <paramref name="buffer"/>. On return
    /// <paramref name="buffer"/> starts after everything consumed (whitespace before a pending
    /// value included).
    /// </summary>
    /// <param name="buffer">The unread bytes; sliced past what was consumed.</param>
    /// <param name="frame">The value's bytes, valid until the pipe is advanced.</param>
    public JsonFrameStatus TryReadFrame(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> frame)
    {
        frame = default;
        if (_scanned == 0)
        {
            buffer = SkipWhitespace(buffer);
            if (buffer.IsEmpty)
            {
                return JsonFrameStatus.NeedMoreData;
            }
        }

        // Never hand the tokenizer more than the maximum: a huge value is refused, not buffered.
        long window = Math.Min(buffer.Length, _maxFrameSize);
        var reader = new Utf8JsonReader(buffer.Slice(_scanned, window - _scanned), isFinalBlock: false, _state);
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 0 && reader.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray))
                {
                    long length = _scanned + reader.BytesConsumed;
                    frame = buffer.Slice(0, length);
                    buffer = buffer.Slice(length);
                    Reset();
                    return JsonFrameStatus.Frame;
                }
            }
        }
        catch (JsonException ex)
        {
            InvalidReason = ex.Message;
            Reset();
            return JsonFrameStatus.Invalid;
        }

        if (buffer.Length > _maxFrameSize)
        {
            Reset();
            return JsonFrameStatus.TooLarge;
        }

        _scanned += reader.BytesConsumed;
        _state = reader.CurrentState;
        return JsonFrameStatus.NeedMoreData;
    }

    private void Reset()
    {
        _scanned = 0;
        _state = new JsonReaderState(s_options);
    }

    private static ReadOnlySequence<byte> SkipWhitespace(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.AdvancePastAny((byte)' ', (byte)'\n', (byte)'\r', (byte)'\t');
        return buffer.Slice(reader.Position);
    }
}
