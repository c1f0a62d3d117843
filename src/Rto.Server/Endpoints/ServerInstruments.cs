using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rto.Server.Endpoints;

/// <summary>
/// The server's <see cref="System.Diagnostics.Metrics"/> instruments (meter <c>Rto.Server</c>), every
/// one tagged with the endpoint name, so <c>dotnet-counters monitor -n Rto.Server --counters Rto.Server</c>
/// shows each protocol separately. Recording with no listener attached costs a branch.
/// </summary>
public sealed class ServerInstruments
{
    /// <summary>The meter name to pass to dotnet-counters or an OpenTelemetry exporter.</summary>
    public const string MeterName = "Rto.Server";

    private readonly Counter<long> _connectionsOpened;
    private readonly UpDownCounter<long> _connectionsActive;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private readonly Histogram<double> _duration;

    public ServerInstruments(IMeterFactory meterFactory)
    {
        Meter meter = meterFactory.Create(MeterName);
        _connectionsOpened = meter.CreateCounter<long>("rto.connections.opened", "{connection}", "Connections accepted.");
        _connectionsActive = meter.CreateUpDownCounter<long>("rto.connections.active", "{connection}", "Connections open now.");
        _requests = meter.CreateCounter<long>("rto.requests", "{request}", "Requests handled (lines, JSON objects, readings or gRPC calls).");
        _errors = meter.CreateCounter<long>("rto.errors", "{error}", "Requests rejected or failed, by reason.");
        _bytesReceived = meter.CreateCounter<long>("rto.bytes.received", "By", "Bytes read from raw TCP clients.");
        _bytesSent = meter.CreateCounter<long>("rto.bytes.sent", "By", "Bytes written to raw TCP clients.");
        _duration = meter.CreateHistogram<double>(
            "rto.request.duration",
            "s",
            "gRPC: one call. TCP protocols: one batch of requests that arrived together, from its arrival to its replies being flushed; jobs: one request, from its arrival to its reply.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, EndpointInstruments> _endpoints = new(StringComparer.Ordinal);

    /// <summary>The instruments of one endpoint, with its tag built once.</summary>
    public EndpointInstruments For(string endpoint) => _endpoints.GetOrAdd(endpoint, static (name, owner) => new EndpointInstruments(owner, name), this);

    /// <summary>Records for one endpoint; cheap enough to call once per batch on a hot path.</summary>
    public sealed class EndpointInstruments
    {
        private readonly ServerInstruments _owner;
        private readonly KeyValuePair<string, object?> _endpoint;

        internal EndpointInstruments(ServerInstruments owner, string endpoint)
        {
            _owner = owner;
            _endpoint = new("endpoint", endpoint);
            Name = endpoint;
        }

        /// <summary>The endpoint name, as in the start-up banner.</summary>
        public string Name { get; }

        public void ConnectionOpened()
        {
            _owner._connectionsOpened.Add(1, _endpoint);
            _owner._connectionsActive.Add(1, _endpoint);
        }

        public void ConnectionClosed() => _owner._connectionsActive.Add(-1, _endpoint);

        public void Requests(long count)
        {
            if (count != 0)
            {
                _owner._requests.Add(count, _endpoint);
            }
        }

        public void Errors(string reason, long count = 1)
        {
            if (count != 0)
            {
                _owner._errors.Add(count, _endpoint, new KeyValuePair<string, object?>("reason", reason));
            }
        }

        public void BytesReceived(long count)
        {
            if (count != 0)
            {
                _owner._bytesReceived.Add(count, _endpoint);
            }
        }

        public void BytesSent(long count)
        {
            if (count != 0)
            {
                _owner._bytesSent.Add(count, _endpoint);
            }
        }

        /// <summary>True when someone listens to the duration histogram; skip reading the clock otherwise.</summary>
        public bool MeasuresDuration => _owner._duration.Enabled;

        /// <summary>Records the time since <paramref name="startTimestamp"/> (from <see cref="Stopwatch.GetTimestamp"/>).</summary>
        public void Duration(long startTimestamp)
        {
            if (startTimestamp != 0)
            {
                _owner._duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, _endpoint);
            }
        }
    }
}
