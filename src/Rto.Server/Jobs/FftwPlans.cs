using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Rto.Server.Jobs;

/// <summary>
/// FFTW's real-input transform with its plans kept for the next job of the same length. Planning
/// with <c>FFTW_ESTIMATE</c> costs little search but computes the plan's twiddle factors (about
/// 0.1 s and 9 bytes per sample at 10 M samples), so a batch of same-length jobs plans once. A plan
/// unused for <see cref="IdleLifetime"/> is destroyed, which gives its memory back. Only plans of
/// lengths whose prime factors are at most 13 are kept: a plan for a length with a large prime
/// factor (Rader's algorithm) holds buffers of the whole length, 20–40 bytes per sample.
/// </summary>
/// <remarks>
/// <c>FFTW_MEASURE</c> (or wisdom saved from it) is not used: at 10 M samples it planned for five
/// minutes and ran no faster than the estimated plan, and its choice, hence the last bits of the
/// result, would depend on the timing of the moment. Estimated plans are deterministic.
/// FFTW's planner is not thread-safe, so planning and destroying happen under one lock; executing a
/// plan is thread-safe, also for two jobs running one plan on their own buffers at once.
/// </remarks>
internal static class FftwPlans
{
    private const string FftwLibrary = "libfftw3.so.3";
    private const string FftwThreadsLibrary = "libfftw3_threads.so.3";
    private const uint FftwEstimate = 1U << 6;
    private const int MaxCached = 4;

    /// <summary>How long a plan no job has used is kept.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromSeconds(30);

    private static readonly Lazy<bool> s_available = new(() => NativeLibrary.TryLoad(FftwLibrary, out _));
    private static readonly Lock s_planner = new();
    private static readonly List<Plan> s_plans = [];
    private static bool s_threadsTried;
    private static bool s_threadsAvailable;
    private static Timer? s_sweeper;

    /// <summary>FFTW's planner lock: whatever else plans or destroys FFTW plans in this process (tests) must hold it.</summary>
    internal static Lock Planner => s_planner;

    /// <summary>Whether FFTW can be loaded here.</summary>
    public static bool IsAvailable => s_available.Value;

    /// <summary>Plans kept now (for tests and the benchmark).</summary>
    internal static int CachedCount
    {
        get
        {
            lock (s_planner)
            {
                return s_plans.Count;
            }
        }
    }

    /// <summary>
    /// Transforms <paramref name="spectrum"/> in place with up to <paramref name="threads"/> threads;
    /// returns the time spent planning (zero when a kept plan was reused).
    /// </summary>
    public static TimeSpan ForwardReal(Spectrum spectrum, int threads)
    {
        long started = Stopwatch.GetTimestamp();
        Plan plan = Rent(spectrum.Length, threads, spectrum.Address, out bool planned);
        TimeSpan planning = planned ? Stopwatch.GetElapsedTime(started) : TimeSpan.Zero;
        try
        {
            NativeMethods.fftw_execute_dft_r2c(plan.Handle, spectrum.Address, spectrum.Address);
        }
        finally
        {
            Return(plan);
        }

        GC.KeepAlive(spectrum);
        return planning;
    }

    /// <summary>Destroys every plan no job is using (tests, and the benchmark's cold runs).</summary>
    internal static void Clear()
    {
        lock (s_planner)
        {
            for (int i = s_plans.Count - 1; i >= 0; i--)
            {
                if (s_plans[i].Users == 0)
                {
                    Destroy(i);
                }
            }
        }
    }

    private static Plan Rent(int length, int threads, nint data, out bool planned)
    {
        lock (s_planner)
        {
            threads = InitialiseThreads() ? Math.Max(1, threads) : 1;
            foreach (Plan kept in s_plans)
            {
                if (kept.Length == length && kept.Threads == threads)
                {
                    kept.Users++;
                    planned = false;
                    return kept;
                }
            }

            if (s_threadsAvailable)
            {
                NativeMethods.fftw_plan_with_nthreads(threads);
            }

            // In place: the n samples become bins 0…n/2. The plan fits any buffer of the same alignment (Spectrum: 64 bytes).
            nint handle = NativeMethods.fftw_plan_dft_r2c_1d(length, data, data, FftwEstimate);
            if (handle == 0)
            {
                throw new InvalidOperationException($"FFTW could not plan a transform of {length} samples.");
            }

            var plan = new Plan(handle, length, threads) { Users = 1 };
            s_plans.Add(plan);
            planned = true;
            return plan;
        }
    }

    private static void Return(Plan plan)
    {
        lock (s_planner)
        {
            plan.Users--;
            plan.LastUsed = Environment.TickCount64;
            if (plan.Users == 0 && !SpectrumTransform.IsSmooth(plan.Length))
            {
                Destroy(s_plans.IndexOf(plan));
            }

            // Beyond the cap, the least recently used idle plans go first.
            while (s_plans.Count > MaxCached)
            {
                int oldest = -1;
                for (int i = 0; i < s_plans.Count; i++)
                {
                    if (s_plans[i].Users == 0 && (oldest < 0 || s_plans[i].LastUsed < s_plans[oldest].LastUsed))
                    {
                        oldest = i;
                    }
                }

                if (oldest < 0)
                {
                    break;
                }

                Destroy(oldest);
            }

            if (s_plans.Count > 0)
            {
                s_sweeper ??= new Timer(static _ => Sweep(), null, IdleLifetime / 3, IdleLifetime / 3);
            }
        }
    }

    private static void Sweep()
    {
        lock (s_planner)
        {
            long now = Environment.TickCount64;
            for (int i = s_plans.Count - 1; i >= 0; i--)
            {
                if (s_plans[i].Users == 0 && now - s_plans[i].LastUsed >= (long)IdleLifetime.TotalMilliseconds)
                {
                    Destroy(i);
                }
            }

            if (s_plans.Count == 0 && s_sweeper is not null)
            {
                s_sweeper.Dispose();
                s_sweeper = null;
            }
        }
    }

    private static void Destroy(int index)
    {
        NativeMethods.fftw_destroy_plan(s_plans[index].Handle);
        s_plans.RemoveAt(index);
    }

    /// <summary>FFTW's threads must be set up once, before the first plan; without the library plans are single-threaded.</summary>
    private static bool InitialiseThreads()
    {
        if (!s_threadsTried)
        {
            s_threadsTried = true;
            try
            {
                s_threadsAvailable = NativeLibrary.TryLoad(FftwThreadsLibrary, out _) && NativeMethods.fftw_init_threads() != 0;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                s_threadsAvailable = false;
            }
        }

        return s_threadsAvailable;
    }

    private sealed class Plan(nint handle, int length, int threads)
    {
        public nint Handle { get; } = handle;

        public int Length { get; } = length;

        public int Threads { get; } = threads;

        public int Users { get; set; }

        public long LastUsed { get; set; }
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // Blittable signatures: DllImport needs no marshalling and no unsafe code here.
        [DllImport(FftwLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern nint fftw_plan_dft_r2c_1d(int n, nint input, nint output, uint flags);

        [DllImport(FftwLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern void fftw_execute_dft_r2c(nint plan, nint input, nint output);

        [DllImport(FftwLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern void fftw_destroy_plan(nint plan);

        [DllImport(FftwThreadsLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int fftw_init_threads();

        [DllImport(FftwThreadsLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern void fftw_plan_with_nthreads(int threads);
#pragma warning restore SYSLIB1054
    }
}
