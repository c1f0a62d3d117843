using Grpc.Core;
using Grpc.Net.Client;
using Rto.Client.Messenger;
using Rto.Protocols.Messenger;

namespace Rto.Server.Tests.Cluster;

/// <summary>What became of one send in a failure test.</summary>
internal enum SendOutcome
{
    /// <summary>Acknowledged: it must reach every reader.</summary>
    Acknowledged,

    /// <summary>The node answered <c>UNAVAILABLE</c> "… the message was not sent": it must reach no reader.</summary>
    Refused,

    /// <summary>
    /// <c>DEADLINE_EXCEEDED</c> (JetStream did not confirm it) or the connection failed under the
    /// call (the node died, or was not there): it may or may not reach the readers.
    /// </summary>
    Unknown,
}

/// <summary>
/// Sends through the generated gRPC stub, so a test sees the server's exact status code and text
/// (the typed client turns a DEADLINE_EXCEEDED into a cancellation).
/// </summary>
internal sealed class ChatSender(string address) : IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress($"http://{address}");

    public MessengerServer.MessengerServerClient Stub => new(_channel);

    /// <summary>Sends; returns the outcome and, when acknowledged, the send time's text.</summary>
    public async Task<(SendOutcome Outcome, string? SendTime, string? Detail)> SendAsync(string author, string text)
    {
        try
        {
            SendMessageResponse reply = await Stub.SendMessageAsync(new SendMessageRequest { Author = author, Text = text }, deadline: DateTime.UtcNow.AddSeconds(15));
            return (SendOutcome.Acknowledged, MessengerTime.ToText(reply.SendTime), null);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Status.Detail.Contains("the message was not sent", StringComparison.Ordinal))
        {
            return (SendOutcome.Refused, null, ex.Status.Detail);
        }
        catch (RpcException ex) when (ex.StatusCode is StatusCode.DeadlineExceeded or StatusCode.Unavailable)
        {
            return (SendOutcome.Unknown, null, $"{ex.StatusCode}: {ex.Status.Detail}");
        }
    }

    public void Dispose() => _channel.Dispose();
}
