# The Rto server with the messenger endpoint (gRPC, plaintext HTTP/2) on $MESSENGER_SERVER_PORT.
#   docker build -f server.dockerfile -t rto-messenger-server .
#   docker run -p 51075:51075 rto-messenger-server
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json nuget.config Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN dotnet publish src/Rto.Server/Rto.Server.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
# The messenger only; the metrics endpoint would need a writable data volume.
ENV MESSENGER_SERVER_PORT=51075 \
    Metrics__Enabled=false \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 51075
USER $APP_UID
ENTRYPOINT ["dotnet", "Rto.Server.dll"]
