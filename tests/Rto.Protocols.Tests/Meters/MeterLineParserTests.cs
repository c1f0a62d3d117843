using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Rto.Protocols.Meters;

namespace Rto.Protocols.Tests.Meters;

[TestClass]
public sealed class MeterLineParserTests
{
    private static bool Parse(string line, out MeterReading reading) => MeterLineParser.TryParse(Encoding.UTF8.GetBytes(line), out reading);

    [TestMethod]
    public void ParsesAValidLine()
    {
        Assert.IsTrue(Parse("10.0.0.1\t2024.04.27 14:23:55.123456\t109.5", out MeterReading reading));
        Assert.AreEqual(0x0A000001u, reading.Ip);
        Assert.AreEqual(new DateTime(2024, 4, 27, 14, 23, 55).AddTicks(1234560), MeterTimestamp.ToDateTime(reading.Timestamp));
        Assert.AreEqual(109.5, reading.Value);
    }

    [TestMethod]
    [DataRow("255.255.255.255\t0001.01.01 00:00:00.000000\t0", 0xFFFFFFFFu, 0.0)]
    [DataRow("1.2.3.4\t2024.02.29 23:59:59.999999\t-1.5e2", 0x01020304u, -150.0)]
    [DataRow("1.2.3.4\t2024.02.29 23:59:59.999999\t.5", 0x01020304u, 0.5)]
    public void ParsesEdgeValues(string line, uint ip, double value)
    {
        Assert.IsTrue(Parse(line, out MeterReading reading));
        Assert.AreEqual(ip, reading.Ip);
        Assert.AreEqual(value, reading.Value);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("10.0.0.1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t1\t2")]
    [DataRow("10.0.0.1 2024.04.27 14:23:55.123456 1")]
    [DataRow("10.0.0\t2024.04.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1.5\t2024.04.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.256\t2024.04.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1000\t2024.04.27 14:23:55.123456\t1")]
    [DataRow("10..0.1\t2024.04.27 14:23:55.123456\t1")]
    [DataRow("a.b.c.d\t2024.04.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1 \t2024.04.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.12345\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.1234567\t1")]
    [DataRow("10.0.0.1\t2024.4.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t24.04.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024-04-27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.27T14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.02.30 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2023.02.29 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.13.01 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.00.01 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.00 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.27 24:00:00.000000\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:60:00.000000\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:60.000000\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:5a.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\tabc")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t1,5")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t1.5V")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\tNaN")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t1e400")]
    public void RejectsMalformedLines(string line)
    {
        Assert.IsFalse(Parse(line, out _));
    }

    [TestMethod]
    public void WriterOutputParsesBack()
    {
        var reading = new MeterReading(0x0A000102, MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 23, 55)) + 123, 0.1 + 0.2);
        var buffer = new ArrayBufferWriter<byte>();
        MeterLineWriter.Write(buffer, reading);

        string text = Encoding.UTF8.GetString(buffer.WrittenSpan);
        Assert.AreEqual("10.0.1.2\t2024.04.27 14:23:55.000123\t0.30000000000000004\n", text);
        Assert.IsTrue(MeterLineParser.TryParse(buffer.WrittenSpan[..^1], out MeterReading parsed));
        Assert.AreEqual(reading, parsed);
    }

    [TestMethod]
    public void FramedStreamWithCrLfBlankLinesAndSplitSegments()
    {
        byte[] bytes = Encoding.UTF8.GetBytes("10.0.0.1\t2024.04.27 14:23:55.000001\t1\r\n\n\r\n10.0.0.2\t2024.04.27 14:23:55.000002\t0.25\n");
        for (int at = 1; at < bytes.Length; at++)
        {
            ReadOnlySequence<byte> buffer = Segments.SplitAt(bytes, at);
            var framer = new LineFramer(256);
            var readings = new List<MeterReading>();
            while (framer.TryReadLine(ref buffer, out ReadOnlySequence<byte> line) == LineReadStatus.Line)
            {
                if (line.IsEmpty)
                {
                    continue;
                }

                Assert.IsTrue(MeterLineParser.TryParse(line.ToArray(), out MeterReading reading), $"split at {at}");
                readings.Add(reading);
            }

            Assert.HasCount(2, readings);
            Assert.AreEqual(0.25, readings[1].Value);
            Assert.AreEqual(readings[0].Timestamp + 1, readings[1].Timestamp);
        }
    }

    [TestMethod]
    public void ParsingDoesNotAllocate()
    {
        byte[] line = "10.0.0.1\t2024.04.27 14:23:55.123456\t109.5"u8.ToArray();
        MeterLineParser.TryParse(line, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            MeterLineParser.TryParse(line, out _);
        }

        Assert.AreEqual(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [TestMethod]
    public async Task RegistryAcceptsCyrillicAndLatinUnits()
    {
        byte[] text = Encoding.UTF8.GetBytes("\uFEFF10.0.0.1\t0\t110\tВ\r\n10.0.0.2\t0\t0.5\tА\n# comment\n\n10.0.0.3\t0.2\t1\tA\n10.0.0.4\t0\t1\tV\n10.0.0.5\t0\t1\tW\n10.0.0.6\t2\t1\tV\nbad\n10.0.0.7\t0\t1\tA");
        MeterRegistryContent content = await MeterRegistryReader.ReadAsync(PipeReader.Create(new MemoryStream(text), new StreamPipeReaderOptions(bufferSize: 7, minimumReadSize: 3)));

        CollectionAssert.AreEqual(
            new[]
            {
                new MeterDefinition(0x0A000001, 0, 110, MeterUnit.Volt),
                new MeterDefinition(0x0A000002, 0, 0.5, MeterUnit.Ampere),
                new MeterDefinition(0x0A000003, 0.2, 1, MeterUnit.Ampere),
                new MeterDefinition(0x0A000004, 0, 1, MeterUnit.Volt),
                new MeterDefinition(0x0A000007, 0, 1, MeterUnit.Ampere),
            },
            content.Meters.ToArray(),
            string.Join(";", content.Meters) + " / " + string.Join(";", content.Errors));
        CollectionAssert.AreEqual(new[] { 7, 8, 9 }, content.Errors.Select(e => e.LineNumber).ToArray());
    }
}
