using Rto.Server.Hosting;

await using WebApplication app = RtoServer.Build(args);
await app.RunAsync();
