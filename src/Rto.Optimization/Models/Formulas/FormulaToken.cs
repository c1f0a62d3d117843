namespace Rto.Optimization.Models.Formulas;

internal enum TokenKind
{
    Number,
    Identifier,
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    LeftParen,
    RightParen,
    Comma,
    Equals,
    Colon,
    End,
}

/// <summary>One token of a model file. <see cref="Bracketed"/> marks <c>[FIC-101.SP]</c>, which is always a variable.</summary>
internal readonly record struct FormulaToken(TokenKind Kind, string Text, double Value, int Line, int Column, bool Bracketed = false)
{
    public string Describe() => Kind switch
    {
        TokenKind.End => "end of statement",
        TokenKind.Identifier when Bracketed => $"'[{Text}]'",
        _ => $"'{Text}'",
    };
}
