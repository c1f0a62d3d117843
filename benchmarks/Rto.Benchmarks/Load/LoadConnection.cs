using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Rto.Benchmarks.Load;

/// <summary>
/// One client connection that keeps a fixed number of requests in flight: it sends a window of
/// requests, and for every reply that comes back sends one more. Replies arrive in request
/// order, so the send time of each is found in a ring indexed by sequence number.
/// </summary>
internal sealed class LoadConnection : IAsyncDisposable
{
    private readonly NetworkStream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly long[] _sendTimes;
    private long _sent;
    private long _received;

    // Reply scanning state: every reply ends with an empty line ("\n\n"), and no reply contains
    // one earlier, so counting replies is counting "\n\n" across read boundaries.
    private bool _afterNewline;
    private bool _atReplyStart = true;

    private LoadConnection(Socket socket, int window)
    {
        _stream = new NetworkStream(socket, ownsSocket: true);
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024));
        _output = PipeWriter.Create(_stream);
        _sendTimes = new long[window];
    }

    public LatencyHistogram Latency { get; } = new();

    /// <summary>Replies received inside the measured window.</summary>
    public long Acknowledged { get; private set; }

    /// <summary>Requests sent by <see cref="RunAsync"/>, all of which were answered when it returns.</summary>
    public long Sent => _sent;

    /// <summary>Replies that were <c>error</c> rather than <c>ok</c>, at any time.</summary>
    public long Errors { get; private set; }

    public static async Task<LoadConnection> ConnectAsync(IPEndPoint endPoint, int window, CancellationToken cancellation)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellation);
            return new LoadConnection(socket, window);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends the next <paramref name="count"/> requests and waits for all their replies (untimed).</summary>
    public async Task SendAllAsync(RequestBlock requests, int count, CancellationToken cancellation)
    {
        requests.WriteTo(_output, count);
        await _output.FlushAsync(cancellation);
        await ReceiveAsync(count, cancellation);
    }

    /// <summary>Sends <paramref name="count"/> encoded requests and waits for all their replies (untimed).</summary>
    public async Task SendAllAsync(ReadOnlyMemory<byte> requests, int count, CancellationToken cancellation)
    {
        await _output.WriteAsync(requests, cancellation);
        await ReceiveAsync(count, cancellation);
    }

    private async Task ReceiveAsync(int count, CancellationToken cancellation)
    {
        long received = 0;
        while (received < count)
        {
            ReadResult result = await _input.ReadAsync(cancellation);
            received += CountReplies(result.Buffer);
            _input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted && received < count)
            {
                throw new IOException("The server closed the connection.");
            }
        }
    }

    /// <summary>
    /// Runs until <paramref name="measureEnd"/>, then waits for the requests still in flight.
    /// Only replies arriving between <paramref name="measureStart"/> and <paramref name="measureEnd"/> are counted.
    /// </summary>
    public async Task RunAsync(RequestBlock requests, long measureStart, long measureEnd, CancellationToken cancellation)
    {
        await SendAsync(requests, _sendTimes.Length, cancellation);
        while (_received < _sent)
        {
            ReadResult result = await _input.ReadAsync(cancellation);
            long now = Stopwatch.GetTimestamp();
            int replies = CountReplies(result.Buffer);
            _input.AdvanceTo(result.Buffer.End);
            if (now >= measureStart && now < measureEnd)
            {
                for (int i = 0; i < replies; i++)
                {
                    Latency.Record(now - _sendTimes[(_received + i) % _sendTimes.Length]);
                }

                Acknowledged += replies;
            }

            _received += replies;
            if (result.IsCompleted && _received < _sent)
            {
                throw new IOException("The server closed the connection with requests in flight.");
            }

            if (now < measureEnd && replies > 0)
            {
                await SendAsync(requests, replies, cancellation);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _output.CompleteAsync();
        await _input.CompleteAsync();
        await _stream.DisposeAsync();
    }

    private ValueTask<FlushResult> SendAsync(RequestBlock requests, int count, CancellationToken cancellation)
    {
        long now = Stopwatch.GetTimestamp();
        for (int i = 0; i < count; i++)
        {
            _sendTimes[(_sent + i) % _sendTimes.Length] = now;
        }

        _sent += count;
        requests.WriteTo(_output, count);
        return _output.FlushAsync(cancellation);
    }

    private int CountReplies(in ReadOnlySequence<byte> buffer)
    {
        int replies = 0;
        foreach (ReadOnlyMemory<byte> memory in buffer)
        {
            ReadOnlySpan<byte> span = memory.Span;
            int position = 0;
            while (position < span.Length)
            {
                if (_atReplyStart)
                {
                    Errors += span[position] == (byte)'o' ? 0 : 1;
                    _atReplyStart = false;
                }

                int newline = span[position..].IndexOf((byte)'\n');
                if (newline < 0)
                {
                    _afterNewline = false;
                    break;
                }

                if (newline == 0 && _afterNewline)
                {
                    replies++;
                    _afterNewline = false;
                    _atReplyStart = true;
                }
                else
                {
                    _afterNewline = true;
                }

                position += newline + 1;
            }
        }

        return replies;
    }
}
