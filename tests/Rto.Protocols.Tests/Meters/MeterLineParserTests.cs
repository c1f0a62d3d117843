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
        Assert.AreEqual("10.0.0.1", reading.Meter);
        Assert.AreEqual(new DateTime(2024, 4, 27, 14, 23, 55).AddTicks(1234560), MeterTimestamp.ToDateTime(reading.Timestamp));
        Assert.AreEqual(109.5, reading.Value);
    }

    /// <summary>
    /// Each line with what the original server's <c>process_incoming_line</c> made of it
    /// (<c>line.strip().split("\t")</c>, <c>strptime("%Y.%m.%d %H:%M:%S.%f")</c>, <c>float()</c>),
    /// as /usr/bin/python3 (3.11) printed it: <c>repr(ip) str(datetime) repr(value)</c>.
    /// </summary>
    [TestMethod]
    [DataRow(" 10.0.0.1\t2024.04.27 14:23:55.123456\t109.5 ", "'10.0.0.1' 2024.04.27 14:23:55.123456 109.5")]
    [DataRow("10.0.0.1\t2024.4.7 4:3:5.5\t1_000.5", "'10.0.0.1' 2024.04.07 04:03:05.500000 1000.5")]
    [DataRow("10.0.0.1\t2024.04.27  14:23:55.1\t 2 ", "'10.0.0.1' 2024.04.27 14:23:55.100000 2.0")]
    [DataRow("10.0.0.1\t2024.04. 7 14:23:55.0\t1", "'10.0.0.1' 2024.04.07 14:23:55.000000 1.0")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\tnan", "'10.0.0.1' 2024.04.27 14:23:55.000000 nan")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\t-inf", "'10.0.0.1' 2024.04.27 14:23:55.000000 -inf")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\t1e400", "'10.0.0.1' 2024.04.27 14:23:55.000000 inf")]
    [DataRow("010.0.0.1\t2024.04.27 14:23:55.0\t1", "'010.0.0.1' 2024.04.27 14:23:55.000000 1.0")]
    [DataRow("meter-A\t2024.04.27 14:23:55.0\t1", "'meter-A' 2024.04.27 14:23:55.000000 1.0")]
    [DataRow("10.0.0.1 \t2024.04.27 14:23:55.0\t1", "'10.0.0.1 ' 2024.04.27 14:23:55.000000 1.0")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\t1\t", "'10.0.0.1' 2024.04.27 14:23:55.000000 1.0")]
    [DataRow("10.0.0.1\t0001.01.01 00:00:00.0\t0", "'10.0.0.1' 0001.01.01 00:00:00.000000 0.0")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\t\u0661\u0662\u0663", "'10.0.0.1' 2024.04.27 14:23:55.000000 123.0")]
    [DataRow("10.0.0.1\t\u0662\u0660\u0662\u0664.04.27 14:23:55.0\t1", "'10.0.0.1' 2024.04.27 14:23:55.000000 1.0")]
    [DataRow("10.0.0.1\t2024.04.27\u00a014:23:55.0\t1", "'10.0.0.1' 2024.04.27 14:23:55.000000 1.0")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t-1.5e2", "'10.0.0.1' 2024.04.27 14:23:55.123456 -150.0")]
    [DataRow("10.0.0.1\t2024.02.29 23:59:59.999999\t.5", "'10.0.0.1' 2024.02.29 23:59:59.999999 0.5")]
    public void ReadsLinesAsTheOriginalServerDid(string line, string expected)
    {
        Assert.IsTrue(Parse(line, out MeterReading reading), line);
        byte[] value = new byte[PythonNumber.MaxFloatLength];
        Assert.IsTrue(PythonNumber.TryFormatFloat(reading.Value, value, out int length));
        Assert.AreEqual(expected, $"'{reading.Meter}' {MeterTimestamp.ToString(reading.Timestamp)} {Encoding.ASCII.GetString(value, 0, length)}");
    }

    /// <summary>Lines the original server refused with a ValueError or as not three fields (checked with /usr/bin/python3 3.11).</summary>
    [TestMethod]
    [DataRow("")]
    [DataRow("10.0.0.1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t1\t2")]
    [DataRow("10.0.0.1 2024.04.27 14:23:55.123456 1")]
    [DataRow("\t2024.04.27 14:23:55.0\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.1234567\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55\t1")]
    [DataRow("10.0.0.1\t24.04.27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024-04-27 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.27T14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t 2024.04.27 14:23:55.0\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0 \t1")]
    [DataRow("10.0.0.1\t2024.02.30 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2023.02.29 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.13.01 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.00.01 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.00 14:23:55.123456\t1")]
    [DataRow("10.0.0.1\t0000.01.01 00:00:00.0\t1")]
    [DataRow("10.0.0.1\t2024.04.27 24:00:00.000000\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:60:00.000000\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:60.0\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:5a.123456\t1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\tabc")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t1,5")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.123456\t1.5V")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\t1__0")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\t_1")]
    [DataRow("10.0.0.1\t2024.04.27 14:23:55.0\t0x10")]
    public void RejectsWhatTheOriginalRejected(string line)
    {
        Assert.IsFalse(Parse(line, out _), line);
    }

    [TestMethod]
    [DataRow("10.0.0.1", 0x0A000001u)]
    [DataRow("255.255.255.255", 0xFFFFFFFFu)]
    [DataRow("0.0.0.0", 0u)]
    public void ParsesIPv4AsInetPton(string text, uint expected)
    {
        Assert.IsTrue(MeterLineParser.TryParseIPv4(Encoding.ASCII.GetBytes(text), out uint ip));
        Assert.AreEqual(expected, ip);
    }

    /// <summary>inet_pton refuses a leading zero (<c>010</c> would be octal 8 to inet_aton); so does Rto, never reading it as 10.</summary>
    [TestMethod]
    [DataRow("010.0.0.1")]
    [DataRow("10.0.0.01")]
    [DataRow("10.00.0.1")]
    [DataRow("10.0.0")]
    [DataRow("10.0.0.1.5")]
    [DataRow("10.0.0.256")]
    [DataRow("10.0.0.1000")]
    [DataRow("10..0.1")]
    [DataRow("a.b.c.d")]
    [DataRow("10.0.0.1 ")]
    public void RefusesIPv4ThatInetPtonRefuses(string text)
    {
        Assert.IsFalse(MeterLineParser.TryParseIPv4(Encoding.ASCII.GetBytes(text), out _), text);
    }

    [TestMethod]
    public void WriterOutputParsesBack()
    {
        var reading = new MeterReading("10.0.1.2", MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 23, 55)) + 123, 0.1 + 0.2);
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
        MeterLineParser.TryParse(line, out _, out _, out _);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            MeterLineParser.TryParse(line, out _, out _, out _);
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
                new MeterDefinition("10.0.0.1", 0, 110, MeterUnit.Volt),
                new MeterDefinition("10.0.0.2", 0, 0.5, MeterUnit.Ampere),
                new MeterDefinition("10.0.0.3", 0.2, 1, MeterUnit.Ampere),
                new MeterDefinition("10.0.0.4", 0, 1, MeterUnit.Volt),
                new MeterDefinition("10.0.0.7", 0, 1, MeterUnit.Ampere),
            },
            content.Meters.ToArray(),
            string.Join(";", content.Meters) + " / " + string.Join(";", content.Errors));
        CollectionAssert.AreEqual(new[] { 7, 8, 9 }, content.Errors.Select(e => e.LineNumber).ToArray());
    }
}
