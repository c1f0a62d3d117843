using Rto.Client;
using Rto.Client.Messenger;

namespace Rto.Samples.MessengerHttpClient;

/// <summary>
/// Keeps one <c>ReadMessages</c> stream open and copies what arrives into the
/// <see cref="MessageBuffer"/>. A broken stream is reopened (on the next server, when there are
/// several: <see cref="MessengerServers"/>) after a back-off that starts at
/// <see cref="MessengerHttpSettings.ReconnectInitialDelay"/> and doubles (with jitter) up to
/// <see cref="MessengerHttpSettings.ReconnectMaxDelay"/>; it resets once a stream opens.
/// </summary>
public sealed partial class MessageStreamReader(
    MessengerServers servers, MessageBuffer buffer, MessengerHttpSettings settings, ILogger<MessageStreamReader> logger) : BackgroundService
{
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _isOpen;
    private int _opened;

    /// <summary>Whether the stream is open now.</summary>
    public bool IsOpen => _isOpen;

    /// <summary>How many times a stream has been opened since start-up.</summary>
    public int TimesOpened => Volatile.Read(ref _opened);

    /// <summary>
    /// Starts reading and waits (a little longer than the open timeout, which a server that
    /// sends headers late always takes) for the first attempt to open the stream, so that once
    /// the HTTP interface answers, a reachable server's messages are already being buffered. An
    /// unreachable server does not hold up start-up.
    /// </summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await base.StartAsync(cancellationToken);
        TimeSpan wait = settings.OpenTimeout + TimeSpan.FromSeconds(1);
        try
        {
            await _firstAttempt.Task.WaitAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            LogSlowStart(servers.Address, wait.TotalSeconds);
        }
    }

    /// <summary>Completes once <paramref name="condition"/> holds (checked whenever the stream opens or closes).</summary>
    public async Task WaitUntilAsync(Func<MessageStreamReader, bool> condition, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (true)
        {
            Task changed = Volatile.Read(ref _changed).Task;
            if (condition(this))
            {
                return;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan delay = settings.ReconnectInitialDelay;
        while (!stoppingToken.IsCancellationRequested)
        {
            Uri address = servers.Address;
            try
            {
                using MessageSubscription subscription = await servers.SubscribeAsync(stoppingToken);
                address = servers.Address;
                delay = settings.ReconnectInitialDelay;
                buffer.ForgetSent();
                SetOpen(true);
                LogOpened(address);
                await foreach (ChatMessage message in subscription.ReadAllAsync(stoppingToken))
                {
                    buffer.Add(new BufferedMessage(message.Author, message.Text, message.SendTimeText), message.SendTime);
                }

                LogEndedByServer(address);
                servers.MoveOn(address);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (MessengerClientException ex)
            {
                LogBroken(ex.ErrorKind, ex.Message, delay.TotalMilliseconds);
                servers.MoveOn(address);
            }
            catch (Exception ex)
            {
                LogFailed(ex, delay.TotalMilliseconds);
            }
            finally
            {
                SetOpen(false);
            }

            _firstAttempt.TrySetResult();
            try
            {
                // Jitter keeps many clients from reconnecting in lock-step after a server restart.
                await Task.Delay(delay * (0.8 + (0.4 * Random.Shared.NextDouble())), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, settings.ReconnectMaxDelay.Ticks));
        }
    }

    private void SetOpen(bool open)
    {
        if (open)
        {
            Interlocked.Increment(ref _opened);
            _firstAttempt.TrySetResult();
        }

        _isOpen = open;
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Message stream open at {Address}")]
    private partial void LogOpened(Uri address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The server at {Address} ended the message stream; reopening")]
    private partial void LogEndedByServer(Uri address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message stream unavailable ({Error}): {Reason}; retrying in {DelayMs:0} ms")]
    private partial void LogBroken(ClientErrorKind error, string reason, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Message stream failed; retrying in {DelayMs:0} ms")]
    private partial void LogFailed(Exception exception, double delayMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The message stream at {Address} did not open within {Seconds:0.#} s; serving HTTP while it keeps trying")]
    private partial void LogSlowStart(Uri address, double seconds);
}
