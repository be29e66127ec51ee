FROM rust:1-slim AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin kinesd

FROM debian:bookworm-slim
COPY --from=build /src/target/release/kinesd /usr/local/bin/kinesd
VOLUME /data
EXPOSE 4567
ENTRYPOINT ["kinesd", "--host", "0.0.0.0", "--port", "4567", "--data-dir", "/data"]
