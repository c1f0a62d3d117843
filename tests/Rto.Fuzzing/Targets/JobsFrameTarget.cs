using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using CsCheck;
using Rto.Protocols;
using Rto.Protocols.Jobs;

namespace Rto.Fuzzing.Targets;

/// <summary>A jobs request as the fuzz target compares it: the header and the request's text.</summary>
public sealed record JobsMessage(MessageStatus Status, string? Header, string? Request);

/// <summary>Jobs requests in, through <see cref="JobRequestReader"/> as the server reads them.</summary>
/// <param name="Bytes">What the client sent.</param>
/// <param name="Chunks">How the bytes arrive.</param>
/// <param name="MaxFrameSize">The reader's limit.</param>
/// <param name="Written">The requests the writer wrote into <paramref name="Bytes"/>, when nothing was mutated.</param>
public sealed record JobsInput(byte[] Bytes, int[] Chunks, int MaxFrameSize, JobsMessage[]? Written)
{
    /// <inheritdoc/>
    public override string ToString() => $"{FuzzGen.Show(Bytes)}, chunks [{string.Join(", ", Chunks)}], max frame {MaxFrameSize}";
}

/// <summary>
/// The jobs JSON frame (<see cref="JobRequestReader"/>, <see cref="JsonFrameReader"/>,
/// <see cref="JobEnvelope"/>). Never throws but the documented <see cref="InvalidOperationException"/>
/// of a string that is not UTF-8; a malformed or too large frame ends the connection (nothing is
/// read after it); <see cref="JobRequestWriter"/> output reads back as the same requests; every
/// valid value, written again by <see cref="Utf8JsonWriter"/>, reads back as the same JSON.
/// </summary>
public sealed class JobsFrameTarget : FuzzTarget<JobsInput>
{
    private static readonly string[] s_tokens =
    [
        "{", "}", "[", "]", ",", ":", "\"", "\"Header\"", "\"Request\"", "\"KeepAlive\"", "\"KeepRunning\"", "\"Info\"", "\"Dask\"", "\"Status\"",
        "\"Directory\"", "\"Base\"", "\"File\"", "true", "false", "null", "0", "-1.5e3", "\"\\u0000\"", "\"\\ud800\"", "\\", "/*", "*/", "\"\\uZZZZ\"",
        "{\"Header\":\"Info\",\"Request\":\"Status\"}", "{\"Header\":\"Dask\",\"Request\":{\"Directory\":\"d\",\"Base\":\"b\",\"File\":\"f\"}}",
    ];

    private static readonly Gen<string> s_text = Gen.OneOf("a", "Status", "All process", "é", "日", "😀", "\"", "\\", "\n", "\u0000", "/", "<", "\u2028")
        .Array[0, 6].Select(parts => string.Concat(parts));

    private static readonly Gen<(byte[] Bytes, JobsMessage[] Messages)> s_written = Gen.Select(s_text, s_text, s_text, s_text, Gen.Bool, Gen.Bool)
        .Array[1, 3]
        .Select(requests =>
        {
            var output = new ArrayBufferWriter<byte>();
            var messages = new JobsMessage[requests.Length];
            for (int i = 0; i < requests.Length; i++)
            {
                (string info, string directory, string @base, string file, bool dask, bool keepAlive) = requests[i];
                int start = output.WrittenCount;
                if (dask)
                {
                    var request = new JobRequest { Directory = directory, Base = @base, File = file };
                    JobRequestWriter.WriteJob(output, request, keepAlive);
                    messages[i] = new JobsMessage(MessageStatus.Valid, JobHeaders.Dask, JsonSerializer.Serialize(request, JobsJsonContext.Default.JobRequest));
                }
                else
                {
                    JobRequestWriter.WriteInfo(output, info, keepAlive);
                    messages[i] = new JobsMessage(MessageStatus.Valid, JobHeaders.Info, info);
                }
            }

            return (output.WrittenSpan.ToArray(), messages);
        });

    /// <inheritdoc/>
    public override string Name => "jobs-frame";

    /// <inheritdoc/>
    public override string Description => "jobs JSON frames through JobRequestReader: only documented exceptions, nothing read after a bad frame, writer output and every valid value round-trip";

    /// <inheritdoc/>
    protected override Gen<JobsInput> Inputs { get; } = Gen.Frequency(
        (2, Gen.Select(s_written, FuzzGen.Chunks, (w, chunks) => new JobsInput(w.Bytes, chunks, 1 << 16, w.Messages))),
        (3, Gen.Select(FuzzGen.Mutated(s_written.Select(w => w.Bytes), s_tokens), FuzzGen.Chunks, Gen.OneOf(8, 64, 1 << 16), (bytes, chunks, max) => new JobsInput(bytes, chunks, max, null))),
        (2, Gen.Select(FuzzGen.Junk(s_tokens), FuzzGen.Chunks, Gen.OneOf(8, 64, 1 << 16), (bytes, chunks, max) => new JobsInput(bytes, chunks, max, null))),
        (1, Gen.Select(Gen.Int[1, 200], Gen.OneOf("[", "{\"a\":"), FuzzGen.Chunks, (depth, open, chunks) => new JobsInput(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(open, depth))), chunks, 1 << 16, null))));

    /// <inheritdoc/>
    public override void Check(JobsInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var reader = new Box { Reader = new JobRequestReader(input.MaxFrameSize) };
        var messages = new List<JobsMessage>();
        bool closed = false;
        ByteFeed.Run(
            input.Bytes,
            input.Chunks,
            (in ReadOnlySequence<byte> bytes, ref SequencePosition consumed, ref SequencePosition examined) =>
            {
                if (!reader.Reader.TryParseMessage(bytes, ref consumed, ref examined, out JobEnvelope? envelope))
                {
                    return false;
                }

                using (envelope)
                {
                    messages.Add(Inspect(envelope));
                }

                // The server answers a bad frame and closes the connection.
                closed = envelope.Status != MessageStatus.Valid;
                return true;
            },
            () => closed);

        if (input.Written is { } written && !messages.SequenceEqual(written))
        {
            throw new FuzzPropertyException($"the writer's requests [{string.Join(", ", written)}] were read as [{string.Join(", ", messages)}]");
        }
    }

    private static JobsMessage Inspect(JobEnvelope envelope)
    {
        if (envelope.Status != MessageStatus.Valid)
        {
            if (string.IsNullOrEmpty(envelope.Error))
            {
                throw new FuzzPropertyException($"a {envelope.Status} message has no error text for the reply");
            }

            return new JobsMessage(envelope.Status, null, null);
        }

        // JSON must be UTF-8 and its escapes whole characters, but the tokenizer checks neither in
        // names and strings: such a value is valid here, and reading or writing the string throws
        // InvalidOperationException (documented; the server answers "not valid JSON" and closes).
        if (Utf8.IsValid(JsonMarshal.GetRawUtf8Value(envelope.Root)))
        {
            CheckRoundTrip(envelope);
        }

        string? request;
        try
        {
            request = envelope.Header == JobHeaders.Dask && envelope.GetJobRequest() is { } job
                ? JsonSerializer.Serialize(job, JobsJsonContext.Default.JobRequest)
                : envelope.GetInfoRequest();
        }
        catch (InvalidOperationException)
        {
            // Documented: a string that is not UTF-8; the server answers it as a bad request.
            request = "<not UTF-8>";
        }

        return new JobsMessage(MessageStatus.Valid, envelope.Header, request);
    }

    private static void CheckRoundTrip(JobEnvelope envelope)
    {
        // Written again, the value must read back as the same JSON, written the same way (byte
        // for byte: comparing values would decode strings, and a lone surrogate escape such as
        // "\ud800" is valid JSON that does not decode).
        byte[] written;
        try
        {
            written = Write(envelope.Root);
        }
        catch (InvalidOperationException)
        {
            // A lone surrogate escape ("\ud800"), see above.
            return;
        }

        var again = new ArrayBufferWriter<byte>();
        again.Write(written);

        // A space ends a top-level number, which could otherwise go on in the next bytes.
        again.Write(" "u8);
        var rereader = new JobRequestReader(again.WrittenCount);
        var sequence = new ReadOnlySequence<byte>(again.WrittenMemory);
        SequencePosition consumed = sequence.Start, examined = sequence.End;
        if (!rereader.TryParseMessage(sequence, ref consumed, ref examined, out JobEnvelope? reread))
        {
            throw new FuzzPropertyException($"a valid value written again as {FuzzGen.Show(again.WrittenSpan.ToArray())} is not a complete frame");
        }

        using (reread)
        {
            if (reread.Status != MessageStatus.Valid || !Write(reread.Root).AsSpan().SequenceEqual(written))
            {
                throw new FuzzPropertyException($"a valid value written again as {FuzzGen.Show(again.WrittenSpan.ToArray())} reads back as {reread.Status} {reread.Error}");
            }
        }

    }

    private static byte[] Write(JsonElement value)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output))
        {
            value.WriteTo(writer);
        }

        return output.WrittenSpan.ToArray();
    }

    private sealed class Box
    {
        public JobRequestReader Reader;
    }
}
