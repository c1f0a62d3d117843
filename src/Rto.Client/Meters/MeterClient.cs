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
/// <example>
/// <code>
/// await using var client = await MeterClient.ConnectAsync("127.0.0.1", 44444);
/// await client.SendAsync(new MeterReading(MeterClient.ParseIPv4("10.0.0.1"), MeterTimestamp.FromDateTime(DateTime.Now), 229.5));
/// await client.FlushAsync();
/// </code>
/// </example>
public sealed class MeterClient : IAsyncDisposable
{
    /// <summary>Pending bytes above which a send also flushes to the socket.</summary>
    public const int FlushThreshold = 32 * 1024;

    private readonly SocketConnection _connection;
    private readonly PipeWriter _output;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _disposed;

    private MeterClient(SocketConnection connection)
    {
        _connection = connection;
        _output = connection.Output;
    }

    /// <summary>Connects to the meters endpoint at <paramref name="host"/>:<paramref name="port"/>.</summary>
    /// <exception cref="SocketException">The connection could not be made.</exception>
    public static Task<MeterClient> ConnectAsync(string host, int port = 44444, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        EndPoint endPoint = IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
        return ConnectAsync(endPoint, cancellationToken);
    }

    /// <summary>Connects to the meters endpoint at <paramref name="endPoint"/>.</summary>
    /// <exception cref="SocketException">The connection could not be made.</exception>
    public static async Task<MeterClient> ConnectAsync(EndPoint endPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new MeterClient(SocketConnection.Create(socket));
    }

    /// <summary>Parses an IPv4 dotted quad into the number <see cref="MeterReading.Ip"/> holds.</summary>
    /// <exception cref="FormatException">The text is not an IPv4 address.</exception>
    public static uint ParseIPv4(string ip) =>
        MeterLineParser.TryParseIPv4(Encoding.ASCII.GetBytes(ip), out uint value) ? value : throw new FormatException($"'{ip}' is not an IPv4 address.");

    /// <summary>Queues one reading; flushes when <see cref="FlushThreshold"/> bytes are pending.</summary>
    public ValueTask SendAsync(MeterReading reading, CancellationToken cancellationToken = default) =>
        WriteAsync(output => MeterLineWriter.Write(output, reading), cancellationToken);

    /// <summary>Queues many readings as one batch and flushes them.</summary>
    public async ValueTask SendManyAsync(IEnumerable<MeterReading> readings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(readings);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (MeterReading reading in readings)
            {
                MeterLineWriter.Write(_output, reading);
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
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
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
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                while (true)
                {
                    ReadResult result = await _connection.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
                    _connection.Input.AdvanceTo(result.Buffer.End);
                    if (result.IsCompleted)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
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
            ObjectDisposedException.ThrowIf(_disposed, this);
            write(_output);
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

    private async ValueTask FlushCoreAsync(CancellationToken cancellationToken)
    {
        if ((await _output.FlushAsync(cancellationToken).ConfigureAwait(false)).IsCompleted)
        {
            throw new IOException("The meters connection was closed.");
        }
    }
}
