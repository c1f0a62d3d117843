namespace Rto.Optimization.Optimizers;

/// <summary>
/// The optimizers' view of the variables: every free variable becomes one coordinate of the unit box [0, 1]ⁿ,
/// and every point of that box maps to a valid candidate (within bounds, whole numbers for Integer,
/// 0/1 for Bool). Variables that cannot move (Lower == Upper, or one admissible whole number) are not
/// coordinates at all, so no method wastes evaluations on them.
/// </summary>
internal sealed class SearchSpace
{
    private readonly VariableType[] _types;
    private readonly double[] _low;
    private readonly double[] _high;
    private readonly int[] _free;

    public SearchSpace(OptimizationProblem problem)
    {
        int count = problem.Variables.Count;
        _types = new VariableType[count];
        _low = new double[count];
        _high = new double[count];
        var free = new List<int>();
        for (int i = 0; i < count; i++)
        {
            DecisionVariable mv = problem.Variables[i];
            _types[i] = mv.Type;
            (double low, double high) = mv.Type switch
            {
                VariableType.Integer => (Math.Ceiling(mv.Lower), Math.Floor(mv.Upper)),
                VariableType.Bool => (Math.Max(0, Math.Ceiling(mv.Lower)), Math.Min(1, Math.Floor(mv.Upper))),
                _ => (mv.Lower, mv.Upper),
            };

            // No admissible whole number inside the bounds: the bounds win over the type.
            if (low > high)
            {
                (low, high) = (mv.Lower, mv.Lower);
            }

            _low[i] = low;
            _high[i] = high;
            if (high > low)
            {
                free.Add(i);
            }
        }

        _free = [.. free];
    }

    /// <summary>Number of coordinates (variables that can move).</summary>
    public int Dimension => _free.Length;

    /// <summary>True when coordinate <paramref name="dimension"/> only takes whole values.</summary>
    public bool IsDiscrete(int dimension) => _types[_free[dimension]] != VariableType.Continuous;

    /// <summary>True when any coordinate only takes whole values.</summary>
    public bool HasDiscrete => Enumerable.Range(0, Dimension).Any(IsDiscrete);

    /// <summary>Distance between two neighbouring whole values in unit coordinates; 0 for a numeric coordinate.</summary>
    public double LatticeStep(int dimension) => IsDiscrete(dimension) ? 1 / (_high[_free[dimension]] - _low[_free[dimension]]) : 0;

    /// <summary>The candidate at a unit-box point: clamped into the box and rounded for whole-valued variables.</summary>
    public double[] ToCandidate(ReadOnlySpan<double> unit)
    {
        var candidate = new double[_types.Length];
        ToCandidate(unit, candidate);
        return candidate;
    }

    /// <summary><see cref="ToCandidate(ReadOnlySpan{double})"/> into a buffer of one value per variable.</summary>
    public void ToCandidate(ReadOnlySpan<double> unit, Span<double> candidate)
    {
        for (int i = 0; i < _types.Length; i++)
        {
            candidate[i] = _low[i];
        }

        for (int d = 0; d < _free.Length; d++)
        {
            int i = _free[d];
            double u = double.IsNaN(unit[d]) ? 0.5 : Math.Clamp(unit[d], 0, 1);
            double value = _low[i] + (u * (_high[i] - _low[i]));
            if (_types[i] != VariableType.Continuous)
            {
                value = Math.Round(value, MidpointRounding.AwayFromZero);
            }

            candidate[i] = Math.Clamp(value, _low[i], _high[i]);
        }
    }

    /// <summary>The unit-box coordinates of a candidate.</summary>
    public double[] ToUnit(ReadOnlySpan<double> candidate)
    {
        var unit = new double[_free.Length];
        ToUnit(candidate, unit);
        return unit;
    }

    /// <summary><see cref="ToUnit(ReadOnlySpan{double})"/> into a buffer of one value per coordinate.</summary>
    public void ToUnit(ReadOnlySpan<double> candidate, Span<double> unit)
    {
        for (int d = 0; d < _free.Length; d++)
        {
            int i = _free[d];
            unit[d] = Math.Clamp((candidate[i] - _low[i]) / (_high[i] - _low[i]), 0, 1);
        }
    }

    /// <summary>Number of variables (free or not): the length of a candidate.</summary>
    public int Variables => _types.Length;

    /// <summary>Coordinate <paramref name="dimension"/> of <see cref="Snap"/> alone (each coordinate snaps on its own): O(1) instead of O(n).</summary>
    public double SnapCoordinate(int dimension, double unit)
    {
        int i = _free[dimension];
        double u = double.IsNaN(unit) ? 0.5 : Math.Clamp(unit, 0, 1);
        double value = _low[i] + (u * (_high[i] - _low[i]));
        if (_types[i] != VariableType.Continuous)
        {
            value = Math.Round(value, MidpointRounding.AwayFromZero);
        }

        value = Math.Clamp(value, _low[i], _high[i]);
        return Math.Clamp((value - _low[i]) / (_high[i] - _low[i]), 0, 1);
    }

    /// <summary>The unit point of the candidate nearest to <paramref name="unit"/> (rounding discrete coordinates).</summary>
    public double[] Snap(ReadOnlySpan<double> unit) => ToUnit(ToCandidate(unit));
}
