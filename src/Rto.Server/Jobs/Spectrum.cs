using System.Numerics;
using System.Runtime.InteropServices;

namespace Rto.Server.Jobs;

/// <summary>
/// One real signal and, once <see cref="SpectrumTransform.Forward"/> has run, its spectrum, in the
/// same memory: the <see cref="Length"/> samples are replaced by the bins 0…⌊n/2⌋, and the others
/// follow from conjugate symmetry (X[n−k] = conj X[k] for a real signal). That is half the memory
/// of the samples as complex numbers, and what FFTW's real-input transform computes in place.
/// </summary>
/// <remarks>
/// The buffer is pinned (on the pinned object heap, so the GC never moves it and FFTW may hold its
/// address) and its data starts on a 64-byte boundary: FFTW uses its SIMD kernels only on aligned
/// data, and a plan made for one alignment may only run on data of the same alignment.
/// </remarks>
internal sealed class Spectrum
{
    private const int Alignment = 64;

    private readonly double[] _buffer;
    private readonly int _offset;

    /// <summary>Room for <paramref name="length"/> samples, uninitialised.</summary>
    public Spectrum(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxLength);
        Length = length;

        // Real-input FFT in place: 2·(⌊n/2⌋+1) doubles hold both the n samples and the ⌊n/2⌋+1 bins.
        int doubles = 2 * BinCount(length);
        _buffer = GC.AllocateUninitializedArray<double>(doubles + (Alignment / sizeof(double)), pinned: true);
        long address = Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, 0);
        _offset = (int)((Alignment - (address % Alignment)) % Alignment) / sizeof(double);
    }

    /// <summary>The longest signal: 2·(⌊n/2⌋+1) doubles and the alignment must fit in one array (<see cref="Array.MaxLength"/>).</summary>
    public const int MaxLength = 0x7FFFFFC7 - 16;

    /// <summary>n, the number of samples (and of spectrum bins).</summary>
    public int Length { get; }

    /// <summary>The bins stored: 0…⌊n/2⌋.</summary>
    public int StoredBins => BinCount(Length);

    /// <summary>The samples, to be filled before the transform.</summary>
    public Span<double> Samples => _buffer.AsSpan(_offset, Length);

    /// <summary>After the transform: bins 0…⌊n/2⌋ (the rest by <see cref="CopyBins"/>).</summary>
    public ReadOnlySpan<Complex> StoredSpectrum => MemoryMarshal.Cast<double, Complex>(_buffer.AsSpan(_offset, 2 * StoredBins));

    internal Span<Complex> WritableStoredSpectrum => MemoryMarshal.Cast<double, Complex>(_buffer.AsSpan(_offset, 2 * StoredBins));

    /// <summary>The address of the first sample (64-byte aligned); valid as long as this object lives.</summary>
    internal nint Address => Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, _offset);

    /// <summary>
    /// Copies bins <paramref name="first"/>…<paramref name="first"/>+<paramref name="re"/>.Length−1 of
    /// the full spectrum: stored bins as they are, the upper half as the conjugates of their mirror
    /// bins; and each bin's magnitude (<see cref="Complex.Abs"/>, as <see cref="Complex.Magnitude"/>).
    /// </summary>
    public void CopyBins(long first, Span<double> re, Span<double> im, Span<double> magnitude)
    {
        ReadOnlySpan<Complex> stored = StoredSpectrum;
        int count = re.Length;
        if (first < 0 || first + count > Length || im.Length != count || magnitude.Length != count)
        {
            throw new ArgumentOutOfRangeException(nameof(first));
        }

        int k = (int)first;
        int end = k + count;
        int lowerEnd = Math.Min(end, stored.Length);
        int j = 0;
        for (; k < lowerEnd; k++, j++)
        {
            Complex bin = stored[k];
            re[j] = bin.Real;
            im[j] = bin.Imaginary;
            magnitude[j] = Complex.Abs(bin);
        }

        // |conj z| is |z| bit for bit (Abs ignores signs), so the mirror's magnitude is the stored one's.
        for (; k < end; k++, j++)
        {
            Complex mirror = stored[Length - k];
            re[j] = mirror.Real;
            im[j] = 0.0 - mirror.Imaginary; // not −x: a zero imaginary part stays +0, never −0
            magnitude[j] = Complex.Abs(mirror);
        }
    }

    private static int BinCount(int length) => (length / 2) + 1;
}
