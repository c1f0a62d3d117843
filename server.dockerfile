# The whole Rto server: every endpoint listens on all interfaces inside the container, and all
# state (metrics log, meter logs and plots, job data, RTO sessions and models) lives in /var/lib/rto.
#   docker build -f server.dockerfile -t rto-server .
#   docker run -v rto-data:/var/lib/rto -p 8888:8888 -p 27700:27700 -p 51075:51075 \
#              -p 44444:44444 -p 8090:8090 -p 5081:5081 -p 8091:8091 -p 8092:8092 rto-server
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json nuget.config Directory.Build.props Directory.Packages.props ./
COPY src/ src/
RUN dotnet publish src/Rto.Server/Rto.Server.csproj -c Release -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# FFTW makes FFT jobs about 30 times faster than the managed fallback.
RUN apt-get update && apt-get install -y --no-install-recommends libfftw3-double3 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# Relative data directories are taken from the working directory.
RUN mkdir -p /var/lib/rto && chown $APP_UID /var/lib/rto
WORKDIR /var/lib/rto
VOLUME /var/lib/rto
ENV Metrics__Address=0.0.0.0 \
    Jobs__Address=0.0.0.0 \
    Messenger__Address=0.0.0.0 \
    Meters__Address=0.0.0.0 \
    Optimization__Address=0.0.0.0 \
    Health__Address=0.0.0.0 \
    Console__Address=0.0.0.0 \
    ASPNETCORE_HTTP_PORTS=
EXPOSE 8888 27700 51075 44444 8090 5081 8091 8092
USER $APP_UID
ENTRYPOINT ["dotnet", "/app/Rto.Server.dll"]
