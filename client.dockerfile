# The HTTP-driven messenger client: HTTP on $MESSENGER_HTTP_PORT, gRPC server at $MESSENGER_SERVER_ADDR.
#   docker build -f client.dockerfile -t rto-messenger-client .
#   docker run -p 8080:8080 -e MESSENGER_SERVER_ADDR=host.docker.internal:51075 rto-messenger-client
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json nuget.config Directory.Build.props Directory.Packages.props ./
COPY src/ src/
COPY samples/Rto.Samples.MessengerHttpClient/ samples/Rto.Samples.MessengerHttpClient/
RUN dotnet publish samples/Rto.Samples.MessengerHttpClient/Rto.Samples.MessengerHttpClient.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
ENV MESSENGER_SERVER_ADDR=localhost:51075 \
    MESSENGER_HTTP_PORT=8080 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 8080
USER $APP_UID
ENTRYPOINT ["dotnet", "Rto.Samples.MessengerHttpClient.dll"]
