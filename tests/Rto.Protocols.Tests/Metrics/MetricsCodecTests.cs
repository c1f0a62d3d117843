using System.Buffers;
using System.Text;
using Rto.Protocols.Metrics;

namespace Rto.Protocols.Tests.Metrics;

[TestClass]
public sealed class MetricsCodecTests
{
    private static string Written(Action<ArrayBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return Encoding.UTF8.GetString(writer.WrittenSpan);
    }

    [TestMethod]
    public void WritesTheServerReplies()
    {
        Assert.AreEqual("ok\n\n", Written(w => MetricsResponseWriter.WriteStored(w)));
        Assert.AreEqual("error\nwrong command\n\n", Written(w => MetricsResponseWriter.WriteError(w)));
        Assert.AreEqual("ok\ncpu 10.0 1\ncpu 0.5 9223372036854775807\n\n", Written(w =>
        {
            MetricsResponseWriter.WriteGetStart(w);
            MetricsResponseWriter.WritePoint(w, "cpu"u8, 10, 1);
            MetricsResponseWriter.WritePoint(w, "cpu"u8, 0.5, long.MaxValue);
            MetricsResponseWriter.WriteGetEnd(w);
        }));
    }

    [TestMethod]
    public void WritesClientRequestsTheServerParses()
    {
        string put = Written(w => MetricsRequestWriter.WritePut(w, "boiler.t", 1e16, 1700000000));
        Assert.AreEqual("put boiler.t 1e+16 1700000000\n", put);
        Assert.IsTrue(MetricsRequestParser.TryParse(Encoding.UTF8.GetBytes(put.TrimEnd('\n')), out MetricsRequest request));
        Assert.AreEqual(1e16, request.Value);

        Assert.AreEqual("get *\n", Written(w => MetricsRequestWriter.WriteGet(w, "*")));
        Assert.AreEqual("get котёл\n", Written(w => MetricsRequestWriter.WriteGet(w, "котёл")));
    }

    [TestMethod]
    public void RefusesToWriteRequestsTheServerWouldReject()
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.ThrowsExactly<ArgumentException>(() => MetricsRequestWriter.WritePut(writer, "two words", 1, 1));
        Assert.ThrowsExactly<ArgumentException>(() => MetricsRequestWriter.WritePut(writer, "", 1, 1));
        Assert.ThrowsExactly<ArgumentException>(() => MetricsRequestWriter.WritePut(writer, "k", double.NaN, 1));
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => MetricsRequestWriter.WritePut(writer, "k", 1, -1));
        Assert.ThrowsExactly<ArgumentException>(() => MetricsRequestWriter.WriteGet(writer, "a\nput"));
        Assert.ThrowsExactly<ArgumentException>(() => MetricsRequestWriter.WriteGet(writer, "\ud800"));
        Assert.AreEqual(0, writer.WrittenCount, "nothing is written for a rejected request");
    }

    [TestMethod]
    public void ReadsRepliesSplitAtEveryByte()
    {
        byte[] replies = "ok\n\nerror\nwrong command\n\nok\na 1.0 1\nb 2.5 2\n\n"u8.ToArray();
        for (int at = 0; at <= replies.Length; at++)
        {
            var results = new List<(bool Ok, string Body)>();
            var reader = new MetricsResponseReader();
            byte[] pending = [];
            foreach (byte[] chunk in new[] { replies[..at], replies[at..] })
            {
                ReadOnlySequence<byte> buffer = Segments.Of(pending, chunk);
                SequencePosition consumed = buffer.Start, examined = buffer.End;
                while (reader.TryParseMessage(buffer.Slice(consumed), ref consumed, ref examined, out MetricsResponse response))
                {
                    Assert.AreEqual(MessageStatus.Valid, response.Status);
                    results.Add((response.IsOk, Encoding.UTF8.GetString(response.Body)));
                }

                Assert.AreEqual(buffer.End, examined, "a reader that needs more has looked at everything");
                pending = buffer.Slice(consumed).ToArray();
            }

            Assert.AreEqual(0, pending.Length);
            CollectionAssert.AreEqual(new[] { (true, ""), (false, "wrong command"), (true, "a 1.0 1\nb 2.5 2") }, results, $"split at {at}");
        }
    }

    [TestMethod]
    public void AReplyWithAnUnknownStatusIsMalformed()
    {
        var buffer = new ReadOnlySequence<byte>("hello\n\nok\n\n"u8.ToArray());
        SequencePosition consumed = buffer.Start, examined = buffer.End;
        Assert.IsTrue(new MetricsResponseReader().TryParseMessage(buffer, ref consumed, ref examined, out MetricsResponse response));
        Assert.AreEqual(MessageStatus.Malformed, response.Status);
        Assert.AreEqual("hello", Encoding.UTF8.GetString(response.Body), "the body of a malformed reply is the reply, for the error message");
        Assert.AreEqual(7, buffer.Slice(buffer.Start, consumed).Length, "only the malformed reply is consumed");
    }

    [TestMethod]
    public void ParsesPointLines()
    {
        Assert.IsTrue(MetricsResponseReader.TryParsePoint("cpu 10.5 17"u8, out ReadOnlySpan<byte> key, out double value, out long timestamp));
        Assert.AreEqual("cpu", Encoding.UTF8.GetString(key));
        Assert.AreEqual(10.5, value);
        Assert.AreEqual(17L, timestamp);
        Assert.IsFalse(MetricsResponseReader.TryParsePoint("cpu 10.5"u8, out _, out _, out _));
        Assert.IsFalse(MetricsResponseReader.TryParsePoint("cpu x 1"u8, out _, out _, out _));
    }
}
