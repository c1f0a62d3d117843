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
    [DataRow("put key nan 1")]
    [DataRow("put key inf 1")]
    [DataRow("put key -inf 1")]
    [DataRow("put key abc 1")]
    [DataRow("put key 1 -1")]
    [DataRow("put key 1 1.5")]
    [DataRow("put key 1 1e3")]
    [DataRow("put key 1 +1")]
    [DataRow("put key 1 9223372036854775808")]
    [DataRow("put key 1 99999999999999999999")]
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
}
