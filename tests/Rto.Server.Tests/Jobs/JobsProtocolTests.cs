using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

[TestClass]
public sealed class JobsProtocolTests
{
    private const string Status = """{"Header":"Info","Request":"Status"}""";
    private const string StatusReply = """{"Header":"Info","Request":"Status","Response":{"Status":"complete","Discription":"Status: Ready"}}""";

    [TestMethod]
    public async Task OneObjectPerConnectionIsAnsweredAndTheServerCloses()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync(Status);
        Assert.AreEqual(StatusReply, await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task ObjectsBackToBackAreAnsweredInOrderOnOneConnection()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Header":"Info","Request":"Status","KeepAlive":true}{"Header":"info","Request":"Dask process","KeepAlive":true}""" + "\n ");
        await connection.ExpectAsync("""{"Header":"Info","Request":"Status","KeepAlive":true,"Response":{"Status":"complete","Discription":"Status: Ready"}}""");
        await connection.ExpectAsync("""{"Header":"info","Request":"Dask process","KeepAlive":true,"Response":{"Status":"complete","Discription":"Dask process: 0"}}""");

        // The connection stayed open: a later request without KeepAlive is answered, then it closes.
        await connection.SendAsync("""{"Header":"Info","Request":"All process"}""");
        Assert.AreEqual("""{"Header":"Info","Request":"All process","Response":{"Status":"complete","Discription":"All process: 2"}}""", await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task ObjectsThatArrivedTogetherAreAllAnsweredBeforeClosing()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync(Status + Status);
        Assert.AreEqual(StatusReply + StatusReply, await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task AnObjectSentOneByteAtATimeIsAnswered()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        foreach (byte b in Encoding.UTF8.GetBytes(Status))
        {
            await connection.SendAsync([b]);
        }

        Assert.AreEqual(StatusReply, await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task BracesInsideStringsAreEchoedUntouched()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Header":"Info","Request":"Status","Note":"}{ \"}\" ]"}""");
        Assert.AreEqual("""{"Header":"Info","Request":"Status","Note":"}{ \"}\" ]","Response":{"Status":"complete","Discription":"Status: Ready"}}""", await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task ARequestOverTheLimitGetsAnErrorAndTheConnectionCloses()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:MaxFrameSize=64");
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Header":"Info","Request":"Status","Padding":"0123456789012345678901234567890123456789"}""");
        Assert.AreEqual("""{"Header":"noheader","Response":{"Status":"error","Discription":"The request is larger than the maximum of 64 bytes."}}""", await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task InvalidJsonGetsANoHeaderErrorAndTheConnectionCloses()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("hello}");
        string reply = await connection.ReadToEndAsync();
        StringAssert.StartsWith(reply, """{"Header":"noheader","Response":{"Status":"error","Discription":"The request is not valid JSON: """);
    }

    [TestMethod]
    public async Task InvalidUtf8InsideAStringIsEchoedAsReplacementCharacters()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync([.. Encoding.UTF8.GetBytes("{\"Header\":\"Info\",\"Request\":\"Status\",\"x\":\""), 0xFF, 0xFE, .. "\"}"u8.ToArray()]);
        string reply = await connection.ReadToEndAsync();
        Assert.AreEqual("""{"Header":"Info","Request":"Status","x":"\uFFFD\uFFFD","Response":{"Status":"complete","Discription":"Status: Ready"}}""", reply);
        StringAssert.Contains(await JobsExchange.OneShotAsync(server, Status), "Status: Ready");
    }

    [TestMethod]
    public async Task JsonWithoutAHeaderGetsANoHeaderError()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Request":"Status"}""");
        Assert.AreEqual("""{"Header":"noheader","Response":{"Status":"error","Discription":"The request has no \"Header\" string member."}}""", await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task AnUnknownHeaderIsAnError()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Header":"Plot","Request":"x"}""");
        Assert.AreEqual("""{"Header":"Plot","Request":"x","Response":{"Status":"error","Discription":"Unknown header."}}""", await connection.ReadToEndAsync());
    }

    [TestMethod]
    public async Task AClientThatStallsHalfwayIsClosedAfterTheIdleTimeout()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:IdleTimeout=00:00:00.300");
        JobsActivity activity = server.Services.GetRequiredService<JobsActivity>();
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Header":"Info","Requ""");
        Assert.IsTrue(await connection.IsClosedByServerAsync());

        // The connection's state is gone too: nothing is left counted as being served.
        for (int i = 0; i < 100 && activity.Connections != 0; i++)
        {
            await Task.Delay(20);
        }

        Assert.AreEqual(0, activity.Connections);
    }

    [TestMethod]
    [DataRow("Status", "Status: Ready")]
    [DataRow("Dask process", "Dask process: 0")]
    [DataRow("All process", "All process: 2")]
    [DataRow("All statistic", "All statistic: Status: Ready Dask process: 0 All process: 2")]
    public async Task InfoRequestsAreAnswered(string request, string discription)
    {
        await using TestServer server = await TestServer.StartAsync();
        Assert.AreEqual(
            $$$"""{"Header":"Info","Request":"{{{request}}}","Response":{"Status":"complete","Discription":"{{{discription}}}"}}""",
            await JobsExchange.OneShotAsync(server, $$$"""{"Header":"Info","Request":"{{{request}}}"}"""));
    }

    [TestMethod]
    public async Task AnUnknownInfoRequestNamesTheAllowedOnes()
    {
        await using TestServer server = await TestServer.StartAsync();
        string reply = await JobsExchange.OneShotAsync(server, """{"Header":"Info","Request":"Uptime"}""");
        StringAssert.StartsWith(reply, """{"Header":"Info","Request":"Uptime","Response":{"Status":"error","Discription":"Unknown Info request; the Info requests are \"Status\", \"Dask process\", \"All process\" and \"All statistic\"."}}""");
    }
}
