using System.Reflection;
using Rto.Server.Hosting;

namespace Rto.Server.Tests.Documentation;

/// <summary>The README is where a user looks up a setting: every option the server binds must be listed there.</summary>
[TestClass]
public sealed class ReadmeTests
{
    [TestMethod]
    public void Every_server_option_is_in_the_readme_configuration_table()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        var missing = new List<string>();
        IEnumerable<Type> optionTypes = typeof(RtoServer).Assembly.GetTypes()
            .Where(t => t.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true });
        int checkedOptions = 0;
        foreach (Type type in optionTypes)
        {
            checkedOptions += Check(type, (string)type.GetField("SectionName")!.GetRawConstantValue()!, readme, missing);
        }

        Assert.IsGreaterThan(40, checkedOptions, "the options classes were found");
        Assert.IsEmpty(missing, "not documented in README.md: " + string.Join(", ", missing));
    }

    /// <summary>Every settable property of <paramref name="type"/>, and of its nested option sections (e.g. <c>Jobs:Python</c>).</summary>
    private static int Check(Type type, string section, string readme, List<string> missing)
    {
        int checkedOptions = 0;
        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.SetMethod?.IsPublic == true)
            {
                checkedOptions++;
                if (!readme.Contains($"`{section}:{property.Name}`", StringComparison.Ordinal))
                {
                    missing.Add($"{section}:{property.Name}");
                }
            }
            else if (property.PropertyType.IsClass && property.PropertyType.Assembly == type.Assembly)
            {
                checkedOptions += Check(property.PropertyType, $"{section}:{property.Name}", readme, missing);
            }
        }

        return checkedOptions;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Rto.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Rto.sln above {AppContext.BaseDirectory}.");
    }
}
