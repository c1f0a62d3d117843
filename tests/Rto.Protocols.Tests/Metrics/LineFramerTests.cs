using System.Buffers;
using System.Text;

namespace Rto.Protocols.Tests.Metrics;

[TestClass]
public sealed class LineFramerTests
{
    private static List<string> ReadAll(ref LineFramer framer, ref ReadOnlySequence<byte> buffer)
    {
        var lines = new List<string>();
        while (true)
        {
            LineReadStatus status = framer.TryReadLine(ref buffer, out ReadOnlySequence<byte> line);
            if (status == LineReadStatus.NeedMoreData)
            {
                return lines;
            }

            lines.Add(status == LineReadStatus.Line ? Encoding.UTF8.GetString(line) : "<too long>");
        }
    }

    /// <summary>Feeds the bytes as a pipe would: unconsumed bytes stay, new bytes are appended.</summary>
    private static List<string> Feed(LineFramer framer, params byte[][] chunks)
    {
        var lines = new List<string>();
        byte[] pending = [];
        foreach (byte[] chunk in chunks)
        {
            ReadOnlySequence<byte> buffer = Segments.Of(pending, chunk);
            lines.AddRange(ReadAll(ref framer, ref buffer));
            pending = buffer.ToArray();
        }

        return lines;
    }

    [TestMethod]
    public void SplitsLinesAndDropsCarriageReturns()
    {
        var framer = new LineFramer(64);
        var buffer = new ReadOnlySequence<byte>("put a 1 1\r\nget a\n\nget *\npartial"u8.ToArray());

        List<string> lines = ReadAll(ref framer, ref buffer);

        CollectionAssert.AreEqual(new[] { "put a 1 1", "get a", "", "get *" }, lines);
        Assert.AreEqual("partial", Encoding.UTF8.GetString(buffer));
    }

    [TestMethod]
    public void FindsTheSameLinesWhateverTheSplitPoint()
    {
        byte[] input = "put cpu 10.5 1700000000\r\nget cpu\nget *\n"u8.ToArray();
        for (int at = 0; at <= input.Length; at++)
        {
            var framer = new LineFramer(64);
            List<string> lines = Feed(framer, input[..at], input[at..]);
            CollectionAssert.AreEqual(new[] { "put cpu 10.5 1700000000", "get cpu", "get *" }, lines, $"split at {at}");
        }
    }

    [TestMethod]
    public void FindsLinesInBytesArrivingOneAtATime()
    {
        byte[] input = "put cpu 10.5 1\r\nget cpu\n"u8.ToArray();
        var framer = new LineFramer(64);
        List<string> lines = Feed(framer, [.. input.Select(b => new[] { b })]);
        CollectionAssert.AreEqual(new[] { "put cpu 10.5 1", "get cpu" }, lines);
    }

    [TestMethod]
    public void ReportsAnOverlongLineOnceAndDiscardsItWithoutBuffering()
    {
        var framer = new LineFramer(16);
        byte[] longPart = new byte[1000];
        Array.Fill(longPart, (byte)'x');

        var buffer = new ReadOnlySequence<byte>(longPart);
        Assert.AreEqual(LineReadStatus.LineTooLong, framer.TryReadLine(ref buffer, out _));
        Assert.AreEqual(0, buffer.Length, "the overlong bytes are consumed, not kept");

        buffer = new ReadOnlySequence<byte>(longPart);
        Assert.AreEqual(LineReadStatus.NeedMoreData, framer.TryReadLine(ref buffer, out _));
        Assert.AreEqual(0, buffer.Length, "still discarding");

        buffer = new ReadOnlySequence<byte>("xxx\nget a\n"u8.ToArray());
        CollectionAssert.AreEqual(new[] { "get a" }, ReadAll(ref framer, ref buffer));
    }

    [TestMethod]
    public void RejectsACompleteLineOverTheLimitAndKeepsGoing()
    {
        var framer = new LineFramer(8);
        var buffer = new ReadOnlySequence<byte>("123456789\n12345678\n12345678\r\n"u8.ToArray());
        CollectionAssert.AreEqual(new[] { "<too long>", "12345678", "12345678" }, ReadAll(ref framer, ref buffer));
    }

    [TestMethod]
    public void WaitsForTheNewlineOfALineExactlyAtTheLimit()
    {
        var framer = new LineFramer(8);
        var buffer = new ReadOnlySequence<byte>("12345678\r"u8.ToArray());
        Assert.AreEqual(LineReadStatus.NeedMoreData, framer.TryReadLine(ref buffer, out _));
        Assert.AreEqual(9, buffer.Length);
    }
}
