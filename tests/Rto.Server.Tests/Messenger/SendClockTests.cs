using Google.Protobuf.WellKnownTypes;
using Rto.Client.Messenger;
using Rto.Server.Messenger;

namespace Rto.Server.Tests.Messenger;

/// <summary>Send times strictly increase, and their RFC 3339 text sorts like the times.</summary>
[TestClass]
public sealed class SendClockTests
{
    [TestMethod]
    public void ProtobufTextOfPlainTimestampsDoesNotSortLikeTheTimes()
    {
        // Why the clock nudges its values: protobuf JSON drops trailing zero groups.
        string whole = MessengerTime.ToText(new Timestamp { Seconds = 1631442322, Nanos = 0 });
        string later = MessengerTime.ToText(new Timestamp { Seconds = 1631442322, Nanos = 100 });
        string milli = MessengerTime.ToText(new Timestamp { Seconds = 1631442322, Nanos = 100_000_000 });
        string laterStill = MessengerTime.ToText(new Timestamp { Seconds = 1631442322, Nanos = 100_100_000 });

        Assert.AreEqual("2021-09-12T10:25:22Z", whole);
        Assert.AreEqual("2021-09-12T10:25:22.000000100Z", later);
        Assert.AreEqual("2021-09-12T10:25:22.100Z", milli);
        Assert.IsGreaterThan(0, string.CompareOrdinal(whole, later), "a whole second sorts after a later time");
        Assert.IsGreaterThan(0, string.CompareOrdinal(milli, laterStill), "3 digits sort after a later 6-digit time");
    }

    [TestMethod]
    public void TimesWithinOneTickStrictlyIncreaseAndTheirTextSortsAlike()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2021, 9, 12, 10, 25, 22, TimeSpan.Zero));
        var clock = new SendClock(time);

        List<Timestamp> stamps = [];
        for (int i = 0; i < 3000; i++)
        {
            stamps.Add(clock.Next());
            if (i % 1000 == 999)
            {
                time.Now += TimeSpan.FromTicks(1); // 100 ns: one tick, with 999 sends inside it
            }
        }

        AssertStrictlyIncreasingInTimeAndText(stamps);
        Assert.AreEqual("2021-09-12T10:25:22.000000001Z", MessengerTime.ToText(stamps[0]), "a whole second is nudged to print 9 digits");
    }

    [TestMethod]
    public void AClockSteppingBackDoesNotMakeTimesGoBack()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2021, 9, 12, 10, 25, 22, 500, TimeSpan.Zero));
        var clock = new SendClock(time);

        Timestamp first = clock.Next();
        time.Now -= TimeSpan.FromSeconds(2);
        Timestamp second = clock.Next();
        time.Now += TimeSpan.FromSeconds(5);
        Timestamp third = clock.Next();

        AssertStrictlyIncreasingInTimeAndText([first, second, third]);
        Assert.AreEqual(time.Now, third.ToDateTimeOffset(), "once the clock is ahead again, it is used");
    }

    [TestMethod]
    public void EveryTimeAtAllTickPhasesPrintsNineFractionalDigits()
    {
        var time = new ManualTimeProvider(new DateTimeOffset(2024, 2, 29, 23, 59, 59, TimeSpan.Zero));
        var clock = new SendClock(time);
        List<Timestamp> stamps = [];
        for (int i = 0; i < 40_000; i++)
        {
            time.Now += TimeSpan.FromTicks(1 + (i % 3)); // crosses ms, µs and the day boundary
            stamps.Add(clock.Next());
        }

        AssertStrictlyIncreasingInTimeAndText(stamps);
    }

    private static void AssertStrictlyIncreasingInTimeAndText(IReadOnlyList<Timestamp> stamps)
    {
        for (int i = 0; i < stamps.Count; i++)
        {
            string text = MessengerTime.ToText(stamps[i]);
            Assert.AreEqual(30, text.Length, text);
            Assert.AreNotEqual(0, stamps[i].Nanos % 1000, text);
            if (i > 0)
            {
                Assert.IsLessThan(stamps[i], stamps[i - 1]);
                Assert.IsLessThan(0, string.CompareOrdinal(MessengerTime.ToText(stamps[i - 1]), text), text);
            }
        }
    }

    private sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
