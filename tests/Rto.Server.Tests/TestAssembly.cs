[assembly: Parallelize(Workers = 2, Scope = ExecutionScope.ClassLevel)]

namespace Rto.Server.Tests;

[TestClass]
public static class TestAssembly
{
    [AssemblyCleanup]
    public static void RemoveTestData()
    {
        if (Directory.Exists(TestServer.RunDirectory))
        {
            Directory.Delete(TestServer.RunDirectory, recursive: true);
        }
    }
}
