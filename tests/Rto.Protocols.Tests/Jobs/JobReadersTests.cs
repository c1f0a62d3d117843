using System.Buffers;
using System.Text;
using System.Text.Json;
using Rto.Protocols.Jobs;

namespace Rto.Protocols.Tests.Jobs;

/// <summary>The jobs envelope read on both sides: requests by the server, replies by the client.</summary>
[TestClass]
public sealed class JobReadersTests
{
    private static string DescribeRequest(JobEnvelope envelope)
    {
        using (envelope)
        {
            if (envelope.Status != MessageStatus.Valid)
            {
                return $"<{envelope.Status}> {envelope.Error}";
            }

            JobRequest? job = envelope.GetJobRequest();
            return $"{(envelope.IsObject ? "object" : envelope.Root.ValueKind.ToString())} header={envelope.Header ?? "-"} keepAlive={envelope.KeepAlive} "
                + $"info={envelope.GetInfoRequest() ?? "-"} job={(job is null ? "-" : $"{job.Directory}|{job.Base}|{job.File}")}";
        }
    }

    private static string DescribeReply(JobEnvelope envelope)
    {
        using (envelope)
        {
            return envelope.Status == MessageStatus.Valid
                ? $"{envelope.Header ?? "-"} {envelope.Response!.Status}: {envelope.Response.DiscriptionText}"
                : $"<{envelope.Status}> {envelope.Error}";
        }
    }

    private static List<string> ReadRequests(int maxFrameSize, params byte[][] chunks)
    {
        var reader = new JobRequestReader(maxFrameSize);
        return MessageFeed.Read<JobRequestReader, JobEnvelope>(ref reader, DescribeRequest, chunks);
    }

    private static List<string> ReadReplies(int maxFrameSize, params byte[][] chunks)
    {
        var reader = new JobReplyReader(maxFrameSize);
        return MessageFeed.Read<JobReplyReader, JobEnvelope>(ref reader, DescribeReply, chunks);
    }

    [TestMethod]
    public void ReadsWhatTheRequestWriterWritesSplitAnywhere()
    {
        var output = new ArrayBufferWriter<byte>();
        JobRequestWriter.WriteInfo(output, InfoRequests.Status, keepAlive: true);
        JobRequestWriter.WriteJob(output, new JobRequest { Directory = "/d/", Base = "b.parquet", File = "f.task" }, keepAlive: false);
        string[] expected =
        [
            "object header=Info keepAlive=True info=Status job=-",
            "object header=Dask keepAlive=False info=- job=/d/|b.parquet|f.task",
        ];
        foreach ((string name, byte[][] chunks) in MessageFeed.Splits(output.WrittenSpan.ToArray()))
        {
            CollectionAssert.AreEqual(expected, ReadRequests(1024, chunks), name);
        }
    }

    [TestMethod]
    public void AnyJsonValueIsAValidFrameAndTheEnvelopeSaysWhatIsMissing()
    {
        CollectionAssert.AreEqual(
            new[]
            {
                "Array header=- keepAlive=False info=- job=-",
                "object header=- keepAlive=True info=- job=-",
                "object header=- keepAlive=False info=- job=-",
                "object header=Dask keepAlive=False info=- job=-",
            },
            ReadRequests(1024, Encoding.UTF8.GetBytes("""[1] {"KeepAlive":true} {"Header":1} {"Header":"Dask","Request":{"Directory":7}}""")));
    }

    [TestMethod]
    public void BytesThatAreNotJsonOrTooLargeAreRejectedWithAReason()
    {
        List<string> invalid = ReadRequests(1024, "{\"a\":1} nope"u8.ToArray());
        Assert.HasCount(2, invalid);
        StringAssert.StartsWith(invalid[1], "<Malformed> The request is not valid JSON: ");

        List<string> tooLarge = ReadRequests(16, Encoding.UTF8.GetBytes("{\"a\":\"01234567890123456789\"}"));
        CollectionAssert.AreEqual(new[] { "<TooLarge> The request is larger than the maximum of 16 bytes." }, tooLarge);
    }

    [TestMethod]
    public void AHeaderThatIsNotValidUtf8IsMalformed()
    {
        byte[] bytes = [.. "{\"Header\":\""u8, 0xFF, 0xFE, .. "\"}"u8];
        List<string> requests = ReadRequests(1024, bytes);
        Assert.HasCount(1, requests);
        StringAssert.StartsWith(requests[0], "<Malformed> The request is not valid JSON: ");
    }

    [TestMethod]
    public void ReadsWhatTheReplyWriterWritesSplitAnywhere()
    {
        var output = new ArrayBufferWriter<byte>();
        using (JsonDocument request = JsonDocument.Parse("""{"Header":"Info","Request":"Status","KeepAlive":true}"""))
        {
            JobReplyWriter.WriteReply(output, request.RootElement, JobStatus.Complete, "Status: Ready");
        }

        using (JsonDocument request = JsonDocument.Parse("""{"Header":"Dask","Request":{"Directory":"/d/"}}"""))
        {
            JobReplyWriter.WriteJobResult(output, request.RootElement, new JobResult { Directory = "/d/", File = "f_ansver.parquet" });
        }

        JobReplyWriter.WriteNoHeader(output, "The request has no \"Header\" string member.");
        string[] expected =
        [
            "Info complete: Status: Ready",
            """Dask complete: {"Directory":"/d/","File":"f_ansver.parquet"}""",
            "noheader error: The request has no \"Header\" string member.",
        ];
        foreach ((string name, byte[][] chunks) in MessageFeed.Splits(output.WrittenSpan.ToArray()))
        {
            CollectionAssert.AreEqual(expected, ReadReplies(4096, chunks), name);
        }
    }

    [TestMethod]
    public void AReplyWithoutAResponseOrNotJsonIsMalformed()
    {
        CollectionAssert.AreEqual(
            new[] { "<Malformed> The reply has no Response with a Status.", "<Malformed> The reply has no Response with a Status." },
            ReadReplies(1024, """{"Header":"Info"} {"Response":{"Discription":"x"}}"""u8.ToArray()));
        StringAssert.StartsWith(ReadReplies(1024, "<html>"u8.ToArray()).Single(), "<Malformed> The reply is not JSON: ");
        CollectionAssert.AreEqual(new[] { "<TooLarge> The reply is larger than the maximum of 8 bytes." }, ReadReplies(8, """{"Response":{}}"""u8.ToArray()));
    }
}
