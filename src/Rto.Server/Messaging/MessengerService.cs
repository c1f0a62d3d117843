using System.Threading.Channels;
using Grpc.Core;
using Rto.Protocols.Messaging;

namespace Rto.Server.Messaging;

/// <summary>The <c>mes_grpc.MessengerServer</c> gRPC service: a thin shell over <see cref="ChatRoom"/>.</summary>
internal sealed partial class MessengerService(ChatRoom room, ILogger<MessengerService> logger) : MessengerServer.MessengerServerBase
{
    // Every message but the last one of a drained batch goes out without a flush of its own.
    private static readonly WriteOptions s_buffered = new(WriteFlags.BufferHint);

    public override Task<SendMessageResponse> SendMessage(SendMessageRequest request, ServerCallContext context)
    {
        if (!room.TryPublish(request.Author, request.Text, out ReadMessagesResponse message))
        {
            throw ShuttingDown();
        }

        return Task.FromResult(new SendMessageResponse { SendTime = message.SendTime });
    }

    public override async Task ReadMessages(ReadMessagesRequest request, IServerStreamWriter<ReadMessagesResponse> responseStream, ServerCallContext context)
    {
        using ChatSubscription subscription = room.Subscribe();

        // Headers go out only once the subscription exists: a client that has them knows every
        // message sent from then on will reach this stream.
        await context.WriteResponseHeadersAsync([]);
        LogOpened(subscription.Id, context.Peer);

        try
        {
            ChannelReader<ReadMessagesResponse> reader = subscription.Reader;
            while (await reader.WaitToReadAsync(context.CancellationToken))
            {
                while (reader.TryRead(out ReadMessagesResponse? message))
                {
                    responseStream.WriteOptions = reader.TryPeek(out _) ? s_buffered : null;

                    // Shutdown cancels a write stuck behind a reader that stopped reading.
                    await responseStream.WriteAsync(message, room.Closing);
                }
            }
        }
        catch (ReaderFellBehindException ex)
        {
            throw new RpcException(new Status(StatusCode.ResourceExhausted, ex.Message));
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            LogClosedByClient(subscription.Id, subscription.Dropped);
            return;
        }
        catch (OperationCanceledException) when (room.Closing.IsCancellationRequested)
        {
            // A write was stuck behind a client that stopped reading; end the call anyway.
        }

        // The buffer completed without an error: the room closed because the server is stopping.
        throw ShuttingDown();
    }

    private static RpcException ShuttingDown() => new(new Status(StatusCode.Unavailable, "The messenger server is shutting down."));

    [LoggerMessage(Level = LogLevel.Debug, Message = "Messenger stream {Subscription} opened by {Peer}")]
    private partial void LogOpened(long subscription, string peer);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Messenger stream {Subscription} closed by its client ({Dropped} messages dropped)")]
    private partial void LogClosedByClient(long subscription, long dropped);
}
