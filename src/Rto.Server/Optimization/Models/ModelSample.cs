namespace Rto.Server.Optimization.Models;

/// <summary>
/// The model written into a new models folder: a reactor-like model over x1..x4 whose unconstrained
/// optimum (the built-in parabola's, 10 at (2, −3, 4, 1)) violates the temperature limit the comments
/// suggest, so an optimizer has to trade yield against a binding CV.
/// </summary>
internal static class ModelSample
{
    public const string FileName = "reactor.model";

    public const string Text = """
        # Sample RTO model: one file per model, the id is the file name (here: reactor).
        # The format is described in docs/rto-models.md. Edit and save: the server reloads it.
        #
        # A session using it: MVs x1..x4 (e.g. each within [-10, 10]) and CVs
        #   temperature <= 380   (binds: at the unconstrained optimum it reaches 384)
        #   pressure    within [0, 12]
        # maximize the objective.

        description: Sample reactor: yield peaks at (2, -3, 4, 1), temperature limits it

        # Inputs in the order CalculateCV passes them; an MV matches by id, else by name.
        # Names with dashes or other signs go in brackets, e.g. [FIC-101.SP].
        inputs: x1, x2, x3, x4

        # CVs: one formula each; a CV may use the CVs defined above it.
        cv temperature = 350 + 8*x1 - 2*x2 + 3*x3
        cv pressure = 5 + 0.5*x1*x4 + 0.1*x3^2
            - 0.05*sqrt(abs(x2))     # an indented line continues the formula

        # Objective: the yield, a paraboloid with its peak 10 at (2, -3, 4, 1).
        objective = 10 - (x1 - 2)^2 - (x2 + 3)^2 - (x3 - 4)^2 - (x4 - 1)^2

        """;
}
