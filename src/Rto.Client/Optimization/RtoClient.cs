using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.RtoApi;
using Rto.Client.Messaging;

namespace Rto.Client.Optimization;

/// <summary>
/// A client of the RTO gRPC service (<c>Grpc.RtoApi.RtoService</c> and <c>DataProcessingService</c>):
/// start optimization sessions, iterate them, and run them to completion against your own evaluation.
/// Safe for concurrent use; calls share the channel's HTTP/2 connections.
/// </summary>
/// <example>
/// <code>
/// await using var client = new RtoClient("localhost:5081");
/// var definition = new RtoSessionDefinition([new ManipulatedVariable("x", -5, 5)], [], MaxIterations: 50);
/// RtoRunResult best = await client.RunAsync(definition, (mvs, ct) =&gt;
///     ValueTask.FromResult((Objective: Math.Pow(mvs[0] - 1, 2), Cvs: (IReadOnlyList&lt;double&gt;)[], Ok: true)));
/// </code>
/// </example>
public sealed class RtoClient : IDisposable, IAsyncDisposable
{
    private readonly GrpcChannel? _ownedChannel;
    private readonly RtoService.RtoServiceClient _rto;
    private readonly DataProcessingService.DataProcessingServiceClient _data;
    private readonly string _token;

    /// <summary>
    /// Creates a client of the server at <paramref name="address"/> (<c>host:port</c>, plaintext HTTP/2,
    /// or a URL). <paramref name="accessToken"/> goes with every call. No connection is made until the first call.
    /// </summary>
    public RtoClient(string address, string? accessToken = null)
    {
        _ownedChannel = GrpcChannel.ForAddress(MessengerClient.ParseAddress(address), new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true, PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan },
            ThrowOperationCanceledOnCancellation = true,
        });
        _rto = new RtoService.RtoServiceClient(_ownedChannel);
        _data = new DataProcessingService.DataProcessingServiceClient(_ownedChannel);
        _token = accessToken ?? "";
    }

    /// <summary>Creates a client over an existing <paramref name="channel"/>, which the caller keeps owning.</summary>
    public RtoClient(GrpcChannel channel, string? accessToken = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _rto = new RtoService.RtoServiceClient(channel);
        _data = new DataProcessingService.DataProcessingServiceClient(channel);
        _token = accessToken ?? "";
    }

    /// <summary>The service's status (<c>status</c> is <c>Running</c> when it is up).</summary>
    /// <exception cref="RtoClientException">The call failed.</exception>
    public async Task<ServiceStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        await CallAsync(() => _rto.GetServiceStatusAsync(new ArgRequest { AccessToken = _token }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);

    /// <summary>Starts a session and returns its id.</summary>
    /// <exception cref="RtoClientException">The server refused the definition (the message says why) or the call failed.</exception>
    public async Task<string> StartAsync(RtoSessionDefinition definition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var request = new StartRequest
        {
            AccessToken = _token,
            Maximize = definition.Maximize,
            OptimizationMethod = definition.Method,
            MaxIterations = definition.MaxIterations,
            ModelId = definition.ModelId ?? "",
        };
        request.Mvs.AddRange(definition.Mvs.Select(mv => new TagType { Id = mv.Id, Name = mv.Name ?? mv.Id, DataType = mv.Type.ToString(), LowerBound = mv.Lower, UpperBound = mv.Upper }));
        request.Cvs.AddRange(definition.Cvs.Select(cv => new TagType { Id = cv.Id, Name = cv.Name ?? cv.Id, DataType = "Numeric", LowerBound = cv.Lower, UpperBound = cv.Upper }));
        StartResponse response = await CallAsync(() => _rto.StartOptimizeSessionAsync(request, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        return response.IsGood ? response.OptimizationInstanceId : throw new RtoClientException(response.Message);
    }

    /// <summary>
    /// One iteration: reports <paramref name="evaluation"/> of the outstanding candidate (or nothing, to get
    /// the first candidate or the same one again) and returns the next candidate or the final answer.
    /// </summary>
    /// <exception cref="RtoClientException">The session is unknown or the call failed.</exception>
    public async Task<RtoIteration> IterateAsync(string sessionId, RtoEvaluation? evaluation, CancellationToken cancellationToken = default)
    {
        var request = new OptimizeIterationRequest { AccessToken = _token, OptimizationInstanceId = sessionId };
        if (evaluation is not null)
        {
            ulong now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            request.ObjectiveFunctionValue = new TagVal { TagId = "objective", NumericValue = evaluation.Objective, IsGood = evaluation.Succeeded, TimeStamp = now };
            request.CvValues.AddRange(evaluation.Cvs.Select(cv => new TagVal { TagId = cv.Key, NumericValue = cv.Value, IsGood = true, TimeStamp = now }));
        }

        OptimizeIterationResponse response = await CallAsync(() => _rto.OptimizeIterationAsync(request, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        if (response.Flag is not (IterationFlag.Candidate or IterationFlag.Resumed or IterationFlag.Completed))
        {
            throw new RtoClientException(response.Message.Length != 0 ? response.Message : $"OptimizeIteration answered flag {response.Flag.ToString(CultureInfo.InvariantCulture)}");
        }

        return new RtoIteration((RtoIterationState)response.Flag, [.. response.MvValues.Select(v => v.NumericValue)], response.Message);
    }

    /// <summary>Pauses a session; true when it is paused (now or already).</summary>
    /// <exception cref="RtoClientException">The call failed.</exception>
    public async Task<bool> PauseAsync(string sessionId, CancellationToken cancellationToken = default) =>
        (await CallAsync(() => _rto.PauseAsync(new PauseRequest { AccessToken = _token, SessionId = sessionId }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false)).IsPaused;

    /// <summary>Stops a session: the server forgets it and deletes its file. Returns the server's message.</summary>
    /// <exception cref="RtoClientException">The call failed.</exception>
    public async Task<string> StopAsync(string sessionId, CancellationToken cancellationToken = default) =>
        (await CallAsync(() => _rto.StopAsync(new StopRequest { AccessToken = _token, SessionId = sessionId }, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false)).Message;

    /// <summary>Evaluates a server-side model on <paramref name="mvs"/> (by MV id) for the session's CVs.</summary>
    /// <param name="sessionId">The session whose CVs are returned.</param>
    /// <param name="mvs">A value for every MV of the session, by MV id.</param>
    /// <param name="modelId">The model; <see langword="null"/> uses the session's model.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="RtoClientException">Unknown session or model, missing MVs, or the call failed.</exception>
    public async Task<RtoModelResult> CalculateCvAsync(string sessionId, IReadOnlyDictionary<string, double> mvs, string? modelId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mvs);
        var request = new CalculateCVRequest { AccessToken = _token, SessionId = sessionId, ModelId = modelId ?? "" };
        request.MvValues.AddRange(mvs.Select(mv => new TagVal { TagId = mv.Key, NumericValue = mv.Value, IsGood = true }));
        CalculateCVResponse response = await CallAsync(() => _data.CalculateCVAsync(request, cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        return new RtoModelResult(response.Objective?.NumericValue ?? double.NaN, response.CvValues.ToDictionary(v => v.TagId, v => v.NumericValue), response.IsGood, response.Message);
    }

    /// <summary>Starts a session for <paramref name="definition"/> and runs it to completion (see <see cref="RunAsync(string, IReadOnlyList{string}, RtoEvaluator, IProgress{RtoRunProgress}?, CancellationToken)"/>).</summary>
    /// <exception cref="RtoClientException">The server refused the definition or a call failed.</exception>
    public async Task<RtoRunResult> RunAsync(RtoSessionDefinition definition, RtoEvaluator evaluate, IProgress<RtoRunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        string sessionId = await StartAsync(definition, cancellationToken).ConfigureAwait(false);
        return await RunAsync(sessionId, [.. definition.Cvs.Select(cv => cv.Id)], evaluate, progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Drives an existing session to completion: asks for candidates, evaluates each with
    /// <paramref name="evaluate"/> and reports it, until the server answers with the best point.
    /// A run interrupted (cancelled, a failed call) can be continued by calling this again.
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="cvIds">The session's CV ids, in the order <paramref name="evaluate"/> returns CV values.</param>
    /// <param name="evaluate">Evaluates one candidate.</param>
    /// <param name="progress">Told after each evaluation.</param>
    /// <param name="cancellationToken">Stops the run between calls.</param>
    /// <exception cref="RtoClientException">The session is unknown or a call failed.</exception>
    public async Task<RtoRunResult> RunAsync(string sessionId, IReadOnlyList<string> cvIds, RtoEvaluator evaluate, IProgress<RtoRunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cvIds);
        ArgumentNullException.ThrowIfNull(evaluate);
        int evaluations = 0;
        RtoIteration iteration = await IterateAsync(sessionId, null, cancellationToken).ConfigureAwait(false);
        while (iteration.State != RtoIterationState.Completed)
        {
            (double objective, IReadOnlyList<double> cvs, bool ok) = await evaluate(iteration.Mvs, cancellationToken).ConfigureAwait(false);
            if (cvs.Count != cvIds.Count)
            {
                throw new ArgumentException($"The evaluation returned {cvs.Count} CV values for {cvIds.Count} CVs.", nameof(evaluate));
            }

            var byId = new Dictionary<string, double>(cvIds.Count, StringComparer.Ordinal);
            for (int i = 0; i < cvIds.Count; i++)
            {
                byId[cvIds[i]] = cvs[i];
            }

            evaluations++;
            progress?.Report(new RtoRunProgress(evaluations, iteration.Mvs, objective, ok));
            iteration = await IterateAsync(sessionId, new RtoEvaluation(objective, byId, ok), cancellationToken).ConfigureAwait(false);
        }

        return new RtoRunResult(sessionId, iteration.Mvs, evaluations, iteration.Message);
    }

    /// <inheritdoc/>
    public void Dispose() => _ownedChannel?.Dispose();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
        {
            throw new RtoClientException(ex.Status.Detail.Length != 0 ? ex.Status.Detail : ex.StatusCode.ToString(), ex);
        }
    }
}
