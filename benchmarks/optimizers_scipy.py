"""scipy.optimize baselines for the RTO optimizer comparison (run by OptimizerComparisonCommand).

Same four problems, bounds, budgets and targets as the .NET built-in models. For each seed the
evaluations until the target is first reached are counted (-1 when not within the budget). Starts
for COBYLA and Nelder-Mead are uniform random in the bounds (numpy seed). COBYLA (scipy 1.10 has no
bounds for it) gets the bounds as inequality constraints and rhobeg = 10% of the range; Nelder-Mead
gets the bounds natively and CV limits as a penalty; differential_evolution gets the bounds,
NonlinearConstraint for CV limits, integrality for whole-valued MVs and polish=False. On the
integer problem COBYLA and Nelder-Mead evaluate the rounded point.

usage: optimizers_scipy.py SEEDS BUDGET   -> lines "problem method n1 n2 ..."
"""
import sys
import numpy as np
from scipy.optimize import minimize, differential_evolution, NonlinearConstraint


def parabola(x):
    return 10 - (x[0] - 2) ** 2 - (x[1] + 3) ** 2 - (x[2] - 4) ** 2 - (x[3] - 1) ** 2


def intbool(x):
    n1, n2, b1, b2 = x
    return (n1 - 1 - 2 * b1) ** 2 + (n2 + 1 - 3 * b2) ** 2 + 0.6 * n1 * n2 - 3 * b1 * b2 + 1.5 * b1 + 2 * b2


# name: (minimised objective, bounds, constraints g(x) <= 0, integrality, target on the minimised objective)
PROBLEMS = {
    "parabola4": (lambda x: -parabola(x), [(-10, 10)] * 4, [], None, -10 + 0.01),
    "parabola4-constrained": (lambda x: -parabola(x), [(-10, 10)] * 4,
                              [lambda x: x[0] + x[1] + 2, lambda x: x[2] - 3], None, -8.5 + 0.01),
    "rosenbrock": (lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, [(-2, 2)] * 2, [], None, 0.01),
    "intbool": (intbool, [(-5, 5), (-5, 5), (0, 1), (0, 1)], [], [True] * 4, -1.3 + 1e-9),
}


class Done(Exception):
    pass


class Counter:
    def __init__(self, f, constraints, budget, rounded):
        self.f, self.constraints, self.budget, self.rounded = f, constraints, budget, rounded
        self.count, self.reached = 0, -1

    def __call__(self, x, target):
        x = np.round(x) if self.rounded else np.asarray(x)
        if self.count >= self.budget:
            raise Done()
        self.count += 1
        value = self.f(x)
        if self.reached < 0 and value <= target and all(g(x) <= 0 for g in self.constraints):
            self.reached = self.count
            raise Done()
        return value


def run(name, method, seed, budget):
    f, bounds, constraints, integrality, target = PROBLEMS[name]
    low = np.array([b[0] for b in bounds], float)
    high = np.array([b[1] for b in bounds], float)
    x0 = np.random.default_rng(seed).uniform(low, high)
    counter = Counter(f, constraints, budget, integrality is not None and method != "differential_evolution")
    try:
        if method == "COBYLA":
            cons = [{"type": "ineq", "fun": lambda x, g=g: -g(x)} for g in constraints]
            cons += [{"type": "ineq", "fun": lambda x, i=i: x[i] - low[i]} for i in range(len(low))]
            cons += [{"type": "ineq", "fun": lambda x, i=i: high[i] - x[i]} for i in range(len(low))]
            minimize(lambda x: counter(x, target), x0, method="COBYLA", constraints=cons,
                     options={"rhobeg": 0.1 * float(np.min(high - low)), "maxiter": budget, "tol": 1e-12})
        elif method == "Nelder-Mead":
            def penalised(x):
                value = counter(x, target)
                return value + 1e3 * sum(max(0.0, g(np.round(x) if counter.rounded else x)) for g in constraints)
            minimize(penalised, x0, method="Nelder-Mead", bounds=bounds,
                     options={"maxfev": budget, "xatol": 1e-12, "fatol": 1e-12})
        else:
            cons = [NonlinearConstraint(lambda x, g=g: g(x), -np.inf, 0) for g in constraints]
            differential_evolution(lambda x: counter(x, target), bounds, seed=seed, maxiter=100000, tol=0,
                                   polish=False, integrality=integrality, constraints=cons or ())
    except Done:
        pass
    return counter.reached


def main():
    seeds, budget = int(sys.argv[1]), int(sys.argv[2])
    for name in PROBLEMS:
        for method in ("COBYLA", "Nelder-Mead", "differential_evolution"):
            counts = [run(name, method, seed, budget) for seed in range(1, seeds + 1)]
            print(name, "scipy-" + method, *counts, flush=True)


if __name__ == "__main__":
    main()
