using System.Buffers;
using System.Text;
using Rto.Protocols.Metrics;

namespace Rto.Protocols.Tests.Metrics;

[TestClass]
public sealed class MetricsRequestReaderTests
{
    private static string Describe(MetricsRequest request) => request.Status switch
    {
        MessageStatus.Valid => request.Command switch
        {
            MetricsCommand.Put => FormattableString.Invariant($"put {Encoding.UTF8.GetString(request.Key)} {request.Value} {request.Timestamp}"),
            MetricsCommand.Get => $"get {Encoding.UTF8.GetString(request.Key)}",
            _ => "get *",
        },
        _ => $"<{request.Status}>",
    };

    private static List<string> Read(int maxLineLength, params byte[][] chunks)
    {
        var reader = new MetricsRequestReader(maxLineLength);
        return MessageFeed.Read<MetricsRequestReader, MetricsRequest>(ref reader, Describe, chunks);
    }

    [TestMethod]
    public void ReadsPipelinedRequestsSplitAnywhere()
    {
        byte[] bytes = "put boiler.t 81.5 1700000000\r\nget boiler.t\nbogus\n\nget *\nput котёл -0.25 0\n"u8.ToArray();
        string[] expected = ["put boiler.t 81.5 1700000000", "get boiler.t", "<Malformed>", "<Malformed>", "get *", "put котёл -0.25 0"];
        foreach ((string name, byte[][] chunks) in MessageFeed.Splits(bytes))
        {
            CollectionAssert.AreEqual(expected, Read(64, chunks), name);
        }
    }

    [TestMethod]
    public void ReadsWhatTheRequestWriterWrites()
    {
        var output = new ArrayBufferWriter<byte>();
        MetricsRequestWriter.WritePut(output, "a.b", -81.5, 42);
        MetricsRequestWriter.WriteGet(output, "a.b");
        MetricsRequestWriter.WriteGet(output, "*");
        CollectionAssert.AreEqual(new[] { "put a.b -81.5 42", "get a.b", "get *" }, Read(64, output.WrittenSpan.ToArray()));
    }

    [TestMethod]
    public void AnOverLongLineIsTooLargeOnceAndSkippedWithoutBeingBuffered()
    {
        var reader = new MetricsRequestReader(16);
        var first = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("put " + new string('k', 40)));
        SequencePosition consumed = first.Start, examined = first.End;

        Assert.IsTrue(reader.TryParseMessage(first, ref consumed, ref examined, out MetricsRequest request));
        Assert.AreEqual(MessageStatus.TooLarge, request.Status);
        Assert.AreEqual(first.End, consumed, "the over-long bytes are released at once");

        // The rest of that line is skipped up to its newline; the next line is read normally.
        var rest = new ReadOnlySequence<byte>("kkkk 1 1\nget k\n"u8.ToArray());
        consumed = rest.Start;
        Assert.IsTrue(reader.TryParseMessage(rest, ref consumed, ref examined, out request));
        Assert.AreEqual("get k", Describe(request));
        Assert.IsFalse(reader.TryParseMessage(rest.Slice(consumed), ref consumed, ref examined, out _));
    }

    [TestMethod]
    public void ALineAtTheLimitIsAcceptedAndOneByteMoreIsNot()
    {
        CollectionAssert.AreEqual(new[] { "get 0123456789ab" }, Read(16, "get 0123456789ab\r\n"u8.ToArray()));
        CollectionAssert.AreEqual(new[] { "<TooLarge>", "get k" }, Read(16, "get 0123456789abc\nget k\n"u8.ToArray()));
    }

    [TestMethod]
    public void AKeySplitAcrossSegmentsIsWhole()
    {
        // The reader copies a split line once into its own buffer: the key must not be torn.
        string key = new('k', 200);
        byte[] bytes = Encoding.ASCII.GetBytes($"get {key}\nget {key}x\n");
        foreach ((string name, byte[][] chunks) in MessageFeed.Splits(bytes).Where(s => s.Chunks.Length == 2))
        {
            CollectionAssert.AreEqual(new[] { $"get {key}", $"get {key}x" }, Read(1024, chunks), name);
        }
    }

    [TestMethod]
    public void ReadsWhatTheResponseWriterWrites()
    {
        var output = new ArrayBufferWriter<byte>();
        MetricsResponseWriter.WriteStored(output);
        MetricsResponseWriter.WriteGetStart(output);
        MetricsResponseWriter.WritePoint(output, "cpu"u8, 0.5, 7);
        MetricsResponseWriter.WriteGetEnd(output);
        MetricsResponseWriter.WriteError(output);

        var reader = new MetricsResponseReader();
        List<string> replies = MessageFeed.Read<MetricsResponseReader, MetricsResponse>(
            ref reader, r => $"{r.Status} {(r.IsOk ? "ok" : "error")} [{Encoding.UTF8.GetString(r.Body)}]", output.WrittenSpan.ToArray());
        CollectionAssert.AreEqual(new[] { "Valid ok []", "Valid ok [cpu 0.5 7]", "Valid error [wrong command]" }, replies);
    }
}
