namespace Rto.Optimization.Optimizers;

/// <summary>
/// Turns a method written as a plain loop into an ask/tell state machine: <see cref="Steps"/> is a C#
/// iterator that yields unit-box points and reads the outcome of each from <see cref="Last"/> after
/// the yield. No threads and no hidden state beyond the iterator and one seeded <see cref="Random"/>,
/// so replaying the same evaluations through a fresh instance yields the same candidates.
/// </summary>
internal abstract class SequentialOptimizer
{
    private IEnumerator<double[]>? _steps;
    private double[]? _pending;
    private readonly List<Trial> _history = [];
    private readonly HashSet<CandidateKey> _evaluated = [];
    private double[]? _keyBuffer;

    protected SequentialOptimizer(OptimizationProblem problem, int seed)
    {
        Problem = problem;
        Space = new SearchSpace(problem);
        Random = new Random(seed);
    }

    protected OptimizationProblem Problem { get; }

    protected SearchSpace Space { get; }

    protected Random Random { get; }

    /// <summary>Every evaluation told so far, in order.</summary>
    protected IReadOnlyList<Trial> History => _history;

    /// <summary>True when exactly this candidate was evaluated before (a hash lookup, for ranking many lattice points).</summary>
    protected bool WasEvaluatedExactly(ReadOnlySpan<double> unit)
    {
        // The lookup key wraps a reused buffer: a lookup never stores it, and ranking thousands of lattice points allocates nothing.
        _keyBuffer ??= new double[Space.Variables];
        Space.ToCandidate(unit, _keyBuffer);
        return _evaluated.Contains(new CandidateKey(_keyBuffer));
    }

    /// <summary>The evaluation of the point most recently yielded by <see cref="Steps"/>.</summary>
    protected Trial Last => _history[^1];

    /// <summary>The candidate to evaluate next; the same one again until it is told.</summary>
    public double[] Ask()
    {
        if (_pending is null)
        {
            if (Space.Dimension == 0)
            {
                _pending = Space.ToCandidate([]);
            }
            else
            {
                _steps ??= Steps().GetEnumerator();

                // Methods loop forever (restarting when converged), so Ask keeps working past the budget;
                // this only guards a method whose loop does end.
                if (!_steps.MoveNext())
                {
                    _steps = Steps().GetEnumerator();
                    _steps.MoveNext();
                }

                _pending = Space.ToCandidate(_steps.Current);
            }
        }

        return (double[])_pending.Clone();
    }

    /// <summary>
    /// Records the evaluation of <paramref name="candidate"/> (normally the one <see cref="Ask"/> returned).
    /// Keeps both arrays: <see cref="Optimizer"/> hands over copies nobody else writes to.
    /// </summary>
    public void Tell(double[] candidate, Evaluation evaluation)
    {
        _history.Add(Trial.From(Problem, Space, candidate, evaluation));
        _evaluated.Add(new CandidateKey(candidate));
        _pending = null;
    }

    /// <summary>The method: yields unit-box points forever; after each yield <see cref="Last"/> holds its evaluation.</summary>
    protected abstract IEnumerable<double[]> Steps();

    /// <summary>A point drawn uniformly from the unit box.</summary>
    protected double[] RandomPoint()
    {
        var u = new double[Space.Dimension];
        for (int i = 0; i < u.Length; i++)
        {
            u[i] = Random.NextDouble();
        }

        return u;
    }

    /// <summary>The box centre moved by up to ±<paramref name="spread"/> per coordinate, so different seeds start differently.</summary>
    protected double[] JitteredCentre(double spread)
    {
        var u = new double[Space.Dimension];
        for (int i = 0; i < u.Length; i++)
        {
            u[i] = 0.5 + (spread * ((2 * Random.NextDouble()) - 1));
        }

        return u;
    }

    /// <summary>True when a candidate with this unit point was already evaluated (within <paramref name="tolerance"/> per coordinate).</summary>
    protected bool WasEvaluated(double[] unit, double tolerance = 1e-12)
    {
        foreach (Trial trial in _history)
        {
            if (IsWithin(trial.Unit, unit, tolerance))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Distance(a, b) ≤ tolerance, stopping at the first coordinate that differs more (most do, at once): O(history) per check, not O(history·n).</summary>
    private static bool IsWithin(double[] a, double[] b, double tolerance)
    {
        for (int i = 0; i < a.Length; i++)
        {
            if (!(Math.Abs(a[i] - b[i]) <= tolerance))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The best trial from index <paramref name="from"/> on (feasibility first).</summary>
    protected Trial? BestSince(int from)
    {
        Trial? best = null;
        for (int i = from; i < _history.Count; i++)
        {
            if (best is null || _history[i].IsBetterThan(best))
            {
                best = _history[i];
            }
        }

        return best;
    }

    /// <summary>Largest coordinate difference.</summary>
    protected static double Distance(double[] a, double[] b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }

    private readonly struct CandidateKey(double[] values) : IEquatable<CandidateKey>
    {
        private readonly double[] _values = values;

        public bool Equals(CandidateKey other) => _values.AsSpan().SequenceEqual(other._values);

        public override bool Equals(object? obj) => obj is CandidateKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            foreach (double v in _values)
            {
                hash.Add(v);
            }

            return hash.ToHashCode();
        }
    }
}
