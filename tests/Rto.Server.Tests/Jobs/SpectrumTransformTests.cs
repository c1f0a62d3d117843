using System.Numerics;
using System.Runtime.InteropServices;
using MathNet.Numerics.IntegralTransforms;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

[TestClass]
[DoNotParallelize] // FftwPlans is process-wide; these tests count and clear its plans.
public sealed class SpectrumTransformTests
{
    private static double[] Signal(int length, double noise = 0.01) =>
        [.. Enumerable.Range(0, length).Select(n => Math.Sin(0.3 * n) + (0.25 * Math.Cos(1.7 * n)) + (n % 7 * noise) + 3)];

    /// <summary>The full spectrum (n bins, re/im/magnitude) as the FFT task writes it.</summary>
    private static (double[] Re, double[] Im, double[] Magnitude) Transform(double[] samples, bool useFftw, int threads = 1)
    {
        var spectrum = new Spectrum(samples.Length);
        samples.CopyTo(spectrum.Samples);
        SpectrumTransform.Forward(spectrum, threads, useFftw);
        double[] re = new double[samples.Length], im = new double[samples.Length], magnitude = new double[samples.Length];
        spectrum.CopyBins(0, re, im, magnitude);
        return (re, im, magnitude);
    }

    /// <summary>Both engines (FFTW where the machine has it, the managed fallback always) against a reference DFT.</summary>
    [TestMethod]
    [DataRow(true, 1)]
    [DataRow(true, 2)]
    [DataRow(true, 64)]
    [DataRow(true, 75)]
    [DataRow(true, 97)]
    [DataRow(false, 1)]
    [DataRow(false, 64)]
    [DataRow(false, 75)]
    [DataRow(false, 97)]
    public void MatchesAReferenceDft(bool useFftw, int length)
    {
        double[] samples = Signal(length);
        (double[] re, double[] im, double[] magnitude) = Transform(samples, useFftw);
        for (int k = 0; k < length; k++)
        {
            Complex expected = Complex.Zero;
            for (int n = 0; n < length; n++)
            {
                expected += samples[n] * Complex.Exp(new Complex(0, -2 * Math.PI * k * n / length));
            }

            string engine = useFftw ? SpectrumTransform.Engine : "MathNet.Numerics";
            Assert.AreEqual(expected.Real, re[k], 1e-9, $"{engine} re[{k}]");
            Assert.AreEqual(expected.Imaginary, im[k], 1e-9, $"{engine} im[{k}]");
            Assert.AreEqual(new Complex(re[k], im[k]).Magnitude, magnitude[k], 0, $"{engine} |X[{k}]| is Complex.Magnitude of the bin");
        }
    }

    /// <summary>
    /// The real-input FFT against the complex FFT the server ran before (FFTW's, or MathNet's without
    /// it): every re and im within two ulps of the largest magnitude in the spectrum (docs/jobs.md).
    /// The bins agree to the last bit only by chance: the two transforms round differently.
    /// </summary>
    [TestMethod]
    [DataRow(4096)]
    [DataRow(1000)]
    [DataRow(999)]
    [DataRow(65537)] // a prime: FFTW's Rader path
    [DataRow(100_000)]
    public void TheRealInputSpectrumIsTheComplexFftsWithinTwoUlpsOfItsLargestBin(int length)
    {
        double[] samples = Signal(length, noise: 0.37);
        (double[] re, double[] im, _) = Transform(samples, useFftw: true);
        Complex[] before = ComplexFft(samples);
        double largest = before.Max(x => x.Magnitude);
        double ulp = Math.BitIncrement(largest) - largest;
        double worst = 0;
        for (int k = 0; k < length; k++)
        {
            worst = Math.Max(worst, Math.Max(Math.Abs(re[k] - before[k].Real), Math.Abs(im[k] - before[k].Imaginary)));
        }

        System.Console.WriteLine($"n={length}: largest difference {worst:e3} = {worst / ulp:0.00} ulp of max|X| ({largest:e3})");
        Assert.IsLessThanOrEqualTo(2 * ulp, worst, $"n={length}: {worst / ulp:0.00} ulps of max|X|");
    }

    /// <summary>The upper half is the conjugate of the lower one, exactly, and a zero imaginary part is +0 there too.</summary>
    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void TheUpperHalfIsTheConjugateOfTheLowerOne(bool useFftw)
    {
        (double[] re, double[] im, double[] magnitude) = Transform(Signal(1001), useFftw);
        for (int k = 1; k < 1001; k++)
        {
            Assert.AreEqual(re[k], re[1001 - k], 0, $"re[{k}]");
            Assert.AreEqual(-im[k], im[1001 - k], 0, $"im[{k}]");
            Assert.AreEqual(magnitude[k], magnitude[1001 - k], 0, $"|X[{k}]|");
        }

        (_, double[] zeroIm, _) = Transform(new double[16], useFftw);
        Assert.IsTrue(zeroIm.All(x => x == 0 && !double.IsNegative(x)), "the spectrum of zeros is +0 throughout");
    }

    [TestMethod]
    public void MoreThreadsGiveTheSameBits()
    {
        double[] samples = Signal(1 << 20, noise: 0.37);
        (double[] re1, double[] im1, _) = Transform(samples, useFftw: true, threads: 1);
        (double[] re2, double[] im2, _) = Transform(samples, useFftw: true, threads: 2);
        CollectionAssert.AreEqual(re1, re2);
        CollectionAssert.AreEqual(im1, im2);
    }

    [TestMethod]
    public void APlanIsReusedForTheSameLengthAndReleasedOnRequest()
    {
        if (!FftwPlans.IsAvailable)
        {
            // Without FFTW there is no plan: the managed engine has nothing to keep.
            Assert.AreEqual(TimeSpan.Zero, SpectrumTransform.Forward(new Spectrum(12_348), 1));
            return;
        }

        // 12,348 = 2²·3²·7³: a smooth length, whose plan is kept.
        FftwPlans.Clear();
        var spectrum = new Spectrum(12_348);
        Signal(12_348).CopyTo(spectrum.Samples);
        Assert.IsGreaterThan(TimeSpan.Zero, SpectrumTransform.Forward(spectrum, 1), "the first transform of a length plans");
        Assert.AreEqual(1, FftwPlans.CachedCount);
        var again = new Spectrum(12_348);
        Signal(12_348).CopyTo(again.Samples);
        Assert.AreEqual(TimeSpan.Zero, SpectrumTransform.Forward(again, 1), "the next one reuses the plan");
        CollectionAssert.AreEqual(spectrum.StoredSpectrum.ToArray(), again.StoredSpectrum.ToArray(), "a reused plan gives the same bits");
        FftwPlans.Clear();
        Assert.AreEqual(0, FftwPlans.CachedCount);

        // 12,347 = 12,347 (a prime: FFTW's Rader plan holds buffers of the whole length), not kept.
        var rough = new Spectrum(12_347);
        Signal(12_347).CopyTo(rough.Samples);
        Assert.IsGreaterThan(TimeSpan.Zero, SpectrumTransform.Forward(rough, 1));
        Assert.AreEqual(0, FftwPlans.CachedCount, "a plan for a length with a large prime factor is destroyed after use");
    }

    [TestMethod]
    public void AnEmptySignalHasAnEmptySpectrum()
    {
        var spectrum = new Spectrum(0);
        SpectrumTransform.Forward(spectrum, 1);
        Assert.AreEqual(0, spectrum.Samples.Length);
        Assert.AreEqual(1, spectrum.StoredBins);
    }

    /// <summary>The complex FFT of the earlier server: FFTW's complex transform of the samples as complex numbers, in place.</summary>
    private static Complex[] ComplexFft(double[] samples)
    {
        Complex[] data = [.. samples.Select(x => new Complex(x, 0))];
        if (!FftwPlans.IsAvailable)
        {
            Fourier.Forward(data, FourierOptions.Matlab);
            return data;
        }

        GCHandle pinned = GCHandle.Alloc(data, GCHandleType.Pinned);
        try
        {
            nint address = pinned.AddrOfPinnedObject();
            lock (FftwPlans.Planner)
            {
                nint plan = fftw_plan_dft_1d(data.Length, address, address, -1, 1U << 6);
                fftw_execute(plan);
                fftw_destroy_plan(plan);
            }
        }
        finally
        {
            pinned.Free();
        }

        return data;
    }

#pragma warning disable SYSLIB1054, SA1300 // The earlier server's own interop, kept as it was.
    [DllImport("libfftw3.so.3", ExactSpelling = true)]
    private static extern nint fftw_plan_dft_1d(int n, nint input, nint output, int sign, uint flags);

    [DllImport("libfftw3.so.3", ExactSpelling = true)]
    private static extern void fftw_execute(nint plan);

    [DllImport("libfftw3.so.3", ExactSpelling = true)]
    private static extern void fftw_destroy_plan(nint plan);
#pragma warning restore SYSLIB1054, SA1300
}
