FROM rust:1-slim AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin kinesd

FROM debian:bookworm-slim
COPY --from=build /src/target/release/kinesd /usr/local/bin/kinesd
# Not root: the data directory belongs to an unprivileged user.
RUN useradd --system --uid 10001 --no-create-home kinesd \
    && mkdir /data && chown kinesd /data
USER kinesd
VOLUME /data
EXPOSE 4567
# kinesd healthcheck: GET /health over plain HTTP, exit 0 or 1 (the image has no curl).
HEALTHCHECK --interval=10s --timeout=5s --start-period=5s CMD ["kinesd", "healthcheck", "--port", "4567"]
ENTRYPOINT ["kinesd", "--host", "0.0.0.0", "--port", "4567", "--data-dir", "/data"]
