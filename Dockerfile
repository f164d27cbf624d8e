# Build: the ryzeapi binary in release mode.
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p ryzeapi-app --bin ryzeapi

# Run: a slim image with libpq and the binary.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/ryzeapi --create-home ryzeapi
COPY --from=build /src/target/release/ryzeapi /usr/local/bin/ryzeapi
USER ryzeapi
WORKDIR /var/lib/ryzeapi
ENV LISTEN_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/ryzeapi"]
CMD ["serve"]
