using Grpc.Net.Client;
using Grpc.RtoApi;
using Rto.Server.Optimization;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>
/// Session files written by the server before the optimizers moved into the Rto.Optimization package
/// (SessionFiles/: a GaussOpt and a TestStepOpt session over Numeric, Integer, Bool and fixed MVs,
/// one-sided, two-sided and unlimited CVs, a failed evaluation, a missing CV, an unknown tag, a pause
/// and a resume, escaped ids and names) restore exactly: the replay reproduces every recorded
/// candidate, the header reads back to the same text, and the candidates after the restart are the
/// ones that version proposed after its own restart.
/// </summary>
[TestClass]
public sealed class RtoSessionCompatibilityTests
{
    private static readonly string s_files = Path.Combine(AppContext.BaseDirectory, "Optimization", "Service", "SessionFiles");

    private const string TrustRegionSession = "383bd9b1-dcd5-41a9-b3db-62193bb98a84";

    // After a restart: the outstanding candidate, then the next five. TestStepOpt: what the earlier
    // version answered; GaussOpt: what this version answers from the same recorded evaluations (the
    // earlier version answered 1.439851708086492;2;1;5, 1.300000000000003;2;1;5, ...).
    private static readonly Dictionary<string, string[]> s_expected = new()
    {
        [TrustRegionSession] =
        [
            "1.439416944840695;2;1;5", "1.300000005482015;2;1;5", "1.3000420484357251;2;1;5",
            "1.2062500054820147;2;1;5", "1.2531250054820147;2;1;5", "1.276562505482015;2;1;5",
        ],
        ["5fcc451b-0ac0-4a3e-8ad9-36d8a9cb1d40"] =
        [
            "1.624629410914904;2;1;5", "0.687129410914904;2;1;5", "1.312129410914904;2;1;5",
            "1.312129410914904;3;1;5", "1.312129410914904;1;1;5", "1.312129410914904;2;0;5",
        ],
    };

    [TestMethod]
    public void EveryRecordedEvaluationRestoresAndTheHeaderReadsBackUnchanged()
    {
        foreach (string id in s_expected.Keys)
        {
            string path = CopyToNewDirectory(id);
            string text = File.ReadAllText(path);

            (SessionFile file, SessionDefinition definition, List<SessionRecord> records, string? dropped) = SessionFile.Open(path);
            OptimizationSession.Restore(definition, file, records, TimeProvider.System, out int mismatches);

            Assert.IsNull(dropped, id);
            if (id == TrustRegionSession)
            {
                Assert.IsTrue(mismatches > 0, $"{id}: the 0.2 trust region should not reproduce the 0.1 candidates");
            }
            else
            {
                Assert.AreEqual(0, mismatches, $"{id}: replayed candidates differ from the recorded ones");
            }

            Assert.AreEqual(14, records.OfType<EvaluationRecord>().Count(), id);
            Assert.AreEqual(text[..(text.IndexOf("\n---\n", StringComparison.Ordinal) + 5)], SessionFile.FormatHeader(definition), id);
            Assert.AreEqual(text, File.ReadAllText(path), $"{id}: opening the file changed it");
        }
    }

    [TestMethod]
    public async Task ARestartedServerContinuesDeterministicallyFromTheRecordedEvaluations()
    {
        string data = TestServer.NewDataDirectory();
        string sessions = Path.Combine(data, "rto", "sessions");
        Directory.CreateDirectory(sessions);
        foreach (string id in s_expected.Keys)
        {
            File.Copy(Path.Combine(s_files, id + ".session"), Path.Combine(sessions, id + ".session"));
        }

        await using TestServer server = await TestServer.StartAsync(data);
        using GrpcChannel channel = RtoTestKit.Channel(server);
        RtoService.RtoServiceClient rto = RtoTestKit.RtoServiceOf(channel);
        foreach ((string id, string[] expected) in s_expected)
        {
            OptimizeIterationResponse response = await rto.OptimizeIterationAsync(RtoTestKit.Ask(id));
            var seen = new List<string>();
            for (int k = 0; ; k++)
            {
                Assert.AreEqual(IterationFlag.Candidate, response.Flag, response.Message);
                seen.Add(string.Join(";", RtoTestKit.Values(response).Select(SessionFile.Format)));
                if (k == 5)
                {
                    break;
                }

                double[] x = RtoTestKit.Values(response);
                double f = -((x[0] - 1.3) * (x[0] - 1.3)) - (0.5 * (x[1] - 2) * (x[1] - 2)) + x[2];
                response = await rto.OptimizeIterationAsync(RtoTestKit.Report(id, f, true, ("limit", x[0] + (0.5 * x[1])), ("band", x[0] - x[2]), ("free", f)));
            }

            CollectionAssert.AreEqual(expected, seen, id);
        }
    }

    private static string CopyToNewDirectory(string id)
    {
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, id + ".session");
        File.Copy(Path.Combine(s_files, id + ".session"), path);
        return path;
    }
}
