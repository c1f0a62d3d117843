using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipelines.Sockets.Unofficial;
using Rto.Protocols;
using Rto.Protocols.Metrics;

namespace Rto.Client.Metrics;

/// <summary>
/// An async client for the metrics <c>put</c>/<c>get</c> protocol over one TCP connection.
/// Safe for concurrent use: concurrent calls are pipelined on the connection and their replies
/// matched in order. Every failure surfaces as <see cref="MetricsClientException"/>.
/// </summary>
/// <example>
/// <code>
/// await using var client = await MetricsClient.ConnectAsync("127.0.0.1", 8888);
/// await client.PutAsync("boiler.temperature", 81.5);
/// var series = await client.GetAsync("boiler.temperature");
/// </code>
/// </example>
public sealed class MetricsClient : IAsyncDisposable
{
    /// <summary>The default port of the metrics endpoint.</summary>
    public const int DefaultPort = 8888;

    // Large batches go out in chunks so neither side buffers a whole bulk load.
    private const int BatchChunkSize = 4096;

    private readonly SocketConnection _connection;
    private readonly PipeWriter _output;
    private readonly PipeReader _input;
    private readonly MetricsClientOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Queue<PendingCall> _pending = new();
    private readonly Timer _timeoutTimer;
    private readonly Task _readLoop;
    private readonly MetricsResponseReader _replies = new();
    private volatile MetricsClientException? _fault;

    private MetricsClient(SocketConnection connection, MetricsClientOptions options)
    {
        _connection = connection;
        _output = connection.Output;
        _input = connection.Input;
        _options = options;
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Clamp(options.RequestTimeout.TotalMilliseconds / 4, 10, 1000));
        _timeoutTimer = new Timer(static state => ((MetricsClient)state!).ExpireOverdueCalls(), this, period, period);
        _readLoop = Task.Run(ReadRepliesAsync);
    }

    /// <summary>Connects to the metrics server at <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="MetricsClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="MetricsClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<MetricsClient> ConnectAsync(string host, int port, MetricsClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        EndPoint endPoint = TcpDialer.ToEndPoint(host, port);
        return ConnectAsync(endPoint, options, cancellationToken);
    }

    /// <summary>Connects to the metrics server at <paramref name="endPoint"/>.</summary>
    /// <exception cref="MetricsClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="MetricsClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<MetricsClient> ConnectAsync(EndPoint endPoint, MetricsClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new MetricsClientOptions();
        SocketConnection connection = await TcpDialer.ConnectAsync(
            endPoint,
            options.ConnectTimeout,
            (kind, message, inner) => new MetricsClientException(kind, message, inner),
            cancellationToken).ConfigureAwait(false);
        return new MetricsClient(connection, options);
    }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> at <paramref name="timestamp"/> (Unix seconds; now when omitted).</summary>
    /// <exception cref="ArgumentException">The key contains whitespace or control characters, or the value is not finite.</exception>
    /// <exception cref="MetricsClientException">The server refused the put (<see cref="ClientErrorKind.Rejected"/>), or the call failed.</exception>
    public Task PutAsync(string key, double value, long? timestamp = null, CancellationToken cancellationToken = default)
    {
        long at = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return SendAsync(new PendingCall(isGet: false, replies: 1), output => MetricsRequestWriter.WritePut(output, key, value, at), cancellationToken);
    }

    /// <summary>
    /// Stores many points, pipelined in chunks without waiting for each acknowledgement. Completes
    /// when the server has acknowledged all of them.
    /// </summary>
    /// <exception cref="ArgumentException">A sample is invalid; nothing is sent.</exception>
    /// <exception cref="MetricsClientException">The server refused a put, or the call failed.</exception>
    public async Task PutManyAsync(IEnumerable<MetricSample> samples, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var chunks = new List<(ArrayBufferWriter<byte> Bytes, int Count)>();
        var current = new ArrayBufferWriter<byte>();
        int count = 0;
        foreach (MetricSample sample in samples)
        {
            MetricsRequestWriter.WritePut(current, sample.Key, sample.Value, sample.Timestamp);
            if (++count == BatchChunkSize)
            {
                chunks.Add((current, count));
                current = new ArrayBufferWriter<byte>();
                count = 0;
            }
        }

        if (count > 0)
        {
            chunks.Add((current, count));
        }

        var sends = new List<Task>(chunks.Count);
        foreach ((ArrayBufferWriter<byte> bytes, int n) in chunks)
        {
            sends.Add(SendAsync(new PendingCall(isGet: false, replies: n), output => output.Write(bytes.WrittenSpan), cancellationToken));
        }

        await Task.WhenAll(sends).ConfigureAwait(false);
    }

    /// <summary>
    /// Returns the points of <paramref name="key"/>, or of every key when it is <c>*</c>, as
    /// key → points sorted by timestamp. An unknown key gives an empty dictionary.
    /// </summary>
    /// <exception cref="MetricsClientException">The server refused the request, or the call failed.</exception>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>>> GetAsync(string key, CancellationToken cancellationToken = default)
    {
        var call = new PendingCall(isGet: true, replies: 1);
        await SendAsync(call, output => MetricsRequestWriter.WriteGet(output, key), cancellationToken).ConfigureAwait(false);
        return call.Points!;
    }

    /// <summary>Closes the connection; calls still waiting fail with <see cref="ClientErrorKind.ConnectionLost"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Fault(new MetricsClientException(ClientErrorKind.ConnectionLost, "The client was disposed."));
        await _timeoutTimer.DisposeAsync().ConfigureAwait(false);
        await _readLoop.ConfigureAwait(false); // never throws: it turns every failure into a fault

    }

    private async Task SendAsync(PendingCall call, Action<PipeWriter> write, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFaulted();

            // Validation errors surface from here before a byte is written.
            write(_output);
            call.Deadline = Environment.TickCount64 + (long)_options.RequestTimeout.TotalMilliseconds;
            lock (_pending)
            {
                _pending.Enqueue(call);
            }

            try
            {
                if ((await _output.FlushAsync(CancellationToken.None).ConfigureAwait(false)).IsCompleted)
                {
                    Fault(new MetricsClientException(ClientErrorKind.ConnectionLost, "The connection was closed."));
                }
            }
            catch (Exception ex)
            {
                Fault(new MetricsClientException(ClientErrorKind.ConnectionLost, "The connection was lost while sending.", ex));
            }
        }
        finally
        {
            _writeLock.Release();
        }

        using (cancellationToken.CanBeCanceled ? cancellationToken.Register(static c => ((PendingCall)c!).Completion.TrySetCanceled(), call) : default)
        {
            await call.Completion.Task.ConfigureAwait(false);
        }
    }

    private async Task ReadRepliesAsync()
    {
        try
        {
            while (true)
            {
                ReadResult result = await _input.ReadAsync().ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                SequencePosition consumed = buffer.Start, examined = buffer.End;
                while (_replies.TryParseMessage(buffer.Slice(consumed), ref consumed, ref examined, out MetricsResponse response))
                {
                    Deliver(response);
                }

                _input.AdvanceTo(consumed, examined);
                if (result.IsCompleted || result.IsCanceled)
                {
                    Fault(new MetricsClientException(ClientErrorKind.ConnectionLost, "The server closed the connection."));
                    return;
                }
            }
        }
        catch (FormatException ex)
        {
            Fault(new MetricsClientException(ClientErrorKind.ProtocolViolation, $"The server sent a malformed reply: {ex.Message}", ex));
        }
        catch (MetricsClientException ex)
        {
            Fault(ex);
        }
        catch (Exception ex)
        {
            // Socket errors, aborts and disposal all mean the same thing to the callers.
            Fault(new MetricsClientException(ClientErrorKind.ConnectionLost, "The connection was lost.", ex));
        }
        finally
        {
            await _input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void Deliver(in MetricsResponse response)
    {
        if (response.Status != MessageStatus.Valid)
        {
            throw new FormatException("The reply does not start with 'ok' or 'error'.");
        }

        PendingCall call;
        lock (_pending)
        {
            if (!_pending.TryPeek(out call!))
            {
                throw new MetricsClientException(ClientErrorKind.ProtocolViolation, "The server sent a reply nobody asked for.");
            }

            call.Deadline = Environment.TickCount64 + (long)_options.RequestTimeout.TotalMilliseconds;
            if (--call.RemainingReplies == 0)
            {
                _pending.Dequeue();
            }
        }

        if (!response.IsOk)
        {
            string message = Encoding.UTF8.GetString(response.Body);
            call.Completion.TrySetException(new MetricsClientException(ClientErrorKind.Rejected, $"The server refused the request: {message}"));
            return;
        }

        if (!call.IsGet)
        {
            if (!response.Body.IsEmpty)
            {
                throw new FormatException("A put was answered with data.");
            }

            if (call.RemainingReplies == 0)
            {
                call.Completion.TrySetResult();
            }

            return;
        }

        call.Points = ParsePoints(response.Body);
        call.Completion.TrySetResult();
    }

    private static Dictionary<string, IReadOnlyList<MetricPoint>> ParsePoints(ReadOnlySequence<byte> body)
    {
        var result = new Dictionary<string, IReadOnlyList<MetricPoint>>(StringComparer.Ordinal);
        if (body.IsEmpty)
        {
            return result;
        }

        byte[] text = body.ToArray();
        string? lastKey = null;
        byte[]? lastKeyBytes = null;
        List<MetricPoint>? points = null;
        foreach (Range range in text.AsSpan().Split((byte)'\n'))
        {
            ReadOnlySpan<byte> line = text.AsSpan(range);
            if (!MetricsResponseReader.TryParsePoint(line, out ReadOnlySpan<byte> key, out double value, out long timestamp))
            {
                throw new FormatException($"'{Encoding.UTF8.GetString(line)}' is not a point line.");
            }

            if (lastKeyBytes is null || !key.SequenceEqual(lastKeyBytes))
            {
                lastKeyBytes = key.ToArray();
                lastKey = Encoding.UTF8.GetString(key);
                if (!result.TryGetValue(lastKey, out IReadOnlyList<MetricPoint>? existing))
                {
                    existing = new List<MetricPoint>();
                    result.Add(lastKey, existing);
                }

                points = (List<MetricPoint>)existing;
            }

            points!.Add(new MetricPoint(timestamp, value));
        }

        foreach (IReadOnlyList<MetricPoint> series in result.Values)
        {
            var list = (List<MetricPoint>)series;
            for (int i = 1; i < list.Count; i++)
            {
                if (list[i - 1].Timestamp > list[i].Timestamp)
                {
                    list.Sort(static (a, b) => a.Timestamp.CompareTo(b.Timestamp));
                    break;
                }
            }
        }

        return result;
    }

    private void ExpireOverdueCalls()
    {
        long now = Environment.TickCount64;
        lock (_pending)
        {
            foreach (PendingCall call in _pending)
            {
                if (call.Deadline > now)
                {
                    break;
                }

                call.Completion.TrySetException(new MetricsClientException(
                    ClientErrorKind.Timeout, $"No reply from the server within {_options.RequestTimeout.TotalSeconds:0.###} s."));
            }
        }
    }

    private void Fault(MetricsClientException exception)
    {
        PendingCall[] failed;
        lock (_pending)
        {
            _fault ??= exception;
            failed = [.. _pending];
            _pending.Clear();
        }

        foreach (PendingCall call in failed)
        {
            call.Completion.TrySetException(_fault);
        }

        _connection.Dispose();
    }

    private void ThrowIfFaulted()
    {
        if (_fault is { } fault)
        {
            throw new MetricsClientException(fault.ErrorKind, fault.Message, fault);
        }
    }

    private sealed class PendingCall(bool isGet, int replies)
    {
        public bool IsGet { get; } = isGet;

        public int RemainingReplies { get; set; } = replies;

        public long Deadline { get; set; }

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Dictionary<string, IReadOnlyList<MetricPoint>>? Points { get; set; }
    }
}
