using System.Globalization;

namespace Rto.Optimization.Models.Formulas;

/// <summary>
/// Splits one physical line of a model file into tokens; <c>#</c> starts a comment. Plain identifiers
/// are letters, digits, <c>_</c> and <c>.</c> (so <c>TAG.101</c> works as is); anything else, such as
/// the dash of <c>FIC-101.SP</c>, is written in brackets: <c>[FIC-101.SP]</c>.
/// </summary>
internal static class FormulaLexer
{
    public static void Tokenize(string file, string line, int lineNumber, List<FormulaToken> tokens)
    {
        int i = 0;
        while (i < line.Length)
        {
            char c = line[i];
            int column = i + 1;
            if (char.IsWhiteSpace(c))
            {
                i++;
                continue;
            }

            if (c == '#')
            {
                return;
            }

            if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < line.Length && char.IsAsciiDigit(line[i + 1])))
            {
                i = ReadNumber(file, line, lineNumber, i, tokens);
                continue;
            }

            if (char.IsAsciiLetter(c) || c == '_')
            {
                int start = i;
                while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or '.'))
                {
                    i++;
                }

                tokens.Add(new FormulaToken(TokenKind.Identifier, line[start..i], 0, lineNumber, column));
                continue;
            }

            if (c == '[')
            {
                int close = line.IndexOf(']', i + 1);
                if (close < 0)
                {
                    throw new FormulaSyntaxException(file, lineNumber, column, "missing ']' after '['");
                }

                string name = line[(i + 1)..close].Trim();
                if (name.Length == 0)
                {
                    throw new FormulaSyntaxException(file, lineNumber, column, "empty name '[]'");
                }

                tokens.Add(new FormulaToken(TokenKind.Identifier, name, 0, lineNumber, column, Bracketed: true));
                i = close + 1;
                continue;
            }

            TokenKind kind = c switch
            {
                '+' => TokenKind.Plus,
                '-' => TokenKind.Minus,
                '*' => TokenKind.Star,
                '/' => TokenKind.Slash,
                '^' => TokenKind.Caret,
                '(' => TokenKind.LeftParen,
                ')' => TokenKind.RightParen,
                ',' => TokenKind.Comma,
                '=' => TokenKind.Equals,
                ':' => TokenKind.Colon,
                _ => throw new FormulaSyntaxException(file, lineNumber, column, $"unexpected character '{c}'"),
            };
            tokens.Add(new FormulaToken(kind, c.ToString(), 0, lineNumber, column));
            i++;
        }
    }

    private static int ReadNumber(string file, string line, int lineNumber, int start, List<FormulaToken> tokens)
    {
        int i = start;
        while (i < line.Length && char.IsAsciiDigit(line[i]))
        {
            i++;
        }

        if (i < line.Length && line[i] == '.')
        {
            i++;
            while (i < line.Length && char.IsAsciiDigit(line[i]))
            {
                i++;
            }
        }

        if (i < line.Length && line[i] is 'e' or 'E')
        {
            int exponent = i + 1;
            if (exponent < line.Length && line[exponent] is '+' or '-')
            {
                exponent++;
            }

            if (exponent >= line.Length || !char.IsAsciiDigit(line[exponent]))
            {
                throw new FormulaSyntaxException(file, lineNumber, start + 1, $"malformed number '{line[start..Math.Min(exponent, line.Length)]}'");
            }

            i = exponent;
            while (i < line.Length && char.IsAsciiDigit(line[i]))
            {
                i++;
            }
        }

        string text = line[start..i];
        double value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        tokens.Add(new FormulaToken(TokenKind.Number, text, value, lineNumber, start + 1));
        return i;
    }
}
