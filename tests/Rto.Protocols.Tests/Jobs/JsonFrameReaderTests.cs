using System.Buffers;
using System.Text;
using Rto.Protocols.Jobs;

namespace Rto.Protocols.Tests.Jobs;

[TestClass]
public sealed class JsonFrameReaderTests
{
    /// <summary>Feeds the chunks as a pipe would and returns each frame's text, or a status marker.</summary>
    private static List<string> Feed(JsonFrameReader reader, params byte[][] chunks)
    {
        var frames = new List<string>();
        byte[] pending = [];
        foreach (byte[] chunk in chunks)
        {
            ReadOnlySequence<byte> buffer = Segments.Of(pending, chunk);
            while (true)
            {
                JsonFrameStatus status = reader.TryReadFrame(ref buffer, out ReadOnlySequence<byte> frame);
                if (status == JsonFrameStatus.NeedMoreData)
                {
                    break;
                }

                frames.Add(status == JsonFrameStatus.Frame ? Encoding.UTF8.GetString(frame) : $"<{status}>");
                if (status != JsonFrameStatus.Frame)
                {
                    return frames;
                }
            }

            pending = buffer.ToArray();
        }

        return frames;
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [TestMethod]
    public void FindsOneObject()
    {
        CollectionAssert.AreEqual(new[] { """{"Header":"Info","Request":"Status"}""" }, Feed(new JsonFrameReader(1024), Utf8("""{"Header":"Info","Request":"Status"}""")));
    }

    [TestMethod]
    public void FindsObjectsBackToBackWithAndWithoutWhitespace()
    {
        List<string> frames = Feed(new JsonFrameReader(1024), Utf8("{\"a\":1}{\"b\":[1,2]}\n  \r\n{\"c\":{}} [3]"));
        CollectionAssert.AreEqual(new[] { """{"a":1}""", """{"b":[1,2]}""", """{"c":{}}""", "[3]" }, frames);
    }

    [TestMethod]
    public void FindsObjectsSplitAtEveryByte()
    {
        const string Text = """{"Header":"Dask","Request":{"Directory":"/d/","Base":"b.parquet","File":"w.sql"}} {"x":"}{"}""";
        byte[] bytes = Utf8(Text);
        for (int at = 1; at < bytes.Length; at++)
        {
            List<string> frames = Feed(new JsonFrameReader(1024), bytes[..at], bytes[at..]);
            Assert.HasCount(2, frames, $"split at {at}");
            Assert.AreEqual("""{"x":"}{"}""", frames[1], $"split at {at}");
        }

        // And one byte per read, the way a slow client trickles it in.
        List<string> trickled = Feed(new JsonFrameReader(1024), [.. bytes.Select(b => new[] { b })]);
        CollectionAssert.AreEqual(new[] { Text[..^11], """{"x":"}{"}""" }, trickled);
    }

    [TestMethod]
    public void BracesAndQuotesInsideStringsDoNotEndTheObject()
    {
        const string Text = """{"s":"}}}{{{ \"}\" ]]","n":{"t":"\\"}}""";
        CollectionAssert.AreEqual(new[] { Text }, Feed(new JsonFrameReader(1024), Utf8(Text)));
    }

    [TestMethod]
    public void ObjectOverTheLimitIsRefusedWithoutWaitingForItsEnd()
    {
        var reader = new JsonFrameReader(16);
        CollectionAssert.AreEqual(new[] { "<TooLarge>" }, Feed(reader, Utf8("{\"a\":\"0123456789"), Utf8("0123456789")));
        CollectionAssert.AreEqual(new[] { """{"a":"012345678"}""" }, Feed(new JsonFrameReader(17), Utf8("""{"a":"012345678"}""")));
    }

    [TestMethod]
    public void InvalidJsonIsReportedWithAReason()
    {
        var reader = new JsonFrameReader(1024);
        ReadOnlySequence<byte> buffer = new(Utf8("hello"));
        Assert.AreEqual(JsonFrameStatus.Invalid, reader.TryReadFrame(ref buffer, out _));
        Assert.IsFalse(string.IsNullOrEmpty(reader.InvalidReason));
        CollectionAssert.AreEqual(new[] { """{"a":1}""", "<Invalid>" }, Feed(new JsonFrameReader(1024), Utf8("{\"a\":1}{\"a\" 1}")));
    }

    [TestMethod]
    public void HalfAnObjectWaitsForMore()
    {
        var reader = new JsonFrameReader(1024);
        ReadOnlySequence<byte> buffer = new(Utf8("  {\"Header\":\"In"));
        Assert.AreEqual(JsonFrameStatus.NeedMoreData, reader.TryReadFrame(ref buffer, out _));
        Assert.AreEqual(13, buffer.Length, "leading whitespace is consumed, the partial object is kept");
    }
}
