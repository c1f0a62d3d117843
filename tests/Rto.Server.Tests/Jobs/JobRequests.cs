using System.Text.Json;

namespace Rto.Server.Tests.Jobs;

/// <summary>Job requests and replies as the original clients write and read them.</summary>
internal static class JobRequests
{
    /// <summary>A one-shot <c>Dask</c> request; <paramref name="extra"/> adds top-level members (e.g. <c>KeepRunning</c>).</summary>
    public static string Dask(string directory, string file, string input = "time_series.parquet", string extra = "") =>
        $$"""{"Header":"Dask","Request":{{JsonSerializer.Serialize(new { Directory = directory, Base = input, File = file })}}{{extra}}}""";

    public static JsonElement Response(string reply) => JsonDocument.Parse(reply).RootElement.GetProperty("Response");

    public static string Status(string reply) => Response(reply).GetProperty("Status").GetString()!;

    /// <summary>The error text of a failed job, or the whole reply when it did not fail (for the assertion message).</summary>
    public static string Error(string reply)
    {
        JsonElement response = Response(reply);
        Assert.AreEqual("error", response.GetProperty("Status").GetString(), reply);
        return response.GetProperty("Discription").GetString()!;
    }

    public static string ResultFile(string reply)
    {
        JsonElement response = Response(reply);
        Assert.AreEqual("complete", response.GetProperty("Status").GetString(), reply);
        return response.GetProperty("Discription").GetProperty("File").GetString()!;
    }
}
