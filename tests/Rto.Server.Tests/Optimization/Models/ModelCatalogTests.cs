using Microsoft.Extensions.Logging;
using Rto.Optimization.Models;
using Rto.Server.Optimization.Models;

namespace Rto.Server.Tests.Optimization.Models;

[TestClass]
public sealed class ModelCatalogTests
{
    private static readonly TimeSpan s_reloadTimeout = TimeSpan.FromSeconds(15);
    private string _directory = "";

    [TestInitialize]
    public void CreateDirectory()
    {
        _directory = Path.Combine(Path.GetTempPath(), "rto-models-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    [TestCleanup]
    public void DeleteDirectory() => Directory.Delete(_directory, recursive: true);

    [TestMethod]
    public void LoadsEveryFileAndSkipsABadOne()
    {
        Write("a", "objective = x + 1\n");
        Write("bad", "cv T = 1\nobjective = sqr(x)\n");
        Write("b", "cv y = 2 * x\nobjective = y\n");
        File.WriteAllText(Path.Combine(_directory, "notes.txt"), "not a model");
        var logger = new RecordingLogger<ModelCatalog>();

        using var catalog = new ModelCatalog(_directory, BuiltInModels.All, logger);

        Assert.AreEqual(2.0, Objective(catalog, "a", 1));
        Assert.AreEqual(6.0, Objective(catalog, "b", 3));
        Assert.IsFalse(catalog.TryGet("bad", out _));
        Assert.IsFalse(catalog.TryGet("notes", out _));
        Assert.IsTrue(logger.Logged(LogLevel.Error, "bad.model:2:13: unknown function 'sqr'"), string.Join("\n", logger.Entries));
        CollectionAssert.AreEqual(
            BuiltInModels.All.Select(m => m.Id).Order(StringComparer.Ordinal).Concat(["a", "b"]).ToArray(),
            catalog.Models.Select(m => m.Id).ToArray());
    }

    [TestMethod]
    public void BuiltInIdsCannotBeShadowed()
    {
        string builtInId = BuiltInModels.All[0].Id;
        Write(builtInId, "objective = 42\n");
        var logger = new RecordingLogger<ModelCatalog>();

        using var catalog = new ModelCatalog(_directory, BuiltInModels.All, logger);

        Assert.IsTrue(catalog.TryGet(builtInId, out ProcessModel? model));
        Assert.AreSame(BuiltInModels.All[0], model);
        Assert.IsTrue(logger.Logged(LogLevel.Error, "is a built-in model"));
    }

    [TestMethod]
    public void WithoutAFolderOnlyBuiltInsAreServed()
    {
        using var none = new ModelCatalog(null, BuiltInModels.All, new RecordingLogger<ModelCatalog>());
        using var missing = new ModelCatalog(Path.Combine(_directory, "absent"), BuiltInModels.All, new RecordingLogger<ModelCatalog>());

        Assert.HasCount(BuiltInModels.All.Count, none.Models);
        Assert.HasCount(BuiltInModels.All.Count, missing.Models);
    }

    [TestMethod]
    public async Task ReloadsChangedAddedAndRemovedFiles()
    {
        Write("a", "objective = x + 1\n");
        using var catalog = new ModelCatalog(_directory, [], new RecordingLogger<ModelCatalog>());

        Task changed = Reloaded(catalog, () => catalog.TryGet("a", out ProcessModel? m) && m.Evaluate([1], []) == 11);
        Write("a", "objective = x + 10\n");
        await changed.WaitAsync(s_reloadTimeout);

        Task added = Reloaded(catalog, () => catalog.TryGet("c", out _));
        Write("c", "objective = 3\n");
        await added.WaitAsync(s_reloadTimeout);

        Task removed = Reloaded(catalog, () => !catalog.TryGet("a", out _));
        File.Delete(Path.Combine(_directory, "a.model"));
        await removed.WaitAsync(s_reloadTimeout);
        Assert.AreEqual(3.0, Objective(catalog, "c", 0));
    }

    [TestMethod]
    public async Task AnInvalidEditKeepsTheLastGoodVersion()
    {
        Write("a", "objective = x + 1\n");
        var logger = new RecordingLogger<ModelCatalog>();
        using var catalog = new ModelCatalog(_directory, [], logger);
        var failed = new TaskCompletionSource<ModelFileEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        catalog.FileProcessed += (_, e) =>
        {
            if (e is { Id: "a", Outcome: ModelFileOutcome.Failed })
            {
                failed.TrySetResult(e);
            }
        };

        Write("a", "objective = (x + 1\n");
        ModelFileEventArgs failure = await failed.Task.WaitAsync(s_reloadTimeout);

        Assert.Contains("a.model:1:13: missing ')'", failure.Error!);
        Assert.AreEqual(2.0, Objective(catalog, "a", 1), "the last good version stays");
        Assert.IsTrue(logger.Logged(LogLevel.Error, "previous version kept: True"), string.Join("\n", logger.Entries));
    }

    [TestMethod]
    public void TheSampleModelCompilesAndItsOptimumViolatesTheSuggestedLimit()
    {
        string directory = Path.Combine(Path.GetTempPath(), "rto-models-sample-" + Guid.NewGuid().ToString("N"));
        try
        {
            ModelCatalog.EnsureSample(directory);
            string path = Path.Combine(directory, "reactor.model");
            FormulaModel model = FormulaModel.Load(path);
            Assert.AreEqual("reactor", model.Id);
            CollectionAssert.AreEqual(new[] { "x1", "x2", "x3", "x4" }, model.Inputs.ToArray());
            double[] cvs = new double[2];
            Assert.AreEqual(10.0, model.Evaluate([2, -3, 4, 1], cvs), 1e-12);
            Assert.IsGreaterThan(380.0, cvs[0], "the temperature limit must bind at the unconstrained optimum");

            File.WriteAllText(path, "objective = 1\n");
            ModelCatalog.EnsureSample(directory);
            Assert.AreEqual("objective = 1\n", File.ReadAllText(path), "an existing folder is left alone");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static double Objective(ModelCatalog catalog, string id, double x)
    {
        Assert.IsTrue(catalog.TryGet(id, out ProcessModel? model), $"model '{id}' is missing");
        return model.Evaluate([x], new double[model.Outputs.Count]);
    }

    /// <summary>Completes after the first processed file event once <paramref name="condition"/> holds.</summary>
    private static Task Reloaded(ModelCatalog catalog, Func<bool> condition)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        catalog.FileProcessed += (_, _) =>
        {
            if (condition())
            {
                done.TrySetResult();
            }
        };
        return done.Task;
    }

    private void Write(string id, string text) => File.WriteAllText(Path.Combine(_directory, id + ".model"), text);
}
