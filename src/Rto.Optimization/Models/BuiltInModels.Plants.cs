namespace Rto.Optimization.Models;

/// <summary>
/// Plant-like test problems, shaped like the RTO problems the original service's clients send:
/// several MVs with plant ranges, about a dozen two-sided CV limits of which several bind at the
/// optimum, a linear or mildly nonlinear economic objective, and the objective declared as the first
/// output with ±1e100 bounds (how those clients, and solvers such as Gurobi, spell "no limit").
/// The optima were computed offline with scipy (HiGHS linprog for the linear plant, multi-start
/// SLSQP confirmed by trust-constr for the nonlinear one) and are checked in the tests.
/// </summary>
public static partial class BuiltInModels
{
    private const double Unbounded = 1e100;

    /// <summary>
    /// A distillation column with 6 MVs and 13 two-sided CV limits, every CV linear in the MVs around
    /// a base point; profit = 420·product − 35·steam − 2·reflux − 60·additiveA − 90·additiveB. The LP
    /// optimum is a vertex: five CV limits (product, bottoms and foaming at their highs, bottom
    /// temperature and purity at their lows) and the pressure's lower bound bind.
    /// </summary>
    private sealed class LinearPlant : BuiltInModel
    {
        private static readonly double[] Base = [26, 11, 50, 1.6, 1.5, 0.75];

        // Per CV: value at the base point, sensitivities to (MV − base), lower and upper limit.
        private static readonly (string Id, double Value, double[] Gain, double Lower, double Upper)[] Cvs =
        [
            ("product", 18.2, [0.70, 0.30, -0.05, 0, 0.8, 0], 12, 21.5),
            ("bottoms", 7.8, [0.30, -0.30, 0.05, 0, -0.8, 0], 5, 10),
            ("top_temperature", 78, [-0.4, 1.2, -0.35, 12, 0, 0], 72, 84),
            ("bottom_temperature", 121, [0.2, 2.5, 0, 15, 0, 0], 115, 128),
            ("pressure_drop", 0.42, [0.012, 0.025, 0.006, 0, 0, 0], 0.30, 0.50),
            ("purity", 98.6, [-0.08, 0.10, 0.06, -0.9, 0.25, 0], 98.0, 99.5),
            ("bottoms_impurity", 1.9, [0.10, -0.15, -0.02, 0.5, 0, -0.3], 0.5, 2.5),
            ("condenser_duty", 9.5, [0.2, 0.8, 0.1, 0, 0, 0], 6, 12),
            ("sump_level", 50, [2, -3, 0.5, 0, 0, -4], 30, 70),
            ("corrosion", 0.60, [0, 0.02, 0, 0, 0.05, 0.12], 0.4, 0.75),
            ("foaming", 3.0, [0.15, 0, 0, 0, 0.2, -1.2], 2, 4),
            ("vent_flow", 1.1, [0.02, 0, 0.01, -0.8, 0, 0], 0.6, 1.6),
            ("energy_index", 0.85, [-0.004, 0.025, 0.003, 0, 0, 0], 0.7, 1.0),
        ];

        public override string Id => "plant6-linear";

        public override string Description => "distillation column: 6 MVs, 13 two-sided CV limits (5 bind at the optimum), linear profit; maximum 8485.7539 (LP)";

        public override IReadOnlyList<string> Inputs { get; } = ["feed", "steam", "reflux", "pressure", "additive_a", "additive_b"];

        public override IReadOnlyList<string> Outputs { get; } = ["profit", .. Cvs.Select(c => c.Id)];

        public override KnownOptimum Optimum { get; } = new(8485.753925619836, [31.5, 10.56, 45.433057851239745, 1.2, 0.6920661157024838, 0.4695110192837467]);

        public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            for (int i = 0; i < Cvs.Length; i++)
            {
                double value = Cvs[i].Value;
                double[] gain = Cvs[i].Gain;
                for (int j = 0; j < gain.Length; j++)
                {
                    value += gain[j] * (inputs[j] - Base[j]);
                }

                outputs[i + 1] = value;
            }

            double profit = (420 * outputs[1]) - (35 * inputs[1]) - (2 * inputs[2]) - (60 * inputs[4]) - (90 * inputs[5]);
            outputs[0] = profit;
            return profit;
        }

        public override OptimizationProblem CreateProblem(int maxEvaluations) => new(
            [Numeric("feed", 20, 32), Numeric("steam", 8, 14), Numeric("reflux", 40, 60), Numeric("pressure", 1.2, 2.0), Numeric("additive_a", 0, 3), Numeric("additive_b", 0, 1.5)],
            [Constraint.Between("profit", -Unbounded, Unbounded), .. Cvs.Select(c => Constraint.Between(c.Id, c.Lower, c.Upper))],
            maximize: true,
            maxEvaluations);
    }

    /// <summary>
    /// A reactor with a separator, 8 MVs and 12 two-sided CV limits, mildly nonlinear: conversion and
    /// selectivity are quadratic in temperature and catalyst, the product rate is feed × conversion ×
    /// selectivity, and the profit pays a quadratic penalty for running the reactor away from 320.
    /// At the optimum five CV limits (product, top pressure, impurity and catalyst use at their highs,
    /// pump load at its low) and two MV bounds bind; the temperature settles inside its range.
    /// </summary>
    private sealed class NonlinearPlant : BuiltInModel
    {
        private static readonly (string Id, double Lower, double Upper)[] Limits =
        [
            ("conversion", 0.45, 0.80), ("selectivity", 0.85, 0.99), ("outlet_temperature", 315, 345), ("heat_margin", -5, 60),
            ("product", 20, 30), ("recycle_load", 10, 40), ("top_pressure", 5.5, 8.5), ("impurity", 0.55, 0.85),
            ("corrosion", 0.30, 0.48), ("waste_water", 1.8, 2.4), ("pump_load", 0.15, 1.2), ("catalyst_use", 0.4, 1.6),
        ];

        public override string Id => "plant8-nonlinear";

        public override string Description => "reactor and separator: 8 MVs, 12 two-sided CV limits (5 bind at the optimum), mildly nonlinear; maximum 1535.90871 (NLP)";

        public override IReadOnlyList<string> Inputs { get; } = ["feed", "temperature", "catalyst", "recycle", "cooling_water", "pressure", "stripping_steam", "wash_water"];

        public override IReadOnlyList<string> Outputs { get; } = ["profit", .. Limits.Select(l => l.Id)];

        public override KnownOptimum Optimum { get; } = new(1535.9087081157522, [45.98191057605886, 333.33507309734426, 1.739814614002863, 0.6, 132.60663899775327, 7.936992510736318, 2.3326051598598743, 0.5]);

        public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            double feed = inputs[0], temperature = inputs[1] - 320, catalyst = inputs[2] - 1.25, recycle = inputs[3] - 0.35;
            double coolingWater = inputs[4] - 150, pressure = inputs[5], steam = inputs[6] - 4, wash = inputs[7] - 1.75;
            double conversion = 0.62 + (0.005 * temperature) - (0.00012 * temperature * temperature) + (0.06 * catalyst) - (0.02 * catalyst * catalyst) + (0.12 * recycle);
            double selectivity = 0.93 - (0.0015 * temperature) - (0.03 * recycle) + (0.004 * (pressure - 7));
            double product = feed * conversion * selectivity;
            double unconverted = feed * (1 - conversion);
            outputs[1] = conversion;
            outputs[2] = selectivity;
            outputs[3] = 320 + temperature + (0.25 * (feed - 50)) + (0.04 * feed * conversion) - (0.08 * coolingWater) - (0.02 * product);
            outputs[4] = (0.9 * feed * conversion) + (0.6 * temperature) - (0.45 * coolingWater);
            outputs[5] = product;
            outputs[6] = unconverted * (1 + inputs[3]);
            outputs[7] = pressure + (0.03 * (feed - 50)) - (0.25 * steam) + (0.02 * temperature);
            outputs[8] = 0.8 - (0.06 * steam) + (0.004 * (feed - 50)) - (0.05 * (pressure - 7)) + (0.001 * unconverted);
            outputs[9] = 0.4 + (0.05 * steam) - (0.04 * wash) + (0.002 * temperature);
            outputs[10] = 2.0 + (0.08 * wash * (feed / 50)) + (0.05 * steam);
            outputs[11] = (0.02 * coolingWater) + (0.5 * (feed / 50) * (feed / 50)) + (0.3 * recycle);
            outputs[12] = inputs[2] * feed / 50;
            double profit = (120 * product) - (40 * feed) - (0.08 * inputs[4]) - (25 * inputs[6]) - (6 * inputs[7]) - (90 * outputs[12]) - (0.05 * temperature * temperature);
            outputs[0] = profit;
            return profit;
        }

        public override OptimizationProblem CreateProblem(int maxEvaluations) => new(
            [
                Numeric("feed", 40, 60), Numeric("temperature", 300, 340), Numeric("catalyst", 0.5, 2.0), Numeric("recycle", 0.1, 0.6),
                Numeric("cooling_water", 100, 200), Numeric("pressure", 5, 9), Numeric("stripping_steam", 2, 6), Numeric("wash_water", 0.5, 3),
            ],
            [Constraint.Between("profit", -Unbounded, Unbounded), .. Limits.Select(l => Constraint.Between(l.Id, l.Lower, l.Upper))],
            maximize: true,
            maxEvaluations);
    }
}
