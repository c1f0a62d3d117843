using System.IO.Pipelines;
using Grpc.Core;
using Rto.Protocols.Messenger;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;

namespace Rto.Server.Messenger;

/// <summary>The <c>mes_grpc.MessengerServer</c> gRPC service: a thin shell over <see cref="IMessageSequencer"/> (sends) and <see cref="ChatRoom"/> (streams).</summary>
/// <remarks>
/// Streams are written below grpc-dotnet's per-message <c>WriteAsync</c>: each message is
/// serialized once into a gRPC frame (<see cref="ChatEntry.Frame"/>) and every stream copies the
/// frames that are ready into its response body and flushes once per batch. With 100 streams that
/// is one serialization instead of 100, and one flush per batch instead of one per message. The
/// framing is the plain gRPC one (no per-message compression is configured for this service).
/// </remarks>
[BindServiceMethod(typeof(MessengerService), nameof(BindService))]
internal sealed partial class MessengerService(ChatRoom room, IMessageSequencer sequencer, ILogger<MessengerService> logger) : MessengerServer.MessengerServerBase
{
    /// <summary>The service's descriptor, where gRPC reflection looks for it: beside the bind method.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => MessengerServer.Descriptor;

    /// <summary>Binds the generated methods so that a request that is not valid protobuf is INVALID_ARGUMENT (the second parameter must be the generated base: grpc-dotnet looks the methods up on it).</summary>
    public static void BindService(ServiceBinderBase binder, MessengerServer.MessengerServerBase service) =>
        MessengerServer.BindService(GrpcRequestValidation.Validating(binder), service);

    public override async Task<SendMessageResponse> SendMessage(SendMessageRequest request, ServerCallContext context)
    {
        try
        {
            return new SendMessageResponse { SendTime = await sequencer.SendAsync(request.Author, request.Text, context.CancellationToken) };
        }
        catch (ChatClosedException)
        {
            throw ShuttingDown();
        }
        catch (ClusterUnavailableException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
        catch (ClusterUnconfirmedException ex)
        {
            // gRPC's code for "may have completed": a client that retries may send the message twice.
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, ex.Message));
        }
    }

    public override async Task ReadMessages(ReadMessagesRequest request, IServerStreamWriter<ReadMessagesResponse> responseStream, ServerCallContext context)
    {
        try
        {
            sequencer.ThrowIfCannotRead();
        }
        catch (ClusterUnavailableException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }

        using ChatSubscription subscription = room.Subscribe();

        // Headers go out only once the subscription exists: a client that has them knows every
        // message sent from then on will reach this stream.
        await context.WriteResponseHeadersAsync([]);
        LogOpened(context.Peer);

        PipeWriter body = context.GetHttpContext().Response.BodyWriter;
        CancellationToken aborted = context.CancellationToken;
        try
        {
            while (true)
            {
                await subscription.WaitAsync(aborted);

                // Let messages published meanwhile join this batch: under load one flush then
                // carries many messages instead of one each; an idle stream loses microseconds.
                await Task.Yield();

                ChatReadStatus status = CopyReadyFrames(subscription, body);

                // Shutdown cancels a flush stuck behind a client that stopped reading.
                await body.FlushAsync(room.Closing);

                if (status == ChatReadStatus.FellBehind)
                {
                    LogFellBehind(context.Peer, room.Capacity);
                    throw new RpcException(new Status(StatusCode.ResourceExhausted,
                        $"This stream fell more than {room.Capacity} messages behind and was closed (Messenger:SlowReader=Disconnect); open a new stream to continue."));
                }

                if (status == ChatReadStatus.Closed)
                {
                    throw ShuttingDown();
                }
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            LogClosedByClient(context.Peer, subscription.Dropped);
        }
        catch (OperationCanceledException) when (room.Closing.IsCancellationRequested)
        {
            throw ShuttingDown();
        }
    }

    /// <summary>Copies every ready frame into <paramref name="body"/>, a few KiB buffer at a time.</summary>
    private static ChatReadStatus CopyReadyFrames(ChatSubscription subscription, PipeWriter body)
    {
        Span<byte> buffer = body.GetSpan();
        int used = 0;
        ChatReadStatus status;
        while ((status = subscription.TryRead(out ChatEntry? entry)) == ChatReadStatus.Message)
        {
            ReadOnlySpan<byte> frame = entry!.Frame;
            while (!frame.IsEmpty)
            {
                if (used == buffer.Length)
                {
                    body.Advance(used);
                    buffer = body.GetSpan();
                    used = 0;
                }

                int n = Math.Min(frame.Length, buffer.Length - used);
                frame[..n].CopyTo(buffer[used..]);
                used += n;
                frame = frame[n..];
            }
        }

        body.Advance(used);
        return status;
    }

    private static RpcException ShuttingDown() => new(new Status(StatusCode.Unavailable, "The messenger server is shutting down."));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Messenger stream opened by {Peer}")]
    private partial void LogOpened(string peer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Messenger stream of {Peer} closed by its client ({Dropped} messages dropped)")]
    private partial void LogClosedByClient(string peer, long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Messenger stream of {Peer} fell more than {Capacity} messages behind and is disconnected")]
    private partial void LogFellBehind(string peer, int capacity);
}
