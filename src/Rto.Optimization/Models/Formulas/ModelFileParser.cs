namespace Rto.Optimization.Models.Formulas;

/// <summary>A parsed and resolved model file: variables are input or output indexes, ready to compile.</summary>
internal sealed record ModelDefinition(
    string Description,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<FormulaNode> OutputFormulas,
    FormulaNode Objective);

/// <summary>
/// Reads the statements of a model file (see docs/rto-models.md): <c>description:</c>, <c>inputs:</c>,
/// <c>cv NAME = formula</c> and <c>objective = formula</c>. An indented line continues the statement above.
/// </summary>
internal static class ModelFileParser
{
    private static readonly Dictionary<string, double> s_constants = new(StringComparer.Ordinal) { ["pi"] = Math.PI, ["e"] = Math.E };

    public static ModelDefinition Parse(string text, string file)
    {
        string? description = null;
        var statements = new List<List<FormulaToken>>();
        string[] lines = text.ReplaceLineEndings("\n").Split('\n');
        for (int n = 0; n < lines.Length; n++)
        {
            string line = lines[n];
            string trimmed = line.TrimStart();
            if (trimmed.Length == 0 || trimmed[0] == '#')
            {
                continue;
            }

            if (trimmed.StartsWith("description:", StringComparison.OrdinalIgnoreCase))
            {
                if (description is not null)
                {
                    throw new FormulaSyntaxException(file, n + 1, line.Length - trimmed.Length + 1, "a second 'description:'");
                }

                description = trimmed["description:".Length..].Trim();
                continue;
            }

            var tokens = new List<FormulaToken>();
            FormulaLexer.Tokenize(file, line, n + 1, tokens);
            if (tokens.Count == 0)
            {
                continue;
            }

            if (char.IsWhiteSpace(line[0]) && statements.Count > 0)
            {
                statements[^1].AddRange(tokens);
            }
            else
            {
                statements.Add(tokens);
            }
        }

        var builder = new DefinitionBuilder(file);
        foreach (List<FormulaToken> statement in statements)
        {
            builder.Add(statement);
        }

        return builder.Build(description ?? "", lines.Length);
    }

    private sealed class DefinitionBuilder(string file)
    {
        private readonly List<string> _inputs = [];
        private readonly List<string> _outputs = [];
        private readonly List<FormulaNode> _outputFormulas = [];
        private bool _inputsDeclared;
        private FormulaNode? _objective;

        public void Add(List<FormulaToken> statement)
        {
            FormulaToken head = statement[0];
            FormulaToken second = statement.Count > 1 ? statement[1] : EndOf(statement);
            if (head is { Kind: TokenKind.Identifier, Bracketed: false, Text: "inputs" } && second.Kind == TokenKind.Colon)
            {
                DeclareInputs(head, statement.Skip(2).ToList(), EndOf(statement));
            }
            else if (head is { Kind: TokenKind.Identifier, Bracketed: false, Text: "cv" } && second.Kind == TokenKind.Identifier)
            {
                ExpectEquals(statement, 2);
                AddOutput(second, FormulaParser.Parse(file, statement.Skip(3).ToList(), EndOf(statement)));
            }
            else if (head is { Kind: TokenKind.Identifier, Bracketed: false, Text: "objective" })
            {
                ExpectEquals(statement, 1);
                if (_objective is not null)
                {
                    throw Error(head, "a second 'objective'");
                }

                _objective = Resolve(FormulaParser.Parse(file, statement.Skip(2).ToList(), EndOf(statement)));
            }
            else if (head is { Kind: TokenKind.Identifier, Bracketed: false, Text: "cv" })
            {
                throw Error(second, $"expected the CV name after 'cv', found {second.Describe()}");
            }
            else
            {
                throw Error(head, $"expected 'cv NAME = ...', 'objective = ...', 'inputs:' or 'description:', found {head.Describe()}");
            }
        }

        public ModelDefinition Build(string description, int lineCount)
        {
            if (_objective is null)
            {
                throw new FormulaSyntaxException(file, lineCount, 1, "missing 'objective = ...'");
            }

            return new ModelDefinition(description, _inputs, _outputs, _outputFormulas, _objective);
        }

        private void DeclareInputs(FormulaToken head, List<FormulaToken> names, FormulaToken end)
        {
            if (_inputsDeclared || _outputs.Count > 0 || _objective is not null)
            {
                throw Error(head, "'inputs:' must come once, before the first 'cv' or 'objective'");
            }

            _inputsDeclared = true;
            for (int i = 0; i < names.Count; i++)
            {
                FormulaToken name = names[i];
                if (name.Kind != TokenKind.Identifier)
                {
                    throw Error(name, $"expected an input name, found {name.Describe()}");
                }

                if (_inputs.Contains(name.Text))
                {
                    throw Error(name, $"input '{name.Text}' is listed twice");
                }

                _inputs.Add(name.Text);
                FormulaToken next = i + 1 < names.Count ? names[i + 1] : end;
                if (next.Kind != TokenKind.End && next.Kind != TokenKind.Comma)
                {
                    throw Error(next, $"expected ',' between input names, found {next.Describe()}");
                }

                i++;
            }

            if (_inputs.Count == 0)
            {
                throw Error(end, "'inputs:' lists no names");
            }
        }

        private void AddOutput(FormulaToken name, FormulaNode formula)
        {
            if (_outputs.Contains(name.Text))
            {
                throw Error(name, $"CV '{name.Text}' is defined twice");
            }

            if (_inputs.Contains(name.Text))
            {
                throw Error(name, _inputsDeclared
                    ? $"'{name.Text}' is an input; a CV cannot have the same name"
                    : $"'{name.Text}' is used as an input above; define a CV before the formulas that use it");
            }

            _outputFormulas.Add(Resolve(formula));
            _outputs.Add(name.Text);
        }

        /// <summary>
        /// Turns names into inputs, earlier CVs or constants. Without <c>inputs:</c> an unknown name
        /// becomes a new input; with it, an unknown name is an error (most likely a typo).
        /// </summary>
        private FormulaNode Resolve(FormulaNode node) => node switch
        {
            VariableNode v => ResolveName(v),
            NegateNode n => n with { Operand = Resolve(n.Operand) },
            BinaryNode b => b with { Left = Resolve(b.Left), Right = Resolve(b.Right) },
            CallNode c => c with { Arguments = c.Arguments.Select(Resolve).ToArray() },
            _ => node,
        };

        private FormulaNode ResolveName(VariableNode v)
        {
            // pi and e yield only to a declared input or a CV of that name; [pi] is always a variable.
            bool isConstant = !v.Bracketed && s_constants.ContainsKey(v.Name);
            if (isConstant && !_inputsDeclared && !_outputs.Contains(v.Name))
            {
                return new NumberNode(s_constants[v.Name], v.Line, v.Column);
            }

            int input = _inputs.IndexOf(v.Name);
            if (input >= 0)
            {
                return new InputNode(input, v.Line, v.Column);
            }

            int output = _outputs.IndexOf(v.Name);
            if (output >= 0)
            {
                return new OutputNode(output, v.Line, v.Column);
            }

            if (!v.Bracketed && s_constants.TryGetValue(v.Name, out double constant))
            {
                return new NumberNode(constant, v.Line, v.Column);
            }

            if (_inputsDeclared)
            {
                throw new FormulaSyntaxException(file, v.Line, v.Column, $"unknown variable '{v.Name}' (not in 'inputs:' nor a CV defined above)");
            }

            _inputs.Add(v.Name);
            return new InputNode(_inputs.Count - 1, v.Line, v.Column);
        }

        private void ExpectEquals(List<FormulaToken> statement, int index)
        {
            FormulaToken token = index < statement.Count ? statement[index] : EndOf(statement);
            if (token.Kind != TokenKind.Equals)
            {
                throw Error(token, $"expected '=', found {token.Describe()}");
            }
        }

        private static FormulaToken EndOf(List<FormulaToken> statement)
        {
            FormulaToken last = statement[^1];
            return new FormulaToken(TokenKind.End, "", 0, last.Line, last.Column + Math.Max(last.Text.Length + (last.Bracketed ? 2 : 0), 1));
        }

        private FormulaSyntaxException Error(FormulaToken at, string reason) => new(file, at.Line, at.Column, reason);
    }
}
