using System.Numerics;
using MathNet.Numerics.IntegralTransforms;

namespace Rto.Server.Jobs;

/// <summary>
/// The forward DFT of a real signal, unscaled like <c>numpy.fft.fft</c>, in place in a
/// <see cref="Spectrum"/>. Uses FFTW's real-input transform (the system's <c>libfftw3.so.3</c>,
/// Debian package libfftw3-double3) when it can be loaded: mixed-radix plans for every length, SIMD,
/// threads, about half the work and memory of a complex transform. Otherwise MathNet.Numerics'
/// managed FFT, which is correct for every length but falls back to Bluestein's algorithm when the
/// length is not a power of two (many times slower, and several times the memory).
/// </summary>
internal static class SpectrumTransform
{
    /// <summary>
    /// Memory an FFT job needs per sample at its peak with FFTW, for a length whose prime factors are
    /// all at most 13 (the lengths FFTW is built for): the samples, which become the half spectrum
    /// (8 bytes), and the plan's twiddle factors (about 9). Measured peaks: 22–24 bytes per sample
    /// at 8–10 M samples (docs/performance.md).
    /// </summary>
    public const int FftwBytesPerSample = 32;

    /// <summary>
    /// The same for a length with a larger prime factor, which FFTW transforms with Rader's
    /// algorithm and buffers of the whole length: 60–68 bytes per sample measured (a prime
    /// 9,999,991; 2 × 4,999,999; 17 × 61,681).
    /// </summary>
    public const int FftwRoughBytesPerSample = 96;

    /// <summary>
    /// The same without FFTW: the samples, MathNet's complex copy (16 bytes) and, for a length that
    /// is not a power of two, Bluestein's power-of-two work arrays (up to 8 times the length in
    /// complex numbers); 171 bytes per sample measured at 2^20 + 1.
    /// </summary>
    public const int ManagedBytesPerSample = 192;

    /// <summary>What the writer needs besides: Parquet.Net's page and compression buffers, and two row groups of rows (32 bytes each).</summary>
    private const long WriterBytes = 4L << 20;

    /// <summary>The engine <see cref="Forward"/> uses on this machine.</summary>
    public static string Engine => FftwPlans.IsAvailable ? "FFTW" : "MathNet.Numerics";

    /// <summary>Bytes per sample an FFT of <paramref name="length"/> samples needs at its peak with the engine <see cref="Forward"/> uses here.</summary>
    public static int BytesPerSample(long length, bool useFftw = true) =>
        !(useFftw && FftwPlans.IsAvailable) ? ManagedBytesPerSample
        : length <= int.MaxValue && IsSmooth((int)length) ? FftwBytesPerSample
        : FftwRoughBytesPerSample;

    /// <summary>The memory an FFT job of <paramref name="length"/> samples needs at its peak, in bytes (what <c>Jobs:MaxJobMemory</c> bounds).</summary>
    public static long RequiredBytes(long length, bool useFftw = true) =>
        WriterBytes + (2 * 32 * Math.Min(length, SpectrumFile.RowGroupRows)) + (length * BytesPerSample(length, useFftw));

    /// <summary>Whether every prime factor of <paramref name="length"/> is at most 13: FFTW's fast lengths, whose plans are small.</summary>
    public static bool IsSmooth(int length)
    {
        if (length <= 0)
        {
            return true;
        }

        foreach (int factor in (ReadOnlySpan<int>)[2, 3, 5, 7, 11, 13])
        {
            while (length % factor == 0)
            {
                length /= factor;
            }
        }

        return length == 1;
    }

    /// <summary>
    /// Replaces the samples of <paramref name="spectrum"/> by their spectrum (bins 0…⌊n/2⌋).
    /// <paramref name="threads"/> is how many threads FFTW may use; <paramref name="useFftw"/> false
    /// forces the managed FFT. Returns the time FFTW spent planning (zero with a kept plan or without FFTW).
    /// </summary>
    public static TimeSpan Forward(Spectrum spectrum, int threads = 1, bool useFftw = true)
    {
        if (spectrum.Length == 0)
        {
            return TimeSpan.Zero;
        }

        if (useFftw && FftwPlans.IsAvailable)
        {
            return FftwPlans.ForwardReal(spectrum, threads);
        }

        ForwardManaged(spectrum);
        return TimeSpan.Zero;
    }

    /// <summary>
    /// MathNet has no in-place real-input transform for every length: a complex copy is transformed
    /// (as the earlier server did, so bins 0…⌊n/2⌋ are the same bits as before) and its lower half kept.
    /// </summary>
    private static void ForwardManaged(Spectrum spectrum)
    {
        ReadOnlySpan<double> samples = spectrum.Samples;
        var complex = new Complex[samples.Length];
        for (int i = 0; i < complex.Length; i++)
        {
            complex[i] = new Complex(samples[i], 0);
        }

        Fourier.Forward(complex, FourierOptions.Matlab);
        complex.AsSpan(0, spectrum.StoredBins).CopyTo(spectrum.WritableStoredSpectrum);
    }
}
