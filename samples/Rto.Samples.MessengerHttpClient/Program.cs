using Rto.Samples.MessengerHttpClient;

// MESSENGER_SERVER_ADDR (default localhost:51075) and MESSENGER_HTTP_PORT (default 8080) configure it.
await using WebApplication app = MessengerHttpClientApp.Build(args);
await app.RunAsync();
