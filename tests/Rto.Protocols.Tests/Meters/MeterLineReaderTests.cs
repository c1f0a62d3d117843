using System.Buffers;
using System.Text;
using Rto.Protocols.Meters;

namespace Rto.Protocols.Tests.Meters;

[TestClass]
public sealed class MeterLineReaderTests
{
    private static string Describe(MeterLine line) => line.Status switch
    {
        MessageStatus.Valid => FormattableString.Invariant($"{MeterLineParser.FormatIPv4(line.Reading.Ip)} {MeterTimestamp.ToString(line.Reading.Timestamp)} {line.Reading.Value}"),
        _ => $"<{line.Status}> {Encoding.UTF8.GetString(line.Text)}",
    };

    private static List<string> Read(int maxLineLength, params byte[][] chunks)
    {
        var reader = new MeterLineReader(maxLineLength);
        return MessageFeed.Read<MeterLineReader, MeterLine>(ref reader, Describe, chunks);
    }

    [TestMethod]
    public void ReadsWhatTheWriterWritesSplitAnywhere()
    {
        long t0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 23, 55).AddTicks(1234560));
        var output = new ArrayBufferWriter<byte>();
        MeterLineWriter.Write(output, new MeterReading(0x0A000001, t0, 109.5));
        MeterLineWriter.Write(output, new MeterReading(0xC0A80102, t0 + 1, -0.25));
        byte[] bytes = [.. output.WrittenSpan, .. "\r\n\nnot a reading\r\n"u8];

        string[] expected = ["10.0.0.1 2024.04.27 14:23:55.123456 109.5", "192.168.1.2 2024.04.27 14:23:55.123457 -0.25", "<Malformed> not a reading"];
        foreach ((string name, byte[][] chunks) in MessageFeed.Splits(bytes))
        {
            CollectionAssert.AreEqual(expected, Read(256, chunks), name);
        }
    }

    [TestMethod]
    public void BlankLinesAreSkippedNotRejected()
    {
        CollectionAssert.AreEqual(Array.Empty<string>(), Read(256, "\n\r\n\n"u8.ToArray()));
    }

    [TestMethod]
    public void AnOverLongLineIsTooLargeAndTheStreamGoesOn()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(new string('x', 100) + "\n10.0.0.1\t2024.04.27 14:23:55.123456\t1\n");
        CollectionAssert.AreEqual(new[] { "<TooLarge> ", "10.0.0.1 2024.04.27 14:23:55.123456 1" }, Read(64, bytes));
        CollectionAssert.AreEqual(new[] { "<TooLarge> ", "10.0.0.1 2024.04.27 14:23:55.123456 1" }, Read(64, bytes[..70], bytes[70..]));
    }
}
