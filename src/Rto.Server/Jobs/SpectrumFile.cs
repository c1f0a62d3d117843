using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Parquet;
using Parquet.Schema;

namespace Rto.Server.Jobs;

/// <summary>
/// Writes an FFT task's result: one row per bin, columns <c>frequency_index</c> (INT64),
/// <c>re</c>, <c>im</c> and <c>magnitude</c> (DOUBLE), all required, Snappy-compressed, with
/// Parquet.Net — the schema the server has always written. The rows are produced and written one
/// row group at a time from two reused sets of buffers, so the write needs a few MiB whatever the
/// length, and no stream or pooled array ever holds a whole column.
/// </summary>
/// <remarks>
/// With two threads or more, a second thread (its own, never the thread pool's) produces the next
/// row group (the mirrored bins and their magnitudes, a third of the work) while the job's thread
/// has Parquet.Net encode, compress and write the current one.
/// </remarks>
internal static class SpectrumFile
{
    /// <summary>
    /// Rows per row group: 1 MiB per column chunk (one page each, the page size most Parquet writers
    /// use). Larger groups made the write slower, not faster: Parquet.Net then grows and copies
    /// large pooled streams, and keeps the largest array it rented in the shared pool afterwards.
    /// </summary>
    internal const int RowGroupRows = 1 << 17;

    /// <summary>
    /// Writes the full spectrum held by <paramref name="spectrum"/> to <paramref name="output"/>
    /// (which it closes), with up to <paramref name="threads"/> threads.
    /// </summary>
    public static void Write(Spectrum spectrum, FileStream output, int threads, CancellationToken cancellationToken)
    {
        using FileStream file = output;
        DataField[] fields = [new DataField<long>("frequency_index"), new DataField<double>("re"), new DataField<double>("im"), new DataField<double>("magnitude")];
        ParquetWriter writer = ParquetWriter.CreateAsync(new ParquetSchema(fields), file, JobExecutor.WriterOptions, cancellationToken: cancellationToken).GetAwaiter().GetResult();
        int rows = Math.Min(RowGroupRows, spectrum.Length);
        if (threads < 2 || spectrum.Length <= rows)
        {
            var group = new RowGroup(rows);
            long first = 0;
            do
            {
                // An empty column still gets its (empty) row group, as it always did.
                cancellationToken.ThrowIfCancellationRequested();
                group.Fill(spectrum, first);
                group.WriteTo(writer, fields, cancellationToken);
                first += group.Count;
            }
            while (first < spectrum.Length);
        }
        else
        {
            WritePipelined(spectrum, writer, fields, rows, cancellationToken);
        }

        // Writes the footer (Parquet.Net's writer is only asynchronously disposable). After a failure
        // there is none to write: the file is closed and the job's temporary folder removed.
        writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private static void WritePipelined(Spectrum spectrum, ParquetWriter writer, DataField[] fields, int rows, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var free = new BlockingCollection<RowGroup>(2) { new RowGroup(rows), new RowGroup(rows) };
        using var filled = new BlockingCollection<RowGroup>(2);
        Exception? failure = null;
        var producer = new Thread(() =>
        {
            try
            {
                for (long first = 0; first < spectrum.Length; first += rows)
                {
                    RowGroup group = free.Take(stop.Token);
                    group.Fill(spectrum, first);
                    filled.Add(group, stop.Token);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                failure = ex;
            }
            catch (OperationCanceledException)
            {
                // The writer stopped (failed or cancelled); it reports why.
            }
            finally
            {
                filled.CompleteAdding();
            }
        })
        {
            IsBackground = true,
            Name = "Rto job spectrum",
        };
        producer.Start();
        try
        {
            foreach (RowGroup group in filled.GetConsumingEnumerable(stop.Token))
            {
                group.WriteTo(writer, fields, stop.Token);
                free.Add(group, stop.Token);
            }
        }
        finally
        {
            stop.Cancel();
            producer.Join();
        }

        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }

    /// <summary>The rows of one row group, in buffers reused from group to group.</summary>
    private sealed class RowGroup(int rows)
    {
        private readonly long[] _index = new long[rows];
        private readonly double[] _re = new double[rows];
        private readonly double[] _im = new double[rows];
        private readonly double[] _magnitude = new double[rows];

        public int Count { get; private set; }

        public void Fill(Spectrum spectrum, long first)
        {
            Count = (int)Math.Min(_index.Length, spectrum.Length - first);
            for (int i = 0; i < Count; i++)
            {
                _index[i] = first + i;
            }

            spectrum.CopyBins(first, _re.AsSpan(0, Count), _im.AsSpan(0, Count), _magnitude.AsSpan(0, Count));
        }

        public void WriteTo(ParquetWriter writer, DataField[] fields, CancellationToken cancellationToken) =>
            WriteToAsync(writer, fields, cancellationToken).GetAwaiter().GetResult();

        private async Task WriteToAsync(ParquetWriter writer, DataField[] fields, CancellationToken cancellationToken)
        {
            // The file is a synchronous FileStream: these awaits complete on this thread.
            using ParquetRowGroupWriter group = writer.CreateRowGroup();
            await group.WriteAsync<long>(fields[0], _index.AsMemory(0, Count), cancellationToken: cancellationToken);
            await group.WriteAsync<double>(fields[1], _re.AsMemory(0, Count), cancellationToken: cancellationToken);
            await group.WriteAsync<double>(fields[2], _im.AsMemory(0, Count), cancellationToken: cancellationToken);
            await group.WriteAsync<double>(fields[3], _magnitude.AsMemory(0, Count), cancellationToken: cancellationToken);
        }
    }
}
