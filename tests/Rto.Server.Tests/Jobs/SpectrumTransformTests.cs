using System.Numerics;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

[TestClass]
public sealed class SpectrumTransformTests
{
    /// <summary>Both engines (FFTW where the machine has it, the managed fallback always) against a reference DFT.</summary>
    [TestMethod]
    [DataRow(true, 1)]
    [DataRow(true, 64)]
    [DataRow(true, 75)]
    [DataRow(false, 64)]
    [DataRow(false, 75)]
    public void MatchesAReferenceDft(bool useFftw, int length)
    {
        double[] samples = [.. Enumerable.Range(0, length).Select(n => Math.Sin(0.3 * n) + 0.25 * Math.Cos(1.7 * n) + (n % 7) * 0.01)];
        Complex[] transformed = [.. samples.Select(x => new Complex(x, 0))];
        SpectrumTransform.Forward(transformed, useFftw);
        for (int k = 0; k < length; k++)
        {
            Complex expected = Complex.Zero;
            for (int n = 0; n < length; n++)
            {
                expected += samples[n] * Complex.Exp(new Complex(0, -2 * Math.PI * k * n / length));
            }

            Assert.AreEqual(expected.Real, transformed[k].Real, 1e-9, $"{SpectrumTransform.Engine} re[{k}]");
            Assert.AreEqual(expected.Imaginary, transformed[k].Imaginary, 1e-9, $"{SpectrumTransform.Engine} im[{k}]");
        }
    }
}
