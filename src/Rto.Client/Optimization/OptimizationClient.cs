using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.RtoApi;

namespace Rto.Client.Optimization;

/// <summary>
/// A client of the RTO gRPC service (<c>Grpc.RtoApi.RtoService</c> and <c>DataProcessingService</c>):
/// start optimization sessions, iterate them, and run them to completion against your own evaluation.
/// Safe for concurrent use; calls share the channel's HTTP/2 connections, and the channel
/// reconnects by itself after the server comes back. Every failure surfaces as
/// <see cref="OptimizationClientException"/>.
/// </summary>
/// <example>
/// <code>
/// await using var client = await OptimizationClient.ConnectAsync("localhost", 5081);
/// var definition = new OptimizationSessionDefinition([new ManipulatedVariable("x", -5, 5)], [], MaxIterations: 50);
/// OptimizationRunResult best = await client.RunAsync(definition, (mvs, ct) =&gt;
///     ValueTask.FromResult((Objective: Math.Pow(mvs[0] - 1, 2), Cvs: (IReadOnlyList&lt;double&gt;)[], Ok: true)));
/// </code>
/// </example>
public sealed class OptimizationClient : IAsyncDisposable, IDisposable
{
    /// <summary>The default port of the optimization endpoint.</summary>
    public const int DefaultPort = 5081;

    private readonly GrpcChannel? _ownedChannel;
    private readonly RtoService.RtoServiceClient _rto;
    private readonly DataProcessingService.DataProcessingServiceClient _data;
    private readonly OptimizationClientOptions _options;
    private readonly string _token;

    /// <summary>
    /// Creates a client over an existing <paramref name="channel"/>, which the caller keeps
    /// owning: to share one channel between clients, or to start before the server is up (the
    /// channel connects on the first call). No connection is made here.
    /// </summary>
    public OptimizationClient(GrpcChannel channel, OptimizationClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _options = options ?? new OptimizationClientOptions();
        Address = GrpcAddress.Parse(channel.Target);
        _rto = new RtoService.RtoServiceClient(channel);
        _data = new DataProcessingService.DataProcessingServiceClient(channel);
        _token = _options.AccessToken ?? "";
    }

    private OptimizationClient(GrpcChannel ownedChannel, Uri address, OptimizationClientOptions options)
        : this(ownedChannel, options)
    {
        _ownedChannel = ownedChannel;
        Address = address;
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    /// <summary>Connects to the optimization endpoint at <paramref name="host"/>:<paramref name="port"/> (plaintext HTTP/2).</summary>
    /// <exception cref="OptimizationClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="OptimizationClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<OptimizationClient> ConnectAsync(string host, int port, OptimizationClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(GrpcAddress.Create(host, port), options, cancellationToken);

    /// <summary>Connects to the optimization endpoint at <paramref name="address"/> (<c>http://</c> or <c>https://</c>; see <see cref="GrpcAddress.Parse"/>).</summary>
    /// <exception cref="OptimizationClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="OptimizationClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<OptimizationClient> ConnectAsync(Uri address, OptimizationClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new OptimizationClientOptions();
        GrpcChannel channel = await GrpcDialer.ConnectAsync(
            address,
            options.ConnectTimeout,
            (kind, message) => new OptimizationClientException(kind, kind == ClientErrorKind.Timeout ? StatusCode.DeadlineExceeded : StatusCode.Unavailable, message),
            cancellationToken).ConfigureAwait(false);
        return new OptimizationClient(channel, address, options);
    }

    /// <summary>The service's status (<c>status</c> is <c>Running</c> when it is up).</summary>
    /// <exception cref="OptimizationClientException">The call failed.</exception>
    public async Task<ServiceStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
        await CallAsync(() => _rto.GetServiceStatusAsync(new ArgRequest { AccessToken = _token }, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);

    /// <summary>Starts a session and returns its id.</summary>
    /// <exception cref="OptimizationClientException">The server refused the definition (the message says why) or the call failed.</exception>
    public async Task<string> StartAsync(OptimizationSessionDefinition definition, CancellationToken cancellationToken = default)
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
        StartResponse response = await CallAsync(() => _rto.StartOptimizeSessionAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        return response.IsGood ? response.OptimizationInstanceId : throw Refused(response.Message);
    }

    /// <summary>
    /// One iteration: reports <paramref name="evaluation"/> of the outstanding candidate (or nothing, to get
    /// the first candidate or the same one again) and returns the next candidate or the final answer.
    /// </summary>
    /// <exception cref="OptimizationClientException">The session is unknown or the call failed.</exception>
    public async Task<OptimizationIteration> IterateAsync(string sessionId, OptimizationEvaluation? evaluation, CancellationToken cancellationToken = default)
    {
        var request = new OptimizeIterationRequest { AccessToken = _token, OptimizationInstanceId = sessionId };
        if (evaluation is not null)
        {
            ulong now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            request.ObjectiveFunctionValue = new TagVal { TagId = "objective", NumericValue = evaluation.Objective, IsGood = evaluation.Succeeded, TimeStamp = now };
            request.CvValues.AddRange(evaluation.Cvs.Select(cv => new TagVal { TagId = cv.Key, NumericValue = cv.Value, IsGood = true, TimeStamp = now }));
        }

        OptimizeIterationResponse response = await CallAsync(() => _rto.OptimizeIterationAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        if (response.Flag is not (IterationFlag.Candidate or IterationFlag.Resumed or IterationFlag.Completed))
        {
            throw Refused(response.Message.Length != 0 ? response.Message : $"OptimizeIteration answered flag {response.Flag.ToString(CultureInfo.InvariantCulture)}");
        }

        return new OptimizationIteration((OptimizationIterationState)response.Flag, [.. response.MvValues.Select(v => v.NumericValue)], response.Message);
    }

    /// <summary>Pauses a session; true when it is paused (now or already).</summary>
    /// <exception cref="OptimizationClientException">The call failed.</exception>
    public async Task<bool> PauseAsync(string sessionId, CancellationToken cancellationToken = default) =>
        (await CallAsync(() => _rto.PauseAsync(new PauseRequest { AccessToken = _token, SessionId = sessionId }, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false)).IsPaused;

    /// <summary>Stops a session: the server forgets it and deletes its file. Returns the server's message.</summary>
    /// <exception cref="OptimizationClientException">The call failed.</exception>
    public async Task<string> StopAsync(string sessionId, CancellationToken cancellationToken = default) =>
        (await CallAsync(() => _rto.StopAsync(new StopRequest { AccessToken = _token, SessionId = sessionId }, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false)).Message;

    /// <summary>Evaluates a server-side model on <paramref name="mvs"/> (by MV id) for the session's CVs.</summary>
    /// <param name="sessionId">The session whose CVs are returned.</param>
    /// <param name="mvs">A value for every MV of the session, by MV id.</param>
    /// <param name="modelId">The model; <see langword="null"/> uses the session's model.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="OptimizationClientException">Unknown session or model, missing MVs, or the call failed.</exception>
    public async Task<OptimizationModelResult> CalculateCvAsync(string sessionId, IReadOnlyDictionary<string, double> mvs, string? modelId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mvs);
        var request = new CalculateCVRequest { AccessToken = _token, SessionId = sessionId, ModelId = modelId ?? "" };
        request.MvValues.AddRange(mvs.Select(mv => new TagVal { TagId = mv.Key, NumericValue = mv.Value, IsGood = true }));
        CalculateCVResponse response = await CallAsync(() => _data.CalculateCVAsync(request, deadline: Deadline(), cancellationToken: cancellationToken).ResponseAsync).ConfigureAwait(false);
        return new OptimizationModelResult(response.Objective?.NumericValue ?? double.NaN, response.CvValues.ToDictionary(v => v.TagId, v => v.NumericValue), response.IsGood, response.Message);
    }

    /// <summary>Starts a session for <paramref name="definition"/> and runs it to completion (see <see cref="RunAsync(string, IReadOnlyList{string}, OptimizationEvaluator, IProgress{OptimizationRunProgress}?, CancellationToken)"/>).</summary>
    /// <exception cref="OptimizationClientException">The server refused the definition or a call failed.</exception>
    public async Task<OptimizationRunResult> RunAsync(OptimizationSessionDefinition definition, OptimizationEvaluator evaluate, IProgress<OptimizationRunProgress>? progress = null, CancellationToken cancellationToken = default)
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
    /// <exception cref="OptimizationClientException">The session is unknown or a call failed.</exception>
    public async Task<OptimizationRunResult> RunAsync(string sessionId, IReadOnlyList<string> cvIds, OptimizationEvaluator evaluate, IProgress<OptimizationRunProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(cvIds);
        ArgumentNullException.ThrowIfNull(evaluate);
        int evaluations = 0;
        OptimizationIteration iteration = await IterateAsync(sessionId, null, cancellationToken).ConfigureAwait(false);
        while (iteration.State != OptimizationIterationState.Completed)
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
            progress?.Report(new OptimizationRunProgress(evaluations, iteration.Mvs, objective, ok));
            iteration = await IterateAsync(sessionId, new OptimizationEvaluation(objective, byId, ok), cancellationToken).ConfigureAwait(false);
        }

        return new OptimizationRunResult(sessionId, iteration.Mvs, evaluations, iteration.Message);
    }

    /// <inheritdoc/>
    public void Dispose() => _ownedChannel?.Dispose();

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private DateTime? Deadline() => _options.RequestTimeout == Timeout.InfiniteTimeSpan ? null : DateTime.UtcNow + _options.RequestTimeout;

    private static OptimizationClientException Refused(string message) => new(ClientErrorKind.Rejected, StatusCode.OK, message);

    private static async Task<T> CallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode != StatusCode.Cancelled)
        {
            throw OptimizationClientException.From(ex);
        }
    }
}
