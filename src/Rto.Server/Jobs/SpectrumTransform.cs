using System.Numerics;
using System.Runtime.InteropServices;
using MathNet.Numerics.IntegralTransforms;

namespace Rto.Server.Jobs;

/// <summary>
/// The forward DFT, unscaled like <c>numpy.fft.fft</c>, in place. Uses FFTW (the system's
/// <c>libfftw3.so.3</c>, Debian package libfftw3-double3) when it can be loaded, because its
/// mixed-radix plans are fast for every length; otherwise MathNet.Numerics' managed FFT, which is
/// correct for every length but falls back to Bluestein's algorithm when the length is not a power
/// of two (several times slower).
/// </summary>
internal static class SpectrumTransform
{
    private const string FftwLibrary = "libfftw3.so.3";
    private const int FftwForward = -1;
    private const uint FftwEstimate = 1U << 6;

    // FFTW's planner is not thread-safe; executing a plan is.
    private static readonly Lock s_planner = new();
    private static readonly Lazy<bool> s_fftwAvailable = new(() => NativeLibrary.TryLoad(FftwLibrary, out _));

    /// <summary>The engine <see cref="Forward"/> uses on this machine.</summary>
    public static string Engine => s_fftwAvailable.Value ? "FFTW" : "MathNet.Numerics";

    /// <summary>Transforms <paramref name="samples"/> in place; <paramref name="useFftw"/> false forces the managed FFT.</summary>
    public static void Forward(Complex[] samples, bool useFftw = true)
    {
        if (samples.Length == 0)
        {
            return;
        }

        if (useFftw && s_fftwAvailable.Value)
        {
            ForwardFftw(samples);
        }
        else
        {
            Fourier.Forward(samples, FourierOptions.Matlab);
        }
    }

    private static void ForwardFftw(Complex[] samples)
    {
        // System.Numerics.Complex is two doubles (re, im): exactly FFTW's fftw_complex.
        GCHandle pinned = GCHandle.Alloc(samples, GCHandleType.Pinned);
        try
        {
            nint data = pinned.AddrOfPinnedObject();
            nint plan;
            lock (s_planner)
            {
                plan = NativeMethods.fftw_plan_dft_1d(samples.Length, data, data, FftwForward, FftwEstimate);
            }

            if (plan == 0)
            {
                throw new InvalidOperationException("FFTW could not plan the transform.");
            }

            try
            {
                NativeMethods.fftw_execute(plan);
            }
            finally
            {
                lock (s_planner)
                {
                    NativeMethods.fftw_destroy_plan(plan);
                }
            }
        }
        finally
        {
            pinned.Free();
        }
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // Blittable signatures: DllImport needs no marshalling and no unsafe code here.
        [DllImport(FftwLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern nint fftw_plan_dft_1d(int n, nint input, nint output, int sign, uint flags);

        [DllImport(FftwLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern void fftw_execute(nint plan);

        [DllImport(FftwLibrary, ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern void fftw_destroy_plan(nint plan);
#pragma warning restore SYSLIB1054
    }
}
