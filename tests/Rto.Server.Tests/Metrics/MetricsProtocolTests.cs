using System.Text;

namespace Rto.Server.Tests.Metrics;

/// <summary>The spec's request/response tables, byte for byte, against the real server.</summary>
[TestClass]
public sealed class MetricsProtocolTests
{
    private const string Ok = "ok\n\n";
    private const string Error = "error\nwrong command\n\n";

    private TestServer _server = null!;
    private RawConnection _connection = null!;

    [TestInitialize]
    public async Task StartAsync()
    {
        _server = await TestServer.StartAsync();
        _connection = await RawConnection.OpenAsync(_server.MetricsEndPoint);
    }

    [TestCleanup]
    public async Task StopAsync()
    {
        await _connection.DisposeAsync();
        await _server.DisposeAsync();
    }

    [TestMethod]
    public async Task PutIsAcknowledgedWithOk() => await _connection.RoundTripAsync("put palm.cpu 2.0 1150864247\n", Ok);

    [TestMethod]
    public async Task GetOfAnUnknownKeyAndOfAnEmptyStoreIsAnEmptyOk()
    {
        await _connection.RoundTripAsync("get nothing.here\n", Ok);
        await _connection.RoundTripAsync("get *\n", Ok);
    }

    [TestMethod]
    public async Task GetReturnsThePointsOfOneKeyInTimestampOrder()
    {
        await _connection.RoundTripAsync("put palm.cpu 10.5 1150864250\nput palm.cpu 10 1150864248\nput eardrum.cpu 3 1150864249\n", Ok + Ok + Ok);
        await _connection.RoundTripAsync("get palm.cpu\n", "ok\npalm.cpu 10.0 1150864248\npalm.cpu 10.5 1150864250\n\n");
    }

    [TestMethod]
    public async Task GetAllListsKeysInOrdinalByteOrder()
    {
        await _connection.RoundTripAsync("put b 1 1\nput a.b 2 1\nput ä 3 1\nput B 4 1\nput a 5 2\nput a 6 1\n", string.Concat(Enumerable.Repeat(Ok, 6)));
        await _connection.RoundTripAsync("get *\n", "ok\nB 4.0 1\na 6.0 1\na 5.0 2\na.b 2.0 1\nb 1.0 1\nä 3.0 1\n\n");
    }

    [TestMethod]
    public async Task PutOnAnEqualTimestampReplacesTheValue()
    {
        await _connection.RoundTripAsync("put k 1 100\nput k 2 100\n", Ok + Ok);
        await _connection.RoundTripAsync("get k\n", "ok\nk 2.0 100\n\n");
    }

    [TestMethod]
    public async Task ValuesArePrintedTheWayTheOriginalServerPrintedThem()
    {
        await _connection.RoundTripAsync("put v 10 1\nput v 10.5 2\nput v 0.001 3\nput v 1e20 4\nput v -7.25e-6 5\nput v 1E3 6\n", string.Concat(Enumerable.Repeat(Ok, 6)));
        await _connection.RoundTripAsync("get v\n", "ok\nv 10.0 1\nv 10.5 2\nv 0.001 3\nv 1e+20 4\nv -7.25e-06 5\nv 1000.0 6\n\n");
    }

    [TestMethod]
    public async Task CarriageReturnLineEndingsAreAccepted() => await _connection.RoundTripAsync("put k 1 1\r\nget k\r\n", Ok + "ok\nk 1.0 1\n\n");

    [TestMethod]
    [DataRow("\n", DisplayName = "empty line")]
    [DataRow("   \t \n", DisplayName = "blank line")]
    [DataRow("hello\n", DisplayName = "unknown command")]
    [DataRow("PUT k 1 1\n", DisplayName = "upper-case command")]
    [DataRow("put k 1\n", DisplayName = "missing token")]
    [DataRow("put\n", DisplayName = "put alone")]
    [DataRow("put k 1 1 1\n", DisplayName = "extra token")]
    [DataRow("get\n", DisplayName = "get without key")]
    [DataRow("get a b\n", DisplayName = "get with two keys")]
    [DataRow("put k ten 1\n", DisplayName = "not a number")]
    [DataRow("put k 1 1.5\n", DisplayName = "non-integer timestamp")]
    [DataRow("put k 1 9223372036854775808\n", DisplayName = "timestamp over 2^63-1")]
    [DataRow("put k 1__0 1\n", DisplayName = "doubled digit separator")]
    [DataRow("put k nanx 1\n", DisplayName = "not nan")]
    [DataRow("put k\u0000x 1 1\n", DisplayName = "NUL in key")]
    public async Task MalformedRequestsGetTheErrorReplyAndTheConnectionStaysUsable(string request)
    {
        await _connection.RoundTripAsync(request, Error);
        await _connection.RoundTripAsync("put k 42 7\nget k\n", Ok + "ok\nk 42.0 7\n\n");
    }

    [TestMethod]
    public async Task BinaryGarbageAndInvalidUtf8GetErrorsAndStoreNothing()
    {
        await _connection.SendAsync([0xFF, 0xFE, 0x00, 0x01, (byte)'\n']);
        await _connection.ExpectAsync(Error);
        await _connection.SendAsync([.. "put "u8, 0xC3, 0x28, .. " 1 1\n"u8]);
        await _connection.ExpectAsync(Error);
        await _connection.SendAsync([.. "get "u8, 0xED, 0xA0, 0x80, (byte)'\n']);
        await _connection.ExpectAsync(Error);
        await _connection.RoundTripAsync("get *\n", Ok);
    }

    [TestMethod]
    public async Task AOneMebibyteLineWithoutNewlineIsRefusedAndTheNextLineIsServed()
    {
        byte[] huge = new byte[1024 * 1024];
        Array.Fill(huge, (byte)'x');
        await _connection.SendAsync(huge);
        await _connection.ExpectAsync(Error);
        await _connection.RoundTripAsync("\nput k 1 1\nget k\n", Ok + "ok\nk 1.0 1\n\n");
    }

    [TestMethod]
    public async Task ManyRequestsInOneSegmentAreAllAnswered()
    {
        var requests = new StringBuilder();
        for (int i = 0; i < 1000; i++)
        {
            requests.Append($"put many {i} {i}\n");
        }

        requests.Append("get many\n");
        var expected = new StringBuilder(string.Concat(Enumerable.Repeat(Ok, 1000)));
        expected.Append("ok\n");
        for (int i = 0; i < 1000; i++)
        {
            expected.Append($"many {i}.0 {i}\n");
        }

        expected.Append('\n');
        await _connection.RoundTripAsync(requests.ToString(), expected.ToString());
    }

    [TestMethod]
    public async Task PipelinedRequestsAreAnsweredInRequestOrder()
    {
        await _connection.RoundTripAsync(
            "put a 1 1\nget a\nbogus\nput a 2 1\nget a\nget b\n",
            Ok + "ok\na 1.0 1\n\n" + Error + Ok + "ok\na 2.0 1\n\n" + Ok);
    }

    [TestMethod]
    public async Task RequestsSplitAtEveryByteBoundaryAreParsedTheSame()
    {
        byte[] stream = "put split 1.5 10\r\nget split\n"u8.ToArray();
        const string expected = "ok\n\nok\nsplit 1.5 10\n\n";
        for (int at = 1; at < stream.Length; at++)
        {
            await using RawConnection connection = await RawConnection.OpenAsync(_server.MetricsEndPoint);
            await connection.SendAsync(stream[..at]);
            await connection.SendAsync(stream[at..]);
            await connection.ExpectAsync(expected);
        }
    }

    [TestMethod]
    public async Task RequestsSentOneByteAtATimeAreAnswered()
    {
        foreach (byte b in "put slow 3 3\nget slow\n"u8.ToArray())
        {
            await _connection.SendAsync([b]);
        }

        await _connection.ExpectAsync("ok\n\nok\nslow 3.0 3\n\n");
    }
}
