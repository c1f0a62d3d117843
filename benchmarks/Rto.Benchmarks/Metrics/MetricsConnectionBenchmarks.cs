using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Rto.Server.Metrics;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// The metrics connection handler as Kestrel drives it, minus the socket: a batch of
/// <see cref="Puts"/> pipelined puts is written into the connection's input pipe, the handler's
/// read loop frames, parses, stores, commits the log once and flushes the replies into the output
/// pipe. Pipes run their continuations inline, so one invocation is one whole batch on this thread.
/// 256 puts show the per-put cost of a pipelined batch; 1 put shows the per-batch cost of the loop.
/// </summary>
/// <remarks>
/// Puts overwrite the same points each time (the store's steady state), so what is measured
/// is the per-batch cost of the loop and the protocol, and whether it allocates.
/// </remarks>
[MemoryDiagnoser]
public class MetricsConnectionBenchmarks
{

    private readonly Pipe _input = new(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    private readonly Pipe _output = new(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
    private byte[] _batch = [];
    private TempMetricStore? _temp;
    private ServiceProvider? _services;
    private Task _connection = Task.CompletedTask;

    /// <summary>Puts per batch (per read).</summary>
    [Params(1, 256)]
    public int Puts { get; set; } = 256;

    [GlobalSetup]
    public void Setup()
    {
        _temp = TempMetricStore.Create();
        var batch = new StringBuilder();
        for (int i = 0; i < Puts; i++)
        {
            batch.Append("put bench.k").Append(i).Append(" 10.5 1700000000\n");
        }

        _batch = Encoding.ASCII.GetBytes(batch.ToString());
        _services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton(_temp.Store)
            .AddSingleton(Options.Create(new MetricsOptions()))
            .AddSingleton<Rto.Server.Endpoints.ServerInstruments>()
            .BuildServiceProvider();
        ConnectionHandler handler = ActivatorUtilities.CreateInstance<MetricsConnectionHandler>(_services);
        var context = new DefaultConnectionContext("bench", new DuplexPipe(_input.Reader, _output.Writer), new DuplexPipe(_output.Reader, _input.Writer));
        _connection = handler.OnConnectedAsync(context);
        PutBatch();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _input.Writer.Complete();
        _connection.GetAwaiter().GetResult();
        _services?.Dispose();
        _temp?.Dispose();
    }

    /// <summary>One read of <see cref="Puts"/> puts: frame, parse, store, one log commit, one flush of the <c>ok</c>s. Reported per batch.</summary>
    [Benchmark]
    public long PutBatch()
    {
        _input.Writer.Write(_batch);
        _input.Writer.FlushAsync().GetAwaiter().GetResult();
        if (!_output.Reader.TryRead(out ReadResult replies) || replies.Buffer.Length != Puts * 4)
        {
            throw new InvalidOperationException($"Expected {Puts} replies of 4 bytes, got {(replies.Buffer.IsEmpty ? 0 : replies.Buffer.Length)} bytes.");
        }

        long length = replies.Buffer.Length;
        _output.Reader.AdvanceTo(replies.Buffer.End);
        return length;
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
