using System.Buffers;
using System.Text;
using System.Text.Json;
using Rto.Protocols.Jobs;

namespace Rto.Protocols.Tests.Jobs;

[TestClass]
public sealed class JobReplyWriterTests
{
    private static string Reply(string request, Action<ArrayBufferWriter<byte>, JsonElement> write)
    {
        using var document = JsonDocument.Parse(request);
        var output = new ArrayBufferWriter<byte>();
        write(output, document.RootElement);
        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    [TestMethod]
    public void EchoesTheRequestWithAResponseAdded()
    {
        string reply = Reply("""{"Header":"Info","Request":"Status", "KeepAlive":true}""", (o, r) => JobReplyWriter.WriteReply(o, r, JobStatus.Complete, "Status: Ready"));
        Assert.AreEqual("""{"Header":"Info","Request":"Status","KeepAlive":true,"Response":{"Status":"complete","Discription":"Status: Ready"}}""", reply);
    }

    [TestMethod]
    public void ReplacesAResponseTheRequestCarried()
    {
        string reply = Reply("""{"Header":"x","Response":1}""", (o, r) => JobReplyWriter.WriteReply(o, r, JobStatus.Error, "Unknown header."));
        Assert.AreEqual("""{"Header":"x","Response":{"Status":"error","Discription":"Unknown header."}}""", reply);
    }

    [TestMethod]
    public void WritesAJobResultAsAnObject()
    {
        string reply = Reply("""{"Header":"Dask","Request":{"Directory":"/d/","Base":"b.parquet","File":"w.sql"}}""",
            (o, r) => JobReplyWriter.WriteJobResult(o, r, new JobResult { Directory = "/d/", File = "w_ansver.parquet" }));
        Assert.AreEqual("""{"Header":"Dask","Request":{"Directory":"/d/","Base":"b.parquet","File":"w.sql"},"Response":{"Status":"complete","Discription":{"Directory":"/d/","File":"w_ansver.parquet"}}}""", reply);

        using var document = JsonDocument.Parse(reply);
        JobResponse? response = document.RootElement.GetProperty("Response").Deserialize(JobsJsonContext.Default.JobResponse);
        Assert.IsNotNull(response);
        Assert.IsTrue(response.IsComplete);
        Assert.AreEqual("w_ansver.parquet", response.GetResult()?.File);
    }

    [TestMethod]
    public void WritesTheNoHeaderReply()
    {
        var output = new ArrayBufferWriter<byte>();
        JobReplyWriter.WriteNoHeader(output, "Not \"JSON\" <here>");
        Assert.AreEqual("""{"Header":"noheader","Response":{"Status":"error","Discription":"Not \"JSON\" <here>"}}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    [TestMethod]
    public void WritesRequests()
    {
        var output = new ArrayBufferWriter<byte>();
        JobRequestWriter.WriteInfo(output, InfoRequests.Status, keepAlive: true);
        JobRequestWriter.WriteJob(output, new JobRequest { Directory = "/d/", Base = "b.parquet", File = "w.sql" }, keepAlive: false);
        Assert.AreEqual("""{"Header":"Info","Request":"Status","KeepAlive":true}{"Header":"Dask","Request":{"Directory":"/d/","Base":"b.parquet","File":"w.sql"}}""", Encoding.UTF8.GetString(output.WrittenSpan));
    }
}
