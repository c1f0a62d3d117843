using Rto.Client.Messenger;
using Rto.Server.Messenger;

namespace Rto.Server.Tests.Cluster;

/// <summary>In a cluster a send time is the time the stream stored the message, to the nanosecond, the same on every node.</summary>
[TestClass]
public sealed class StoredTimeTests
{
    [TestMethod]
    [DataRow("$JS.ACK.RTO_MESSENGER.reader.1.42.7.1631442322454093428.0", 1631442322454093428L)]
    [DataRow("$JS.ACK.hub.ACCHASH.RTO_MESSENGER.reader.1.42.7.1631442322454093428.0.x8", 1631442322454093428L)]
    public void The_stored_time_is_read_from_both_forms_of_the_reply_subject(string replyTo, long nanos)
    {
        Assert.IsTrue(JetStreamSequencer.TryParseStoredTime(replyTo, out long parsed));
        Assert.AreEqual(nanos, parsed);
    }

    [TestMethod]
    [DataRow(null)]
    [DataRow("_INBOX.abc")]
    [DataRow("$JS.ACK.too.short")]
    [DataRow("$JS.ACK.RTO_MESSENGER.reader.1.42.7.notanumber.0")]
    public void Anything_else_is_not_a_stored_time(string? replyTo) =>
        Assert.IsFalse(JetStreamSequencer.TryParseStoredTime(replyTo, out _));

    [TestMethod]
    [DataRow("2021-09-12T10:25:22.454093428Z", 1631442322454093428L)]
    [DataRow("2021-09-12T10:25:22.1Z", 1631442322100000000L)]
    [DataRow("2021-09-12T10:25:22Z", 1631442322000000000L)]
    public void A_stream_state_time_keeps_its_nanoseconds(string text, long nanos)
    {
        Assert.IsTrue(JetStreamSequencer.TryParseTime(text, out long parsed));
        Assert.AreEqual(nanos, parsed);
    }

    [TestMethod]
    public void Two_nodes_reading_the_same_stored_times_give_the_same_send_times()
    {
        long[] stored = [1631442322454093000, 1631442322454093428, 1631442322454093429, 1631442322454090000];
        var first = new SendClock();
        var second = new SendClock();
        first.At(1631442322000000000);
        second.At(1631442322000000000); // the stream's last message when each node started

        string[] a = [.. stored.Select(t => MessengerTime.ToText(first.At(t)))];
        string[] b = [.. stored.Select(t => MessengerTime.ToText(second.At(t)))];

        CollectionAssert.AreEqual(a, b);
        Assert.AreEqual("2021-09-12T10:25:22.454093001Z", a[0], "a whole microsecond is nudged so the text keeps 9 digits");
        Assert.AreEqual("2021-09-12T10:25:22.454093428Z", a[1]);
        Assert.AreEqual("2021-09-12T10:25:22.454093429Z", a[2]);
        Assert.AreEqual("2021-09-12T10:25:22.454093430Z", a[3], "a stored time that went back still gives a later send time");
    }
}
