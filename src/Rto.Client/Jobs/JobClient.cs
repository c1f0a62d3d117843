using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Pipelines.Sockets.Unofficial;
using Rto.Protocols.Jobs;

namespace Rto.Client.Jobs;

/// <summary>Settings of a <see cref="JobClient"/>.</summary>
public sealed class JobClientOptions
{
    /// <summary>How long connecting may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request may wait for its reply; jobs can be long. Default 10 min.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The largest reply accepted, in bytes. Default 1 MiB.</summary>
    public int MaxReplySize { get; set; } = 1024 * 1024;
}

/// <summary>A jobs request failed in transport: no connection, no reply in time, or a reply that is not the protocol's.</summary>
public sealed class JobClientException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// A client of the jobs endpoint (default port 27700). Two modes:
/// <list type="bullet">
/// <item>one-shot, exactly like the original clients: <see cref="SendOnceAsync(EndPoint, JobRequest, JobClientOptions?, CancellationToken)"/>
/// opens a connection, sends one request and reads the one reply before the server closes;</item>
/// <item>multi-request: <see cref="ConnectAsync(string, int, JobClientOptions?, CancellationToken)"/> keeps one connection and
/// sends every request with <c>"KeepAlive": true</c>. Calls may be concurrent; they are sent one
/// at a time, since the server answers a connection's requests in order and a job blocks the ones behind it.</item>
/// </list>
/// A reply whose <c>Status</c> is <c>error</c> is returned, not thrown: <see cref="JobResponse.IsComplete"/> tells.
/// </summary>
/// <example>
/// <code>
/// await using var jobs = await JobClient.ConnectAsync("127.0.0.1", 27700);
/// JobResponse status = await jobs.InfoAsync(InfoRequests.Status);
/// JobResponse done = await jobs.RunAsync(new JobRequest { Directory = "/data/run1/", Base = "time_series.parquet", File = "fft.task" });
/// Console.WriteLine(done.GetResult()?.File); // fft_ansver.parquet
/// </code>
/// </example>
public sealed class JobClient : IAsyncDisposable
{
    /// <summary>The default port of the jobs endpoint.</summary>
    public const int DefaultPort = 27700;

    private readonly SocketConnection _connection;
    private readonly JobClientOptions _options;
    private readonly SemaphoreSlim _callLock = new(1, 1);
    private JsonFrameReader _framer;

    private JobClient(SocketConnection connection, JobClientOptions options)
    {
        _connection = connection;
        _options = options;
        _framer = new JsonFrameReader(options.MaxReplySize);
    }

    /// <summary>Connects in multi-request mode to <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="JobClientException">The connection could not be made in time.</exception>
    public static Task<JobClient> ConnectAsync(string host, int port = DefaultPort, JobClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(TcpDialer.ToEndPoint(host, port), options, cancellationToken);

    /// <summary>Connects in multi-request mode to <paramref name="endPoint"/>.</summary>
    /// <exception cref="JobClientException">The connection could not be made in time.</exception>
    public static async Task<JobClient> ConnectAsync(EndPoint endPoint, JobClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new JobClientOptions();
        return new JobClient(await OpenAsync(endPoint, options, cancellationToken).ConfigureAwait(false), options);
    }

    /// <summary>Asks an Info question (<see cref="InfoRequests"/>) on the kept connection.</summary>
    /// <exception cref="JobClientException">The call failed in transport.</exception>
    public Task<JobResponse> InfoAsync(string request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(output => JobRequestWriter.WriteInfo(output, request, keepAlive: true), cancellationToken);
    }

    /// <summary>Runs a job on the kept connection and waits for its reply.</summary>
    /// <exception cref="JobClientException">The call failed in transport.</exception>
    public Task<JobResponse> RunAsync(JobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(output => JobRequestWriter.WriteJob(output, request, keepAlive: true), cancellationToken);
    }

    /// <summary>Runs one job on a connection of its own, as the original clients do.</summary>
    /// <exception cref="JobClientException">The call failed in transport.</exception>
    public static Task<JobResponse> SendOnceAsync(EndPoint endPoint, JobRequest request, JobClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendOnceAsync(endPoint, output => JobRequestWriter.WriteJob(output, request, keepAlive: false), options, cancellationToken);
    }

    /// <summary>Asks one Info question on a connection of its own, as the original clients do.</summary>
    /// <exception cref="JobClientException">The call failed in transport.</exception>
    public static Task<JobResponse> SendOnceAsync(EndPoint endPoint, string infoRequest, JobClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(infoRequest);
        return SendOnceAsync(endPoint, output => JobRequestWriter.WriteInfo(output, infoRequest, keepAlive: false), options, cancellationToken);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _connection.Output.CompleteAsync().ConfigureAwait(false);
        await _connection.Input.CompleteAsync().ConfigureAwait(false);
        _connection.Dispose();
        _callLock.Dispose();
    }

    private static async Task<JobResponse> SendOnceAsync(EndPoint endPoint, Action<IBufferWriter<byte>> write, JobClientOptions? options, CancellationToken cancellationToken)
    {
        options ??= new JobClientOptions();
        await using JobClient client = new(await OpenAsync(endPoint, options, cancellationToken).ConfigureAwait(false), options);
        return await client.CallAsync(write, cancellationToken).ConfigureAwait(false);
    }

    private async Task<JobResponse> CallAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.OperationTimeout);
        await _callLock.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            write(_connection.Output);
            await _connection.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            return await ReadReplyAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new JobClientException($"No reply within {_options.OperationTimeout.TotalSeconds:0.###} s.");
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionAbortedException or ConnectionResetException)
        {
            throw new JobClientException($"The connection was lost: {ex.Message}", ex);
        }
        finally
        {
            _callLock.Release();
        }
    }

    private async Task<JobResponse> ReadReplyAsync(CancellationToken cancellationToken)
    {
        PipeReader input = _connection.Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            JsonFrameStatus status = _framer.TryReadFrame(ref buffer, out ReadOnlySequence<byte> frame);
            if (status == JsonFrameStatus.Frame)
            {
                JobResponse response = ParseReply(frame);
                input.AdvanceTo(buffer.Start);
                return response;
            }

            input.AdvanceTo(buffer.Start, result.Buffer.End);
            if (status != JsonFrameStatus.NeedMoreData)
            {
                throw new JobClientException(status == JsonFrameStatus.TooLarge ? $"The reply is larger than {_options.MaxReplySize} bytes." : $"The reply is not JSON: {_framer.InvalidReason}");
            }

            if (result.IsCompleted)
            {
                throw new JobClientException("The server closed the connection before replying.");
            }
        }
    }

    private static JobResponse ParseReply(ReadOnlySequence<byte> frame)
    {
        try
        {
            using JsonDocument reply = JsonDocument.Parse(frame);
            if (reply.RootElement.ValueKind == JsonValueKind.Object
                && reply.RootElement.TryGetProperty("Response", out JsonElement response)
                && response.Deserialize(JobsJsonContext.Default.JobResponse) is { Status: not null } parsed)
            {
                return parsed;
            }
        }
        catch (JsonException ex)
        {
            throw new JobClientException($"The reply has no valid Response: {ex.Message}", ex);
        }

        throw new JobClientException("The reply has no Response with a Status.");
    }

    private static Task<SocketConnection> OpenAsync(EndPoint endPoint, JobClientOptions options, CancellationToken cancellationToken) =>
        TcpDialer.ConnectAsync(endPoint, options.ConnectTimeout, (_, message, inner) => inner is null ? new JobClientException(message) : new JobClientException(message, inner), cancellationToken);
}
