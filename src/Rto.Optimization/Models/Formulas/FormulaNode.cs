namespace Rto.Optimization.Models.Formulas;

/// <summary>A node of a parsed formula; the position is kept for errors found after parsing.</summary>
internal abstract record FormulaNode(int Line, int Column);

internal sealed record NumberNode(double Value, int Line, int Column) : FormulaNode(Line, Column);

/// <summary>A name as written; resolution turns it into an <see cref="InputNode"/>, <see cref="OutputNode"/> or constant.</summary>
internal sealed record VariableNode(string Name, bool Bracketed, int Line, int Column) : FormulaNode(Line, Column);

/// <summary>The model input at <see cref="Index"/> (an MV).</summary>
internal sealed record InputNode(int Index, int Line, int Column) : FormulaNode(Line, Column);

/// <summary>A CV defined earlier in the same file, already computed when this formula runs.</summary>
internal sealed record OutputNode(int Index, int Line, int Column) : FormulaNode(Line, Column);

internal sealed record NegateNode(FormulaNode Operand, int Line, int Column) : FormulaNode(Line, Column);

internal sealed record BinaryNode(TokenKind Operator, FormulaNode Left, FormulaNode Right, int Line, int Column) : FormulaNode(Line, Column);

internal sealed record CallNode(FormulaFunction Function, IReadOnlyList<FormulaNode> Arguments, int Line, int Column) : FormulaNode(Line, Column);
