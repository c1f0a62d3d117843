using System.Runtime.InteropServices;

namespace Rto.Server.Jobs;

/// <summary>
/// A job's result on its way into the job's folder: written first in a private temporary folder
/// (<c>.rto-&lt;random&gt;</c>, created exclusively with mode 0700, so no link planted in the job's
/// folder can be written through), then renamed onto its final name, which must not be a link or
/// a folder.
/// </summary>
internal sealed class JobOutputFile : IDisposable
{
    private readonly string _folder;
    private bool _committed;

    private JobOutputFile(string folder, string finalPath)
    {
        _folder = folder;
        FinalPath = finalPath;
        TemporaryPath = Path.Combine(folder, Path.GetFileName(finalPath));
    }

    /// <summary>Where the result is written; the file exists (empty) once <see cref="Create"/> returns.</summary>
    public string TemporaryPath { get; }

    /// <summary>Where the result ends up.</summary>
    public string FinalPath { get; }

    /// <summary>Refuses a result name that is a symbolic link or a folder, before a job spends time on it.</summary>
    public static void CheckTarget(string directory, string resultName)
    {
        var final = new FileInfo(Path.Combine(directory, resultName));
        if (final.LinkTarget is not null)
        {
            throw new IOException($"'{resultName}' in Directory is a symbolic link; the server does not replace links (remove it to run the job).");
        }

        if (System.IO.Directory.Exists(final.FullName))
        {
            throw new IOException($"'{resultName}' in Directory is a folder; the result cannot be written.");
        }
    }

    /// <summary>Creates the private folder and the empty temporary file for <paramref name="resultName"/> in <paramref name="directory"/>.</summary>
    public static JobOutputFile Create(string directory, string resultName)
    {
        CheckTarget(directory, resultName);
        string folder = Path.Combine(directory, ".rto-" + Guid.NewGuid().ToString("N") + ".partial");
        CreateFolderExclusively(folder);
        var output = new JobOutputFile(folder, Path.Combine(directory, resultName));
        try
        {
            new FileStream(output.TemporaryPath, FileMode.CreateNew, FileAccess.Write).Dispose();
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>Opens the temporary file for writing (from its start).</summary>
    public FileStream OpenWrite() => new(TemporaryPath, FileMode.Truncate, FileAccess.Write, FileShare.None, 1 << 16, useAsync: false);

    /// <summary>Moves the finished result onto its final name (rename never follows a link).</summary>
    public void Commit()
    {
        CheckTarget(Path.GetDirectoryName(FinalPath)!, Path.GetFileName(FinalPath));
        File.Move(TemporaryPath, FinalPath, overwrite: true);
        _committed = true;
    }

    /// <summary>Removes the temporary folder (and the result, if it was not committed).</summary>
    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(_folder, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        catch (IOException) when (_committed)
        {
            // Something else was put in the folder meanwhile; the result itself is in place.
        }
    }

    private static void CreateFolderExclusively(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            if (System.IO.Directory.Exists(folder) || File.Exists(folder))
            {
                throw new IOException($"The temporary folder '{folder}' exists already.");
            }

            System.IO.Directory.CreateDirectory(folder);
            return;
        }

        // mkdir(2) fails when the name exists in any form, a link included; Directory.CreateDirectory would not.
        if (Mkdir(folder, Convert.ToUInt32("700", 8)) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            throw new IOException($"Could not create the temporary folder '{folder}' (errno {errno}).");
        }
    }

#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code enabled for the whole server; one string argument is marshalled fine.
    [DllImport("libc", EntryPoint = "mkdir", SetLastError = true, ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Mkdir([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);
#pragma warning restore SYSLIB1054
}
