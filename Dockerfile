# syntax=docker/dockerfile:1
#
# One image holding the three wirefeed services; the command chooses one:
#
#   docker build -t wirefeed .
#   docker run --rm wirefeed ingest --help
#   docker run --rm -e WIREFEED_HTTP_ADDR=:9103 -e WIREFEED_KAFKA_BROKERS=kafka:9092 wirefeed sink
#
# The services listen on 127.0.0.1 by default; in a container set
# WIREFEED_HTTP_ADDR (:9101 ingest, :9102 normalize, :9103 sink) so that
# Prometheus and the probes reach /metrics, /healthz and /readyz.
# deploy/compose.yaml and deploy/k8s do. See docs/operating.md.

ARG GO_VERSION=1.26

# ---------------------------------------------------------------- build
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cmd ./cmd
COPY internal ./internal
COPY pkg ./pkg
# Static binaries: no cgo, no file system paths in them.
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/bin/ ./cmd/ingest ./cmd/normalize ./cmd/sink
# The working folder and the default spool, owned by the non-root user, so
# that a volume mounted there starts out writable.
RUN mkdir -p /out/var/lib/wirefeed/spool

# ---------------------------------------------------------------- run
# distroless static: no shell, no package manager; user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/var/lib/wirefeed /var/lib/wirefeed
ENV PATH=/usr/local/bin:/usr/bin:/bin
WORKDIR /var/lib/wirefeed
USER 65532:65532
EXPOSE 9101 9102 9103
# No entrypoint: the command is the service (ingest, normalize or sink) and
# its flags. Without one, show what the image holds.
CMD ["ingest", "--help"]
