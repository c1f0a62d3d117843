namespace Rto.Server.Tests.Metrics;

/// <summary>
/// What the original course server (asyncio, <c>float(value)</c>, <c>int(timestamp)</c>) accepted
/// and printed back, against the real server: issue 14's Metrics part and issue 15 item 12.
/// </summary>
[TestClass]
public sealed class MetricsOriginalServerTests
{
    private const string Ok = "ok\n\n";

    /// <summary>
    /// One write, many requests: one reply per line, in order. The values are printed as Python's
    /// <c>repr(float(text))</c> printed them (<c>nan</c>, <c>inf</c>, <c>-inf</c>, <c>1000.5</c>) and
    /// the timestamps as <c>int(text)</c> (<c>-5</c>, <c>1700000000</c>).
    /// </summary>
    [TestMethod]
    public async Task NegativeTimestampsNonFiniteValuesAndDigitSeparatorsAreStoredAndPrintedAsPythonPrintsThem()
    {
        string data = TestServer.NewDataDirectory();
        const string Requests =
            "put t nan -5\n" +
            "put t inf 0\n" +
            "put t -inf 1_000\n" +
            "put t 1_000.5 -9223372036854775808\n" +
            "put t -0.0 00000000001700000000\n" +
            "put t 1e400 +7\n" +
            "get t\n";
        const string Points =
            "ok\n" +
            "t 1000.5 -9223372036854775808\n" +
            "t nan -5\n" +
            "t inf 0\n" +
            "t inf 7\n" +
            "t -inf 1000\n" +
            "t -0.0 1700000000\n" +
            "\n";
        await using (TestServer server = await TestServer.StartAsync(data))
        {
            await using RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint);
            await connection.RoundTripAsync(Requests, string.Concat(Enumerable.Repeat(Ok, 6)) + Points);
        }

        // Stored, not only echoed: the same bytes after a restart from the log.
        await using (TestServer restarted = await TestServer.StartAsync(data))
        {
            await using RawConnection connection = await RawConnection.OpenAsync(restarted.MetricsEndPoint);
            await connection.RoundTripAsync("get t\n", Points);
        }
    }

    /// <summary>A zero-padded 20-digit timestamp fits in 64 bits and is accepted; one that does not fit is refused.</summary>
    [TestMethod]
    public async Task AZeroPaddedTimestampIsAcceptedWhenItFits()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint);
        await connection.RoundTripAsync(
            "put k 1 09223372036854775807\nput k 2 99999999999999999999\nget k\n",
            Ok + "error\nwrong command\n\n" + "ok\nk 1.0 9223372036854775807\n\n");
    }

    /// <summary><c>*</c> means every key in a get; as a key it could never be read back alone, so a put to it is refused and says why.</summary>
    [TestMethod]
    public async Task TheKeyStarIsRefusedWithAMessage()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint);
        await connection.RoundTripAsync(
            "put * 1 1\nput a 1 1\nget *\n",
            "error\nwrong command: * is not a key, get * reads every key\n\n" + Ok + "ok\na 1.0 1\n\n");
    }
}
