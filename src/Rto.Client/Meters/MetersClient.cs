using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Pipelines.Sockets.Unofficial;
using Rto.Protocols.Meters;

namespace Rto.Client.Meters;

/// <summary>
/// Streams meter readings to the server's meters endpoint (TSV lines, default port 44444) over
/// one TCP connection. Readings are batched in the connection's pipe and sent when
/// <see cref="FlushThreshold"/> bytes are pending or on <see cref="FlushAsync"/>; the protocol has
/// no replies, so nothing ever waits for the server. Safe for concurrent use.
/// </summary>
/// <remarks>
/// Every failure surfaces as a <see cref="MetersClientException"/>. Since the server never answers,
/// a completed send means the readings reached the local socket, not that the server stored them;
/// once the server is seen to close the connection every later call throws
/// <see cref="ClientErrorKind.ConnectionLost"/>.
/// </remarks>
/// <example>
/// <code>
/// await using var client = await MetersClient.ConnectAsync("127.0.0.1", MetersClient.DefaultPort);
/// await client.SendAsync(new MeterReading(MetersClient.ParseIPv4("10.0.0.1"), MeterTimestamp.FromDateTime(DateTime.Now), 229.5));
/// await client.FlushAsync();
/// </code>
/// </example>
public sealed class MetersClient : IAsyncDisposable
{
    /// <summary>The default port of the meters endpoint.</summary>
    public const int DefaultPort = 44444;

    /// <summary>Pending bytes above which a send also flushes to the socket.</summary>
    public const int FlushThreshold = 32 * 1024;

    private readonly SocketConnection _connection;
    private readonly PipeWriter _output;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Task _serverClosed;
    private bool _disposed;
    private Exception? _lostReason;

    private MetersClient(SocketConnection connection)
    {
        _connection = connection;
        _output = connection.Output;
        _serverClosed = WatchServerAsync();
    }

    /// <summary>Connects to the meters endpoint at <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="MetersClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="MetersClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<MetersClient> ConnectAsync(string host, int port, MetersClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(TcpDialer.ToEndPoint(host, port), options, cancellationToken);

    /// <summary>Connects to the meters endpoint at <paramref name="endPoint"/>.</summary>
    /// <exception cref="MetersClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="MetersClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<MetersClient> ConnectAsync(EndPoint endPoint, MetersClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        options ??= new MetersClientOptions();
        SocketConnection connection = await TcpDialer.ConnectAsync(
            endPoint,
            options.ConnectTimeout,
            (kind, message, inner) => new MetersClientException(kind, message, inner),
            cancellationToken).ConfigureAwait(false);
        return new MetersClient(connection);
    }

    /// <summary>Parses an IPv4 dotted quad into the number <see cref="MeterReading.Ip"/> holds.</summary>
    /// <exception cref="FormatException">The text is not an IPv4 address.</exception>
    public static uint ParseIPv4(string ip) =>
        MeterLineParser.TryParseIPv4(Encoding.ASCII.GetBytes(ip), out uint value) ? value : throw new FormatException($"'{ip}' is not an IPv4 address.");

    /// <summary>Queues one reading; flushes when <see cref="FlushThreshold"/> bytes are pending.</summary>
    /// <exception cref="MetersClientException">The connection was lost (<see cref="ClientErrorKind.ConnectionLost"/>).</exception>
    public ValueTask SendAsync(MeterReading reading, CancellationToken cancellationToken = default) =>
        WriteAsync(output => MeterLineWriter.Write(output, reading), cancellationToken);

    /// <summary>Queues many readings as one batch and flushes them.</summary>
    /// <exception cref="MetersClientException">The connection was lost (<see cref="ClientErrorKind.ConnectionLost"/>).</exception>
    public async ValueTask SendManyAsync(IEnumerable<MeterReading> readings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readings);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfUnusable();
            foreach (MeterReading reading in readings)
            {
                Write(static (output, reading) => MeterLineWriter.Write(output, reading), reading);
                if (_output.UnflushedBytes >= FlushThreshold)
                {
                    await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Queues a raw line as is (a <c>\n</c> is appended); for testing how the server handles bad input.</summary>
    /// <exception cref="MetersClientException">The connection was lost (<see cref="ClientErrorKind.ConnectionLost"/>).</exception>
    public ValueTask SendLineAsync(string line, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(line);
        return WriteAsync(output =>
        {
            Encoding.UTF8.GetBytes(line, output);
            output.Write("\n"u8);
        }, cancellationToken);
    }

    /// <summary>Sends everything queued so far.</summary>
    /// <exception cref="MetersClientException">The connection was lost (<see cref="ClientErrorKind.ConnectionLost"/>).</exception>
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfUnusable();
            await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Sends what is queued, closes the sending side and waits (up to 10 s) until the server has
    /// read everything and closed the connection.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            try
            {
                await _output.FlushAsync().ConfigureAwait(false);
                await _output.CompleteAsync().ConfigureAwait(false);
                await _serverClosed.WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or ObjectDisposedException or InvalidOperationException)
            {
                // The connection is going away either way.
            }

            _connection.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async ValueTask WriteAsync(Action<PipeWriter> write, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfUnusable();
            Write(static (output, write) => write(output), write);
            if (_output.UnflushedBytes >= FlushThreshold)
            {
                await FlushCoreAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_serverClosed.IsCompleted)
        {
            throw Lost(_lostReason);
        }
    }

    private void Write<T>(Action<PipeWriter, T> write, T state)
    {
        try
        {
            write(_output, state);
        }
        catch (InvalidOperationException ex)
        {
            // The socket completed the pipe after a send failed.
            throw Lost(ex);
        }
    }

    private async ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        FlushResult result;
        try
        {
            result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidOperationException)
        {
            throw Lost(ex);
        }

        if (result.IsCompleted)
        {
            throw Lost(null);
        }
    }

    private MetersClientException Lost(Exception? inner) =>
        new(ClientErrorKind.ConnectionLost, "The meters connection was closed by the server or the network; unsent readings are lost.", inner);

    /// <summary>The server never sends; its side completing means it closed the connection.</summary>
    private async Task WatchServerAsync()
    {
        PipeReader input = _connection.Input;
        try
        {
            while (true)
            {
                ReadResult result = await input.ReadAsync().ConfigureAwait(false);
                input.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            _lostReason = ex;
        }
    }
}
