using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;
using Rto.Protocols;
using Rto.Protocols.Jobs;

namespace Rto.Client.Jobs;

/// <summary>
/// A client of the jobs endpoint (default port 27700). Two modes:
/// <list type="bullet">
/// <item>one-shot, exactly like the original clients: <see cref="SendOnceAsync(EndPoint, JobRequest, JobsClientOptions?, CancellationToken)"/>
/// opens a connection, sends one request and reads the one reply before the server closes;</item>
/// <item>multi-request: <see cref="ConnectAsync(string, int, JobsClientOptions?, CancellationToken)"/> keeps one connection and
/// sends every request with <c>"KeepAlive": true</c>. Calls may be concurrent; they are sent one
/// at a time, since the server answers a connection's requests in order and a job blocks the ones behind it.</item>
/// </list>
/// A reply whose <c>Status</c> is <c>error</c> is returned, not thrown: <see cref="JobResponse.IsComplete"/> tells.
/// </summary>
/// <example>
/// <code>
/// await using var jobs = await JobsClient.ConnectAsync("127.0.0.1", 27700);
/// JobResponse status = await jobs.InfoAsync(InfoRequests.Status);
/// JobResponse done = await jobs.RunAsync(new JobRequest { Directory = "/data/run1/", Base = "time_series.parquet", File = "fft.task" });
/// Console.WriteLine(done.GetResult()?.File); // fft_ansver.parquet
/// </code>
/// </example>
public sealed class JobsClient : IAsyncDisposable
{
    /// <summary>The default port of the jobs endpoint.</summary>
    public const int DefaultPort = 27700;

    private readonly SocketConnection _connection;
    private readonly JobsClientOptions _options;
    private readonly SemaphoreSlim _callLock = new(1, 1);
    private JobReplyReader _replies;

    private JobsClient(SocketConnection connection, JobsClientOptions options)
    {
        _connection = connection;
        _options = options;
        _replies = new JobReplyReader(options.MaxReplySize);
    }

    /// <summary>Connects in multi-request mode to <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="JobsClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="JobsClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<JobsClient> ConnectAsync(string host, int port, JobsClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(TcpDialer.ToEndPoint(host, port), options, cancellationToken);

    /// <summary>Connects in multi-request mode to <paramref name="endPoint"/>.</summary>
    /// <exception cref="JobsClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="JobsClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<JobsClient> ConnectAsync(EndPoint endPoint, JobsClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new JobsClientOptions();
        return new JobsClient(await OpenAsync(endPoint, options, cancellationToken).ConfigureAwait(false), options);
    }

    /// <summary>Asks an Info question (<see cref="InfoRequests"/>) on the kept connection.</summary>
    /// <exception cref="JobsClientException">The call failed in transport.</exception>
    public Task<JobResponse> InfoAsync(string request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(output => JobRequestWriter.WriteInfo(output, request, keepAlive: true), cancellationToken);
    }

    /// <summary>Runs a job on the kept connection and waits for its reply.</summary>
    /// <exception cref="JobsClientException">The call failed in transport.</exception>
    public Task<JobResponse> RunAsync(JobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return CallAsync(output => JobRequestWriter.WriteJob(output, request, keepAlive: true), cancellationToken);
    }

    /// <summary>Runs one job on a connection of its own, as the original clients do.</summary>
    /// <exception cref="JobsClientException">The call failed in transport.</exception>
    public static Task<JobResponse> SendOnceAsync(EndPoint endPoint, JobRequest request, JobsClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendOnceAsync(endPoint, output => JobRequestWriter.WriteJob(output, request, keepAlive: false), options, cancellationToken);
    }

    /// <summary>Asks one Info question on a connection of its own, as the original clients do.</summary>
    /// <exception cref="JobsClientException">The call failed in transport.</exception>
    public static Task<JobResponse> SendOnceAsync(EndPoint endPoint, string infoRequest, JobsClientOptions? options = null, CancellationToken cancellationToken = default)
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

    private static async Task<JobResponse> SendOnceAsync(EndPoint endPoint, Action<IBufferWriter<byte>> write, JobsClientOptions? options, CancellationToken cancellationToken)
    {
        options ??= new JobsClientOptions();
        await using JobsClient client = new(await OpenAsync(endPoint, options, cancellationToken).ConfigureAwait(false), options);
        return await client.CallAsync(write, cancellationToken).ConfigureAwait(false);
    }

    private async Task<JobResponse> CallAsync(Action<IBufferWriter<byte>> write, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        await _callLock.WaitAsync(timeout.Token).ConfigureAwait(false);
        try
        {
            write(_connection.Output);
            await _connection.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
            return await ReadReplyAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new JobsClientException(ClientErrorKind.Timeout, string.Create(CultureInfo.InvariantCulture, $"No reply within {_options.RequestTimeout.TotalSeconds:0.###} s."));
        }
        catch (Exception ex) when (ex is IOException or SocketException or ConnectionAbortedException or ConnectionResetException)
        {
            throw new JobsClientException(ClientErrorKind.ConnectionLost, $"The connection was lost: {ex.Message}", ex);
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
            SequencePosition consumed = result.Buffer.Start, examined = result.Buffer.End;
            bool taken = _replies.TryParseMessage(result.Buffer, ref consumed, ref examined, out JobEnvelope? reply);
            input.AdvanceTo(consumed, examined);
            if (taken)
            {
                using (reply)
                {
                    return reply!.Status == MessageStatus.Valid ? reply.Response! : throw new JobsClientException(ClientErrorKind.ProtocolViolation, reply.Error!);
                }
            }

            if (result.IsCompleted)
            {
                throw new JobsClientException(ClientErrorKind.ConnectionLost, "The server closed the connection before replying.");
            }
        }
    }

    private static Task<SocketConnection> OpenAsync(EndPoint endPoint, JobsClientOptions options, CancellationToken cancellationToken) =>
        TcpDialer.ConnectAsync(endPoint, options.ConnectTimeout, (kind, message, inner) => new JobsClientException(kind, message, inner), cancellationToken);
}
