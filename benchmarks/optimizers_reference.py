"""Reference optimizers for the RTO optimizer comparison (run by OptimizerComparisonCommand):
scipy.optimize (COBYLA, Nelder-Mead, differential_evolution) and NLopt (COBYLA, BOBYQA, SBPLX,
Debian's python3-nlopt, installed with apt-get when missing and running as root).

Same problems, bounds, budgets and targets as the .NET built-in models. For each seed the
evaluations until the target is first reached are counted (-1 when not within the budget). Starts
for the local methods are uniform random in the bounds (numpy seed). COBYLA (scipy 1.10 has no
bounds for it) gets the bounds as inequality constraints and rhobeg = 10% of the range; NLopt gets
the bounds natively, an initial step of 10% of each range, and CV limits as inequality constraints
(COBYLA) or as a penalty (BOBYQA and SBPLX take none); Nelder-Mead gets the bounds natively and CV
limits as a penalty; differential_evolution gets the bounds, NonlinearConstraint for CV limits,
integrality for whole-valued MVs and polish=False. On the integer problem the local methods evaluate
the rounded point. The penalty (1e3 x the scaled violation for the test functions, the objective's
scale for the plants) counts as the objective only for the optimizer; the target needs a feasible point.

usage: optimizers_reference.py SEEDS BUDGET   -> lines "problem method n1 n2 ..."
"""
import os
import subprocess
import sys

import numpy as np
from scipy.optimize import minimize, differential_evolution, NonlinearConstraint

try:
    import nlopt
except ImportError:
    if os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "python3-nlopt"], stdout=subprocess.DEVNULL, check=False)
    try:
        import nlopt
    except ImportError:
        nlopt = None
        print("NLopt is not installed (apt-get install python3-nlopt); its rows are left out", file=sys.stderr)


def parabola(x):
    return 10 - (x[0] - 2) ** 2 - (x[1] + 3) ** 2 - (x[2] - 4) ** 2 - (x[3] - 1) ** 2


def intbool(x):
    n1, n2, b1, b2 = x
    return (n1 - 1 - 2 * b1) ** 2 + (n2 + 1 - 3 * b2) ** 2 + 0.6 * n1 * n2 - 3 * b1 * b2 + 1.5 * b1 + 2 * b2


# plant6-linear: per CV the value at the base point, the gains on (MV - base), the limits.
PLANT6_BASE = np.array([26, 11, 50, 1.6, 1.5, 0.75])
PLANT6_CVS = [
    (18.2, [0.70, 0.30, -0.05, 0, 0.8, 0], 12, 21.5), (7.8, [0.30, -0.30, 0.05, 0, -0.8, 0], 5, 10),
    (78, [-0.4, 1.2, -0.35, 12, 0, 0], 72, 84), (121, [0.2, 2.5, 0, 15, 0, 0], 115, 128),
    (0.42, [0.012, 0.025, 0.006, 0, 0, 0], 0.30, 0.50), (98.6, [-0.08, 0.10, 0.06, -0.9, 0.25, 0], 98.0, 99.5),
    (1.9, [0.10, -0.15, -0.02, 0.5, 0, -0.3], 0.5, 2.5), (9.5, [0.2, 0.8, 0.1, 0, 0, 0], 6, 12),
    (50, [2, -3, 0.5, 0, 0, -4], 30, 70), (0.60, [0, 0.02, 0, 0, 0.05, 0.12], 0.4, 0.75),
    (3.0, [0.15, 0, 0, 0, 0.2, -1.2], 2, 4), (1.1, [0.02, 0, 0.01, -0.8, 0, 0], 0.6, 1.6),
    (0.85, [-0.004, 0.025, 0.003, 0, 0, 0], 0.7, 1.0),
]
PLANT6_GAIN = np.array([c[1] for c in PLANT6_CVS])
PLANT6_VALUE = np.array([c[0] for c in PLANT6_CVS])


def plant6_cvs(x):
    return PLANT6_VALUE + PLANT6_GAIN @ (np.asarray(x) - PLANT6_BASE)


def plant6_profit(x):
    return 420 * plant6_cvs(x)[0] - 35 * x[1] - 2 * x[2] - 60 * x[4] - 90 * x[5]


PLANT8_LIMITS = [(0.45, 0.80), (0.85, 0.99), (315, 345), (-5, 60), (20, 30), (10, 40), (5.5, 8.5), (0.55, 0.85),
                 (0.30, 0.48), (1.8, 2.4), (0.15, 1.2), (0.4, 1.6)]


def plant8_cvs(x):
    feed, t, cat, rec, cw, p, st, wash = x
    t, cat, rec, cw, st, wash = t - 320, cat - 1.25, rec - 0.35, cw - 150, st - 4, wash - 1.75
    conv = 0.62 + 0.005 * t - 0.00012 * t * t + 0.06 * cat - 0.02 * cat * cat + 0.12 * rec
    sel = 0.93 - 0.0015 * t - 0.03 * rec + 0.004 * (p - 7)
    prod, unconverted = feed * conv * sel, feed * (1 - conv)
    return np.array([
        conv, sel, 320 + t + 0.25 * (feed - 50) + 0.04 * feed * conv - 0.08 * cw - 0.02 * prod,
        0.9 * feed * conv + 0.6 * t - 0.45 * cw, prod, unconverted * (1 + x[3]),
        p + 0.03 * (feed - 50) - 0.25 * st + 0.02 * t,
        0.8 - 0.06 * st + 0.004 * (feed - 50) - 0.05 * (p - 7) + 0.001 * unconverted,
        0.4 + 0.05 * st - 0.04 * wash + 0.002 * t, 2.0 + 0.08 * wash * (feed / 50) + 0.05 * st,
        0.02 * cw + 0.5 * (feed / 50) ** 2 + 0.3 * rec, x[2] * feed / 50])


def plant8_profit(x):
    cvs = plant8_cvs(x)
    return 120 * cvs[4] - 40 * x[0] - 0.08 * x[4] - 25 * x[6] - 6 * x[7] - 90 * cvs[11] - 0.05 * (x[1] - 320) ** 2


def limits(cvs, limit_list):
    """g(x) <= 0 for each side of each two-sided limit, scaled by the limit's width."""
    out = []
    for i, (low, high) in enumerate(limit_list):
        width = high - low
        out.append(lambda x, i=i, low=low, w=width: (low - cvs(x)[i]) / w)
        out.append(lambda x, i=i, high=high, w=width: (cvs(x)[i] - high) / w)
    return out


PLANT6_OPT, PLANT8_OPT = 8485.753925619836, 1535.9087081157522

# name: (minimised objective, bounds, constraints g(x) <= 0, integrality, target on the minimised objective, penalty weight)
PROBLEMS = {
    "parabola4": (lambda x: -parabola(x), [(-10, 10)] * 4, [], None, -10 + 0.01, 1e3),
    "parabola4-constrained": (lambda x: -parabola(x), [(-10, 10)] * 4,
                              [lambda x: x[0] + x[1] + 2, lambda x: x[2] - 3], None, -8.5 + 0.01, 1e3),
    "rosenbrock": (lambda x: (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2, [(-2, 2)] * 2, [], None, 0.01, 1e3),
    "intbool": (intbool, [(-5, 5), (-5, 5), (0, 1), (0, 1)], [], [True] * 4, -1.3 + 1e-9, 1e3),
    "plant6-linear": (lambda x: -plant6_profit(x), [(20, 32), (8, 14), (40, 60), (1.2, 2.0), (0, 3), (0, 1.5)],
                      limits(plant6_cvs, [(c[2], c[3]) for c in PLANT6_CVS]), None, -0.99 * PLANT6_OPT, 1e5),
    "plant8-nonlinear": (lambda x: -plant8_profit(x),
                         [(40, 60), (300, 340), (0.5, 2.0), (0.1, 0.6), (100, 200), (5, 9), (2, 6), (0.5, 3)],
                         limits(plant8_cvs, PLANT8_LIMITS), None, -0.99 * PLANT8_OPT, 1e4),
}


class Done(Exception):
    pass


class Counter:
    def __init__(self, f, constraints, budget, rounded):
        self.f, self.constraints, self.budget, self.rounded = f, constraints, budget, rounded
        self.count, self.reached = 0, -1

    def __call__(self, x, target):
        x = np.round(x) if self.rounded else np.asarray(x, float)
        if self.count >= self.budget:
            raise Done()
        self.count += 1
        value = self.f(x)
        if self.reached < 0 and value <= target and all(g(x) <= 0 for g in self.constraints):
            self.reached = self.count
            raise Done()
        return value


def run(name, method, seed, budget):
    f, bounds, constraints, integrality, target, weight = PROBLEMS[name]
    low = np.array([b[0] for b in bounds], float)
    high = np.array([b[1] for b in bounds], float)
    x0 = np.random.default_rng(seed).uniform(low, high)
    counter = Counter(f, constraints, budget, integrality is not None and method != "differential_evolution")

    def penalised(x):
        value = counter(x, target)
        xr = np.round(x) if counter.rounded else x
        return value + weight * sum(max(0.0, g(xr)) for g in constraints)

    try:
        if method == "COBYLA":
            cons = [{"type": "ineq", "fun": lambda x, g=g: -g(x)} for g in constraints]
            cons += [{"type": "ineq", "fun": lambda x, i=i: x[i] - low[i]} for i in range(len(low))]
            cons += [{"type": "ineq", "fun": lambda x, i=i: high[i] - x[i]} for i in range(len(low))]
            minimize(lambda x: counter(x, target), x0, method="COBYLA", constraints=cons,
                     options={"rhobeg": 0.1 * float(np.min(high - low)), "maxiter": budget, "tol": 1e-12})
        elif method == "Nelder-Mead":
            minimize(penalised, x0, method="Nelder-Mead", bounds=bounds,
                     options={"maxfev": budget, "xatol": 1e-12, "fatol": 1e-12})
        elif method == "differential_evolution":
            cons = [NonlinearConstraint(lambda x, g=g: g(x), -np.inf, 0) for g in constraints]
            differential_evolution(lambda x: counter(x, target), bounds, seed=seed, maxiter=100000, tol=0,
                                   polish=False, integrality=integrality, constraints=cons or ())
        else:
            algorithm = {"COBYLA": nlopt.LN_COBYLA, "BOBYQA": nlopt.LN_BOBYQA, "SBPLX": nlopt.LN_SBPLX}[method[len("nlopt-"):]]
            opt = nlopt.opt(algorithm, len(low))
            opt.set_lower_bounds(low)
            opt.set_upper_bounds(high)
            opt.set_initial_step(0.1 * (high - low))
            opt.set_maxeval(budget)
            opt.set_xtol_rel(0)
            opt.set_ftol_rel(0)
            if algorithm == nlopt.LN_COBYLA:
                opt.set_min_objective(lambda x, grad: counter(x, target))
                for g in constraints:
                    opt.add_inequality_constraint(lambda x, grad, g=g: g(np.round(x) if counter.rounded else x), 0)
            else:
                opt.set_min_objective(lambda x, grad: penalised(x))
            opt.optimize(x0)
    except Done:
        pass
    except (RuntimeError, ValueError, nlopt.RoundoffLimited if nlopt else RuntimeError):
        pass  # NLopt stops on roundoff or a failed step: what it reached counts
    return counter.reached


def main():
    seeds, budget = int(sys.argv[1]), int(sys.argv[2])
    methods = ["COBYLA", "Nelder-Mead", "differential_evolution"]
    if nlopt is not None:
        methods += ["nlopt-COBYLA", "nlopt-BOBYQA", "nlopt-SBPLX"]
    for name in PROBLEMS:
        for method in methods:
            counts = [run(name, method, seed, budget) for seed in range(1, seeds + 1)]
            label = method if method.startswith("nlopt-") else "scipy-" + method
            print(name, label, *counts, flush=True)


if __name__ == "__main__":
    main()
