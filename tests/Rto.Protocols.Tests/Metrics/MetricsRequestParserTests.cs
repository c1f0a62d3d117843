using System.Text;
using Rto.Protocols.Metrics;

namespace Rto.Protocols.Tests.Metrics;

[TestClass]
public sealed class MetricsRequestParserTests
{
    [TestMethod]
    public void ParsesAPut()
    {
        Assert.IsTrue(MetricsRequestParser.TryParse("put palm.cpu 10.5 1150864247"u8, out MetricsRequest request));
        Assert.AreEqual(MetricsCommand.Put, request.Command);
        Assert.AreEqual("palm.cpu", Encoding.UTF8.GetString(request.Key));
        Assert.AreEqual(10.5, request.Value);
        Assert.AreEqual(1150864247L, request.Timestamp);
    }

    [TestMethod]
    public void SeparatesTokensByRunsOfSpacesAndTabs()
    {
        Assert.IsTrue(MetricsRequestParser.TryParse(" \tput  key\t\t-1e3   0 \t"u8, out MetricsRequest request));
        Assert.AreEqual("key", Encoding.UTF8.GetString(request.Key));
        Assert.AreEqual(-1000.0, request.Value);
        Assert.AreEqual(0L, request.Timestamp);
    }

    [TestMethod]
    public void ParsesGetAndGetAll()
    {
        Assert.IsTrue(MetricsRequestParser.TryParse("get eardrum.memory"u8, out MetricsRequest get));
        Assert.AreEqual(MetricsCommand.Get, get.Command);
        Assert.AreEqual("eardrum.memory", Encoding.UTF8.GetString(get.Key));

        Assert.IsTrue(MetricsRequestParser.TryParse("get *"u8, out MetricsRequest all));
        Assert.AreEqual(MetricsCommand.GetAll, all.Command);
    }

    [TestMethod]
    public void AcceptsUnicodeKeysAndTheLargestTimestamp()
    {
        Assert.IsTrue(MetricsRequestParser.TryParse(Encoding.UTF8.GetBytes("put котёл.t 1 9223372036854775807"), out MetricsRequest request));
        Assert.AreEqual("котёл.t", Encoding.UTF8.GetString(request.Key));
        Assert.AreEqual(long.MaxValue, request.Timestamp);
    }

    [TestMethod]
    [DataRow("")]
    [DataRow("   ")]
    [DataRow("put")]
    [DataRow("put key")]
    [DataRow("put key 1")]
    [DataRow("put key 1 1 extra")]
    [DataRow("put key abc 1")]
    [DataRow("put key 1 1.5")]
    [DataRow("put key 1 1e3")]
    [DataRow("put key 1 9223372036854775808")]
    [DataRow("put key 1 99999999999999999999")]
    [DataRow("put key 1 -9223372036854775809")]
    [DataRow("put key 1 1__0")]
    [DataRow("put key 1 _1")]
    [DataRow("put key 1_ 1")]
    [DataRow("get")]
    [DataRow("get a b")]
    [DataRow("PUT key 1 1")]
    [DataRow("GET key")]
    [DataRow("delete key")]
    [DataRow("put\u00a0key 1 1")]
    public void RejectsMalformedRequests(string line) => Assert.IsFalse(MetricsRequestParser.TryParse(Encoding.UTF8.GetBytes(line), out _), line);

    [TestMethod]
    public void RejectsNulBinaryAndInvalidUtf8Keys()
    {
        Assert.IsFalse(MetricsRequestParser.TryParse("put a\0b 1 1"u8, out _));
        Assert.IsFalse(MetricsRequestParser.TryParse("put \x01\x02 1 1"u8, out _));
        Assert.IsFalse(MetricsRequestParser.TryParse([.. "put "u8, 0xFF, 0xFE, .. " 1 1"u8], out _));
        Assert.IsFalse(MetricsRequestParser.TryParse([.. "get "u8, 0xC3], out _));
        Assert.IsFalse(MetricsRequestParser.TryParse([.. "put k"u8, 0x7F, .. " 1 1"u8], out _));
    }

    /// <summary>The original server read <c>float(value)</c> and <c>int(timestamp)</c>; whatever those took, it stored.</summary>
    [TestMethod]
    [DataRow("put k 1 -5", 1.0, -5L)]
    [DataRow("put k 1 +5", 1.0, 5L)]
    [DataRow("put k 1_000.5 1_700_000_000", 1000.5, 1700000000L)]
    [DataRow("put k nan 1", double.NaN, 1L)]
    [DataRow("put k inf 1", double.PositiveInfinity, 1L)]
    [DataRow("put k -inf 1", double.NegativeInfinity, 1L)]
    [DataRow("put k 1 00000000001700000000", 1.0, 1700000000L)]
    [DataRow("put k 1 -9223372036854775808", 1.0, long.MinValue)]
    public void AcceptsWhatTheOriginalServerAccepted(string line, double value, long timestamp)
    {
        Assert.IsTrue(MetricsRequestParser.TryParse(Encoding.UTF8.GetBytes(line), out MetricsRequest request), line);
        Assert.AreEqual(MetricsCommand.Put, request.Command);
        Assert.AreEqual(value, request.Value);
        Assert.AreEqual(timestamp, request.Timestamp);
    }

    /// <summary>A key <c>*</c> could only be read back among all keys; it is refused with a message saying so.</summary>
    [TestMethod]
    public void RefusesTheKeyStar()
    {
        Assert.IsFalse(MetricsRequestParser.TryParse("put * 1 1"u8, out MetricsRequest request));
        Assert.AreEqual(MessageStatus.Malformed, request.Status);
        Assert.AreEqual("wrong command: * is not a key, get * reads every key", Encoding.UTF8.GetString(request.ErrorMessage));

        Assert.IsFalse(MetricsRequestParser.TryParse("put k x 1"u8, out MetricsRequest other));
        Assert.AreEqual("wrong command", Encoding.UTF8.GetString(other.ErrorMessage));
    }
}
