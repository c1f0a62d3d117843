using System.Globalization;
using System.Text;
using Rto.Protocols.Metrics;

namespace Rto.Protocols.Tests.Metrics;

[TestClass]
public sealed class MetricValueTests
{
    private static string Format(double value)
    {
        Span<byte> buffer = stackalloc byte[MetricValue.MaxFormattedLength];
        Assert.IsTrue(MetricValue.TryFormat(value, buffer, out int written));
        return Encoding.ASCII.GetString(buffer[..written]);
    }

    // Expected strings are Python's repr() of the same floats.
    [TestMethod]
    [DataRow(10.0, "10.0")]
    [DataRow(10.5, "10.5")]
    [DataRow(0.001, "0.001")]
    [DataRow(0.0001, "0.0001")]
    [DataRow(0.00001, "1e-05")]
    [DataRow(1.5e-7, "1.5e-07")]
    [DataRow(0.0, "0.0")]
    [DataRow(-0.0, "-0.0")]
    [DataRow(-2.25, "-2.25")]
    [DataRow(1e15, "1000000000000000.0")]
    [DataRow(1e16, "1e+16")]
    [DataRow(1.5e16, "1.5e+16")]
    [DataRow(1e20, "1e+20")]
    [DataRow(123456789.125, "123456789.125")]
    [DataRow(0.1 + 0.2, "0.30000000000000004")]
    [DataRow(1.7976931348623157e308, "1.7976931348623157e+308")]
    [DataRow(5e-324, "5e-324")]
    [DataRow(100.0, "100.0")]
    public void FormatsLikePythonRepr(double value, string expected) => Assert.AreEqual(expected, Format(value));

    [TestMethod]
    [DataRow("10", 10.0)]
    [DataRow("10.5", 10.5)]
    [DataRow("-0.5", -0.5)]
    [DataRow("+3", 3.0)]
    [DataRow(".5", 0.5)]
    [DataRow("5.", 5.0)]
    [DataRow("1e3", 1000.0)]
    [DataRow("1E-3", 0.001)]
    [DataRow("0.001", 0.001)]
    [DataRow("000123.4500", 123.45)]
    [DataRow("1.7976931348623157e308", 1.7976931348623157e308)]
    [DataRow("3.141592653589793238462643", 3.141592653589793)]
    [DataRow("1e-400", 0.0)]
    public void ParsesDecimalFloats(string text, double expected)
    {
        Assert.IsTrue(MetricValue.TryParse(Encoding.ASCII.GetBytes(text), out double value));
        Assert.AreEqual(expected, value);
    }

    /// <summary>What Python's <c>float()</c> reads beyond plain decimals, which the original server took as values.</summary>
    [TestMethod]
    [DataRow("1_000.5", 1000.5)]
    [DataRow("1_0e1_0", 1e11)]
    [DataRow("inf", double.PositiveInfinity)]
    [DataRow("-inf", double.NegativeInfinity)]
    [DataRow("+Infinity", double.PositiveInfinity)]
    [DataRow("1e400", double.PositiveInfinity)]
    [DataRow("-1e400", double.NegativeInfinity)]
    [DataRow(" 1 ", 1.0)]
    public void ParsesWhatPythonFloatParses(string text, double expected)
    {
        Assert.IsTrue(MetricValue.TryParse(Encoding.ASCII.GetBytes(text), out double value), text);
        Assert.AreEqual(expected, value);
    }

    [TestMethod]
    [DataRow("nan", "nan")]
    [DataRow("NaN", "nan")]
    [DataRow("-nan", "nan")]
    [DataRow("inf", "inf")]
    [DataRow("-inf", "-inf")]
    [DataRow("1e400", "inf")]
    public void NonFiniteValuesPrintAsPythonPrintsThem(string text, string printed)
    {
        Assert.IsTrue(MetricValue.TryParse(Encoding.ASCII.GetBytes(text), out double value), text);
        Assert.AreEqual(printed, Format(value));
    }

    /// <summary>Refused by Python's <c>float()</c> too (ValueError).</summary>
    [TestMethod]
    [DataRow("")]
    [DataRow(".")]
    [DataRow("-")]
    [DataRow("1e")]
    [DataRow("1.2.3")]
    [DataRow("0x10")]
    [DataRow("1,5")]
    [DataRow("_1")]
    [DataRow("1_")]
    [DataRow("1__0")]
    [DataRow("1_.5")]
    [DataRow("nanx")]
    [DataRow("infinit")]
    [DataRow("ten")]
    public void RejectsWhatPythonFloatRejects(string text) => Assert.IsFalse(MetricValue.TryParse(Encoding.ASCII.GetBytes(text), out _), text);

    [TestMethod]
    public void RoundTripsRandomDoublesExactly()
    {
        var random = new Random(42);
        for (int i = 0; i < 20000; i++)
        {
            double value = i % 2 == 0
                ? BitConverter.Int64BitsToDouble(random.NextInt64()) // any bit pattern, any exponent
                : Math.Round((random.NextDouble() - 0.5) * 1e6, random.Next(0, 8));
            if (!double.IsFinite(value))
            {
                continue;
            }

            string text = Format(value);
            Assert.IsTrue(MetricValue.TryParse(Encoding.ASCII.GetBytes(text), out double parsed), text);
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(parsed), $"{value.ToString("R", CultureInfo.InvariantCulture)} printed as {text}");
        }
    }
}
