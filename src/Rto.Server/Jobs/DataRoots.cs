namespace Rto.Server.Jobs;

/// <summary>
/// The folders jobs may read and write. A requested folder is accepted only when its real path
/// (every symbolic link along it resolved) lies inside the real path of a root; <c>..</c>
/// segments are refused outright rather than normalised away.
/// </summary>
internal sealed class DataRoots
{
    private const int MaxLinkDepth = 40;
    private readonly string[] _roots;

    public DataRoots(IEnumerable<string> roots)
    {
        _roots = [.. roots.Select(root => RealPath(Path.GetFullPath(root)))];
    }

    public IReadOnlyList<string> Roots => _roots;

    /// <summary>Resolves <paramref name="directory"/> to its real path inside a root, or says why not.</summary>
    public bool TryResolveDirectory(string? directory, out string realDirectory, out string error)
    {
        realDirectory = string.Empty;
        if (string.IsNullOrWhiteSpace(directory))
        {
            error = "Directory is missing.";
            return false;
        }

        if (!Path.IsPathFullyQualified(directory))
        {
            error = $"Directory '{directory}' must be an absolute path.";
            return false;
        }

        if (directory.Split(['/', '\\']).Any(segment => segment == ".."))
        {
            error = $"Directory '{directory}' contains '..', which is not allowed.";
            return false;
        }

        if (!System.IO.Directory.Exists(directory))
        {
            error = $"Directory '{directory}' does not exist.";
            return false;
        }

        string real = RealPath(Path.GetFullPath(directory));
        if (!_roots.Any(root => IsInside(real, root)))
        {
            error = $"Directory '{directory}' is outside the server's data roots.";
            return false;
        }

        realDirectory = real;
        error = string.Empty;
        return true;
    }

    /// <summary>Resolves a file named in a request: a plain name in <paramref name="realDirectory"/> that stays inside it.</summary>
    public static bool TryResolveFile(string realDirectory, string? name, string what, bool mustExist, out string path, out string error)
    {
        path = string.Empty;
        if (string.IsNullOrWhiteSpace(name))
        {
            error = $"{what} is missing.";
            return false;
        }

        if (name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0)
        {
            error = $"{what} '{name}' must be a file name in Directory, without a path.";
            return false;
        }

        string candidate = Path.Combine(realDirectory, name);
        if (!File.Exists(candidate))
        {
            if (mustExist)
            {
                error = $"{what} '{name}' does not exist in Directory.";
                return false;
            }

            if (new FileInfo(candidate).LinkTarget is not null)
            {
                error = $"{what} '{name}' is a dangling symbolic link.";
                return false;
            }

            path = candidate;
            error = string.Empty;
            return true;
        }

        string real = RealPath(candidate);
        if (!IsInside(real, realDirectory))
        {
            error = $"{what} '{name}' is a symbolic link leading out of Directory.";
            return false;
        }

        path = real;
        error = string.Empty;
        return true;
    }

    private static bool IsInside(string path, string root) =>
        path.Equals(root, StringComparison.Ordinal)
        || path.StartsWith(Path.EndsInDirectorySeparator(root) ? root : root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The path with every symbolic link along it resolved, like POSIX <c>realpath</c>.</summary>
    internal static string RealPath(string fullPath, int depth = 0)
    {
        if (depth > MaxLinkDepth)
        {
            throw new IOException($"Too many levels of symbolic links in '{fullPath}'.");
        }

        string root = Path.GetPathRoot(fullPath) ?? "/";
        string current = root;
        foreach (string segment in fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(current, segment);
            FileSystemInfo info = System.IO.Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                // A relative target is relative to the link's folder; resolve the result again.
                next = RealPath(Path.GetFullPath(target, current), depth + 1);
            }

            current = next;
        }

        return Path.TrimEndingDirectorySeparator(current);
    }
}
