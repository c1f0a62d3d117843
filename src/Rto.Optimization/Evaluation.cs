namespace Rto.Optimization;

/// <summary>
/// The outcome of evaluating one candidate: the objective, one value per constraint in problem
/// order (NaN when not measured, which makes a limited constraint infeasible), and whether the
/// evaluation succeeded. A failed evaluation (the plant tripped, the model did not converge)
/// counts as infeasible and never becomes the best point; the methods steer away from it.
/// </summary>
/// <param name="Objective">The objective value.</param>
/// <param name="ConstraintValues">One value per constraint of the problem, in problem order.</param>
/// <param name="Succeeded">False when the evaluation failed.</param>
public readonly record struct Evaluation(double Objective, double[] ConstraintValues, bool Succeeded = true)
{
    /// <summary>A failed evaluation with nothing measured (<paramref name="constraintCount"/> NaN values).</summary>
    public static Evaluation Failed(int constraintCount)
    {
        var values = new double[constraintCount];
        Array.Fill(values, double.NaN);
        return new Evaluation(double.NaN, values, Succeeded: false);
    }
}
