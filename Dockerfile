# cfcookies: one static Go binary on distroless, running as uid 65532.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t cfcookies .
#   docker build --build-arg GOFIPS140=v1.0.0 -t cfcookies:fips .   # FIPS 140-3
#
# Both base images are build arguments, so the image builds where their
# registry is unreachable: point them at a mirror or at local images
# (deploy/image_test.go builds this file offline with buildah that way).
#
# GO_IMAGE is pinned to the exact Go release go.mod requires (GOTOOLCHAIN=local
# below refuses to download another one). It carries no digest because none
# could be resolved from the machine this was written on, which reaches no
# image registry; add it with `crane digest golang:1.26.8-bookworm` and keep
# the tag beside it for people.
# RUNTIME_IMAGE is pinned by digest: the :nonroot tag moves with every Debian
# update. It is the digest the tag pointed to on 2026-08-26; refresh it with
# `crane digest gcr.io/distroless/static-debian12:nonroot`.
ARG GO_IMAGE=golang:1.26.8-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab

FROM ${GO_IMAGE} AS build
# GOPROXY may name a module mirror, or a file:// proxy for an offline build.
ARG GOPROXY
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
WORKDIR /src
# Modules first: this layer is rebuilt only when a go.mod or go.sum changes.
# go.mod replaces the library modules with their directories, ./signer and
# ./kmssigner, so their go.mod and go.sum must be there before go mod download.
COPY go.mod go.sum ./
COPY signer/go.mod signer/go.sum ./signer/
COPY kmssigner/go.mod kmssigner/go.sum ./kmssigner/
RUN go mod download
COPY . .
# VERSION comes after the module layer so a new version reuses it.
ARG VERSION=dev
# GOFIPS140 selects the Go Cryptographic Module compiled in: off (the
# default) is the standard library as usual; v1.0.0 is the frozen,
# CMVP-validated module Go 1.26 ships (inprocess, v1.26.0, is the one under
# validation). Any value but off makes GODEBUG=fips140=on the
# binary's default; set GODEBUG=fips140=only in the task to enforce it.
# See "FIPS 140-3" in the README.
ARG GOFIPS140=off
RUN GOFIPS140=${GOFIPS140} go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/cfcookies ./cmd/server

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/cfcookies /cfcookies
# All interfaces inside the container; the task's security group decides who
# reaches them. Metrics are on their own port: keep 9090 off the load balancer.
ENV LISTEN_ADDR=:8080 METRICS_ADDR=:9090
USER 65532:65532
EXPOSE 8080 9090
# No shell or curl in the image: the binary probes its own /healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 CMD ["/cfcookies", "healthcheck"]
# SIGTERM starts a graceful shutdown of at most 20 s (config.ShutdownTimeout):
# give the orchestrator a longer stop timeout (ECS stopTimeout 30 s or more).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/cfcookies"]
CMD ["serve"]
