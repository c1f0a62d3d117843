using System.Net;
using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rto.Protocols.Messenger;

namespace Rto.Server.Tests.Messenger.LateHeaders;

/// <summary>
/// A messenger server that opens streams the way grpc-python does: a stream's response headers
/// go out with its first message, never before. Kestrel in-process on a loopback port.
/// </summary>
internal sealed class LateHeaderMessengerServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LateHeaderMessengerServer(WebApplication app, ChatRoom room)
    {
        _app = app;
        Room = room;
        Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
    }

    public int Port { get; }

    public ChatRoom Room { get; }

    public static async Task<LateHeaderMessengerServer> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        var room = new ChatRoom();
        builder.Services.AddSingleton(room);
        builder.Services.AddGrpc();
        WebApplication app = builder.Build();
        app.MapGrpcService<Service>();
        await app.StartAsync();
        return new LateHeaderMessengerServer(app, room);
    }

    public async ValueTask DisposeAsync()
    {
        Room.Close();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>The open streams; <see cref="WaitForReadersAsync"/> lets a test wait for registrations instead of sleeping.</summary>
    internal sealed class ChatRoom
    {
        private readonly Lock _lock = new();
        private readonly List<Channel<ReadMessagesResponse>> _readers = [];
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Readers
        {
            get
            {
                lock (_lock)
                {
                    return _readers.Count;
                }
            }
        }

        public async Task WaitForReadersAsync(int count)
        {
            using var limit = new CancellationTokenSource(MessengerTestKit.WaitLimit);
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (_readers.Count >= count)
                    {
                        return;
                    }

                    changed = _changed.Task;
                }

                await changed.WaitAsync(limit.Token);
            }
        }

        public Channel<ReadMessagesResponse> Add()
        {
            Channel<ReadMessagesResponse> reader = Channel.CreateUnbounded<ReadMessagesResponse>();
            Change(() => _readers.Add(reader));
            return reader;
        }

        public void Remove(Channel<ReadMessagesResponse> reader) => Change(() => _readers.Remove(reader));

        public Timestamp Publish(string author, string text)
        {
            lock (_lock)
            {
                var message = new ReadMessagesResponse { Author = author, Text = text, SendTime = Timestamp.FromDateTime(DateTime.UtcNow) };
                foreach (Channel<ReadMessagesResponse> reader in _readers)
                {
                    reader.Writer.TryWrite(message);
                }

                return message.SendTime;
            }
        }

        public void Close()
        {
            lock (_lock)
            {
                foreach (Channel<ReadMessagesResponse> reader in _readers)
                {
                    reader.Writer.TryComplete();
                }
            }
        }

        private void Change(Action change)
        {
            TaskCompletionSource changed;
            lock (_lock)
            {
                change();
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }
    }

    private sealed class Service(ChatRoom room) : MessengerServer.MessengerServerBase
    {
        public override Task<SendMessageResponse> SendMessage(SendMessageRequest request, ServerCallContext context) =>
            Task.FromResult(new SendMessageResponse { SendTime = room.Publish(request.Author, request.Text) });

        public override async Task ReadMessages(ReadMessagesRequest request, IServerStreamWriter<ReadMessagesResponse> responseStream, ServerCallContext context)
        {
            // Registered at once, but no WriteResponseHeadersAsync: the first WriteAsync sends the headers.
            Channel<ReadMessagesResponse> reader = room.Add();
            try
            {
                await foreach (ReadMessagesResponse message in reader.Reader.ReadAllAsync(context.CancellationToken))
                {
                    await responseStream.WriteAsync(message);
                }
            }
            catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
            {
                // The client went away.
            }
            finally
            {
                room.Remove(reader);
            }
        }
    }
}
