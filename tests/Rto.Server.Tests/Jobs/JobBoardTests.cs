using Rto.Protocols.Jobs;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

/// <summary>The board the console's jobs page reads: jobs in arrival order while admitted, then the last ones newest first.</summary>
[TestClass]
public sealed class JobBoardTests
{
    [TestMethod]
    public void Jobs_move_from_queued_to_running_to_the_last_results()
    {
        var board = new JobBoard(TimeProvider.System);
        long version = board.Version;
        long first = board.Admitted(new JobRequest { Directory = "d", Base = "in.parquet", File = "a.task" });
        long second = board.Admitted(new JobRequest { Directory = "d", Base = "in.parquet", File = "b.task" });
        board.Started(first);
        Assert.IsGreaterThan(version, board.Version);

        JobBoardSnapshot now = board.Snapshot();
        CollectionAssert.AreEqual(new[] { "a.task", "b.task" }, now.Current.Select(j => j.File).ToArray());
        Assert.IsNotNull(now.Current[0].Started);
        Assert.IsNull(now.Current[1].Started, "still queued");

        board.Finished(first, JobOutcome.Done("a_ansver.parquet"));
        board.Started(second);
        board.Finished(second, JobOutcome.Failed("no such file"));
        JobBoardSnapshot after = board.Snapshot();
        Assert.IsEmpty(after.Current);
        CollectionAssert.AreEqual(new[] { "b.task", "a.task" }, after.Recent.Select(j => j.File).ToArray());
        Assert.AreEqual("no such file", after.Recent[0].Error);
        Assert.AreEqual("a_ansver.parquet", after.Recent[1].ResultFile);
        Assert.AreEqual((1L, 1L), (after.Completed, after.Failed));
    }

    [TestMethod]
    public void Only_the_last_results_are_kept()
    {
        var board = new JobBoard(TimeProvider.System);
        for (int i = 0; i < JobBoard.RecentCapacity + 10; i++)
        {
            board.Finished(board.Admitted(new JobRequest { File = $"{i}.task" }), JobOutcome.Done($"{i}.parquet"));
        }

        JobBoardSnapshot snapshot = board.Snapshot();
        Assert.HasCount(JobBoard.RecentCapacity, snapshot.Recent);
        Assert.AreEqual($"{JobBoard.RecentCapacity + 9}.task", snapshot.Recent[0].File);
        Assert.AreEqual(JobBoard.RecentCapacity + 10L, snapshot.Completed);
    }
}
