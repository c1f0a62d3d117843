namespace Rto.Optimization.Models.Formulas;

/// <summary>
/// Recursive-descent parser of one formula. Precedence, loosest first: <c>+ -</c>, <c>* /</c>,
/// unary minus, <c>^</c> (right-associative, so <c>-x^2</c> is <c>-(x^2)</c> and <c>2^3^2</c> is <c>2^9</c>).
/// </summary>
internal sealed class FormulaParser
{
    // Every recursion passes ParseUnary, and the later passes recurse over the tree: the limits keep a
    // pathological file from overflowing the stack (which would end the server, not just the load).
    private const int MaxNesting = 256;
    private const int MaxDepth = 1000;

    private readonly string _file;
    private readonly IReadOnlyList<FormulaToken> _tokens;
    private readonly FormulaToken _end;
    private int _position;
    private int _nesting;

    private FormulaParser(string file, IReadOnlyList<FormulaToken> tokens, FormulaToken end)
    {
        _file = file;
        _tokens = tokens;
        _end = end;
    }

    /// <summary>Parses <paramref name="tokens"/> as one whole expression; <paramref name="end"/> positions an error at its end.</summary>
    public static FormulaNode Parse(string file, IReadOnlyList<FormulaToken> tokens, FormulaToken end)
    {
        var parser = new FormulaParser(file, tokens, end);
        FormulaNode node = parser.ParseSum();
        if (parser.Peek.Kind != TokenKind.End)
        {
            FormulaToken extra = parser.Peek;
            throw parser.Error(extra, extra.Kind == TokenKind.RightParen ? "unmatched ')'" : $"unexpected {extra.Describe()} after the expression");
        }

        if (Depth(node) > MaxDepth)
        {
            throw parser.Error(tokens[0], $"formula too deep (more than {MaxDepth} levels); split it into CVs");
        }

        return node;
    }

    /// <summary>The tree's depth, walked without recursion since the tree may be the problem.</summary>
    private static int Depth(FormulaNode root)
    {
        int max = 0;
        var pending = new Stack<(FormulaNode Node, int Depth)>();
        pending.Push((root, 1));
        while (pending.TryPop(out (FormulaNode Node, int Depth) item))
        {
            max = Math.Max(max, item.Depth);
            IEnumerable<FormulaNode> children = item.Node switch
            {
                NegateNode n => [n.Operand],
                BinaryNode b => [b.Left, b.Right],
                CallNode c => c.Arguments,
                _ => [],
            };
            foreach (FormulaNode child in children)
            {
                pending.Push((child, item.Depth + 1));
            }
        }

        return max;
    }

    private FormulaToken Peek => _position < _tokens.Count ? _tokens[_position] : _end;

    private FormulaToken Next()
    {
        FormulaToken token = Peek;
        _position++;
        return token;
    }

    private FormulaNode ParseSum()
    {
        FormulaNode left = ParseProduct();
        while (Peek.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            FormulaToken op = Next();
            left = new BinaryNode(op.Kind, left, ParseProduct(), op.Line, op.Column);
        }

        return left;
    }

    private FormulaNode ParseProduct()
    {
        FormulaNode left = ParseUnary();
        while (Peek.Kind is TokenKind.Star or TokenKind.Slash)
        {
            FormulaToken op = Next();
            left = new BinaryNode(op.Kind, left, ParseUnary(), op.Line, op.Column);
        }

        return left;
    }

    private FormulaNode ParseUnary()
    {
        if (++_nesting > MaxNesting)
        {
            throw Error(Peek, $"formula nested too deeply (more than {MaxNesting} levels)");
        }

        try
        {
            return ParseSignedPower();
        }
        finally
        {
            _nesting--;
        }
    }

    private FormulaNode ParseSignedPower()
    {
        if (Peek.Kind is TokenKind.Minus or TokenKind.Plus)
        {
            FormulaToken sign = Next();
            FormulaNode operand = ParseUnary();
            return sign.Kind == TokenKind.Minus ? new NegateNode(operand, sign.Line, sign.Column) : operand;
        }

        return ParsePower();
    }

    private FormulaNode ParsePower()
    {
        FormulaNode left = ParsePrimary();
        if (Peek.Kind == TokenKind.Caret)
        {
            FormulaToken op = Next();

            // The exponent may carry its own sign (2^-1) and chains to the right (2^3^2 = 2^9).
            return new BinaryNode(TokenKind.Caret, left, ParseUnary(), op.Line, op.Column);
        }

        return left;
    }

    private FormulaNode ParsePrimary()
    {
        FormulaToken token = Next();
        switch (token.Kind)
        {
            case TokenKind.Number:
                return new NumberNode(token.Value, token.Line, token.Column);
            case TokenKind.LeftParen:
                FormulaNode inner = ParseSum();
                Expect(TokenKind.RightParen, token, "missing ')' for the '(' at column " + token.Column);
                return inner;
            case TokenKind.Identifier when !token.Bracketed && Peek.Kind == TokenKind.LeftParen:
                return ParseCall(token);
            case TokenKind.Identifier:
                return new VariableNode(token.Text, token.Bracketed, token.Line, token.Column);
            case TokenKind.End:
                throw Error(token, "expected an expression");
            default:
                throw Error(token, $"expected an expression, found {token.Describe()}");
        }
    }

    private CallNode ParseCall(FormulaToken name)
    {
        if (!FormulaFunction.All.TryGetValue(name.Text, out FormulaFunction? function))
        {
            string? hint = FormulaFunction.Suggest(name.Text);
            throw Error(name, $"unknown function '{name.Text}'" + (hint is null ? "" : $" ({hint})"));
        }

        FormulaToken open = Next();
        var arguments = new List<FormulaNode>();
        if (Peek.Kind != TokenKind.RightParen)
        {
            arguments.Add(ParseSum());
            while (Peek.Kind == TokenKind.Comma)
            {
                Next();
                arguments.Add(ParseSum());
            }
        }

        Expect(TokenKind.RightParen, open, $"missing ')' to close '{name.Text}('");
        bool countOk = function.Variadic ? arguments.Count >= function.Arity : arguments.Count == function.Arity;
        if (!countOk)
        {
            string expected = function.Variadic ? $"{function.Arity} or more arguments" : function.Arity == 1 ? "1 argument" : $"{function.Arity} arguments";
            throw Error(name, $"'{name.Text}' takes {expected}, got {arguments.Count}");
        }

        return new CallNode(function, arguments, name.Line, name.Column);
    }

    private void Expect(TokenKind kind, FormulaToken opener, string message)
    {
        FormulaToken token = Peek;
        if (token.Kind != kind)
        {
            // Point at what was found instead, unless the statement simply ended.
            throw Error(token.Kind == TokenKind.End ? opener : token, token.Kind == TokenKind.End ? message : $"{message}, found {token.Describe()}");
        }

        _position++;
    }

    private FormulaSyntaxException Error(FormulaToken at, string reason) => new(_file, at.Line, at.Column, reason);
}
