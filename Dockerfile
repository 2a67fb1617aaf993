# The Segment connector (segment-cli) as a container for ConductorOne service mode.
# Build: docker build -t baton-segment:latest .
# Run:   the image's entrypoint is the binary and it takes no arguments; service mode starts
#        from BATON_CLIENT_ID / BATON_CLIENT_SECRET / BATON_TOKEN in the environment
#        (deploy/kubernetes/). Without BATON_CLIENT_ID it syncs once, as the CLI does.

# --- build: release binary; SQLite and zstd are bundled C sources, TLS is rustls (ring) ----
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p segment-cli \
 && cp target/release/segment-cli /segment-cli

# --- runtime: glibc + libgcc only, no shell, non-root (numeric uid for runAsNonRoot) -------
# The TLS roots are compiled into the binary (Mozilla's bundle), so no CA package is needed.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /segment-cli /usr/local/bin/segment-cli
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/segment-cli"]
