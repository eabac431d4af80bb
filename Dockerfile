# mtproto-auth in a container: the server as entrypoint, ephemeral by default.
#   docker build -t mtproto-auth .
#   docker run --rm -p 127.0.0.1:4431-4433:4431-4433 -p 127.0.0.1:8080:8080 mtproto-auth
# For records that outlive the container, mount a volume and drop --ephemeral:
#   docker run -v mtproto-data:/data … mtproto-auth --data-dir /data --listen 0.0.0.0:4431 …
# (compose.yaml has both.) Inside, every port is bound on 0.0.0.0 and clients are told
# --public-host (127.0.0.1: the host's end of the port mappings above).

FROM rust:1-bookworm AS build
# rust:1-bookworm carries libssl-dev and pkg-config, which the openssl crate builds against.
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin mtproto-auth

FROM debian:bookworm-slim
# The key exchange's and SRP's big-number work is OpenSSL's (the system's libssl3).
RUN apt-get update && apt-get install -y --no-install-recommends libssl3 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/mtproto-auth /usr/local/bin/mtproto-auth
RUN useradd --system --home-dir /data --create-home mtproto
USER mtproto
WORKDIR /data
VOLUME /data
EXPOSE 4431 4432 4433 8080
# The admin API's /health, asked by the binary itself (the image has no curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s --retries=3 \
    CMD ["mtproto-auth", "health", "--admin-http", "127.0.0.1:8080"]
ENTRYPOINT ["mtproto-auth", "serve"]
CMD ["--ephemeral", "--data-dir", "/data", "--listen", "0.0.0.0:4431", "--public-host", "127.0.0.1", \
     "--admin-http", "0.0.0.0:8080", "--admin-http-public"]
