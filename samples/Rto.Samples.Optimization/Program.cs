using Rto.Optimization;

// Minimize a C# function of a real x, a whole number n and an on/off switch while the load x·(1 + on)
// stays at most 3. The unconstrained minimum (2, 4, on) has load 4, so the limit binds: the answer is
// x = 1.5, n = 4, on, objective -1.75. The same method and seed give the same run every time.
//   dotnet run --project samples/Rto.Samples.Optimization -- [method] [seed]
string method = args.Length > 0 ? args[0] : OptimizationMethods.TrustRegion;
int seed = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 42;

var problem = new OptimizationProblem(
    [DecisionVariable.Continuous("x", -5, 5), DecisionVariable.Integer("n", 0, 10), DecisionVariable.Bool("on")],
    [Constraint.AtMost("load", 3)],
    maximize: false,
    maxEvaluations: 60);
var optimizer = Optimizer.Create(method, problem, seed);
while (!optimizer.IsBudgetSpent)
{
    double[] v = optimizer.Ask();
    double x = v[0], n = v[1], on = v[2];
    optimizer.Tell(v, objective: Math.Pow(x - 2, 2) + Math.Pow(n - 4, 2) - (2 * on), x * (1 + on));
}

EvaluatedCandidate best = optimizer.Best!;
Console.WriteLine($"{method}, seed {seed}: best of {optimizer.Evaluations} evaluations (no. {best.Number}) is "
    + $"x = {best.Candidate[0]:0.######}, n = {best.Candidate[1]}, on = {best.Candidate[2]}: objective {best.Objective:0.######}, "
    + (best.IsFeasible ? "feasible" : "infeasible"));
return best.IsFeasible ? 0 : 1;
