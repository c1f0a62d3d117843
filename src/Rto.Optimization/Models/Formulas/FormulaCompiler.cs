using System.Linq.Expressions;

namespace Rto.Optimization.Models.Formulas;

/// <summary>
/// Compiles a <see cref="ModelDefinition"/> once into one delegate that writes every CV into the
/// outputs array, in file order (so a formula can read a CV above it), and returns the objective.
/// Division by zero and domain errors are not errors: they give ∞ or NaN as IEEE arithmetic does.
/// </summary>
internal static class FormulaCompiler
{
    public static Func<double[], double[], double> Compile(ModelDefinition definition)
    {
        ParameterExpression inputs = Expression.Parameter(typeof(double[]), "inputs");
        ParameterExpression outputs = Expression.Parameter(typeof(double[]), "outputs");
        var body = new List<Expression>();
        for (int i = 0; i < definition.OutputFormulas.Count; i++)
        {
            body.Add(Expression.Assign(Expression.ArrayAccess(outputs, Expression.Constant(i)), Build(definition.OutputFormulas[i], inputs, outputs)));
        }

        body.Add(Build(definition.Objective, inputs, outputs));
        return Expression.Lambda<Func<double[], double[], double>>(Expression.Block(body), inputs, outputs).Compile();
    }

    private static Expression Build(FormulaNode node, ParameterExpression inputs, ParameterExpression outputs)
    {
        Expression Sub(FormulaNode n) => Build(n, inputs, outputs);

        return node switch
        {
            NumberNode n => Expression.Constant(n.Value),
            InputNode n => Expression.ArrayIndex(inputs, Expression.Constant(n.Index)),
            OutputNode n => Expression.ArrayIndex(outputs, Expression.Constant(n.Index)),
            NegateNode n => Expression.Negate(Sub(n.Operand)),
            BinaryNode { Operator: TokenKind.Caret } b => Power(Sub(b.Left), b.Right, Sub),
            BinaryNode b => b.Operator switch
            {
                TokenKind.Plus => Expression.Add(Sub(b.Left), Sub(b.Right)),
                TokenKind.Minus => Expression.Subtract(Sub(b.Left), Sub(b.Right)),
                TokenKind.Star => Expression.Multiply(Sub(b.Left), Sub(b.Right)),
                TokenKind.Slash => Expression.Divide(Sub(b.Left), Sub(b.Right)),
                _ => throw new InvalidOperationException($"Operator {b.Operator} has no compiled form."),
            },
            CallNode { Function.Name: "pow" } c => Power(Sub(c.Arguments[0]), c.Arguments[1], Sub),
            CallNode { Function.Variadic: true } c => c.Arguments.Skip(1).Aggregate(Sub(c.Arguments[0]), (acc, a) => Expression.Call(c.Function.Method, acc, Sub(a))),
            CallNode c => Expression.Call(c.Function.Method, c.Arguments.Select(Sub)),
            _ => throw new InvalidOperationException($"Node {node.GetType().Name} was not resolved before compiling."),
        };
    }

    /// <summary>
    /// Small whole exponents multiply instead of calling Math.Pow (about 10× faster, and squares are
    /// everywhere in plant models); the base is evaluated once into a local.
    /// </summary>
    private static Expression Power(Expression @base, FormulaNode exponent, Func<FormulaNode, Expression> sub)
    {
        if (exponent is NumberNode { Value: 1 or 2 or 3 or 4 } n)
        {
            ParameterExpression x = Expression.Variable(typeof(double), "x");
            Expression product = x;
            for (int i = 1; i < (int)n.Value; i++)
            {
                product = Expression.Multiply(product, x);
            }

            return Expression.Block([x], Expression.Assign(x, @base), product);
        }

        return Expression.Call(typeof(Math).GetMethod(nameof(Math.Pow))!, @base, sub(exponent));
    }
}
