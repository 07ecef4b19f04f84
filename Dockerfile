# syntax=docker/dockerfile:1
#
# The spectask image: the release `spectask` binary, its resource bundle (the database migrations), the topic
# definitions and the demo's plan, with librdkafka 2.8.0, on Debian bookworm. From the repository's root:
#
#   docker build -t spectask:0.1.0 .
#   docker run --rm spectask:0.1.0 version
#
# It runs `spectask worker` unless told otherwise (`docker run … spectask:0.1.0 migrate`, `topics apply`,
# `zed-runner`, …), with the admin HTTP (/health, /ready, /metrics, the read API) on 0.0.0.0:8081.
# deploy/README.md says how compose, Kubernetes and systemd use it.

# MARK: - Build

FROM swift:6.3-bookworm AS build

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# librdkafka's build dependencies. The -dev packages of its own dependencies stay for the Swift build as well:
# pkg-config resolves rdkafka.pc's Requires.private (zlib, libssl, libsasl2, libzstd, liblz4) even for --cflags.
# Versions are the ones bookworm ships: pinning exact Debian revisions would break the build as soon as a security
# update replaces them in the archive.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates g++ gcc liblz4-dev libsasl2-dev libssl-dev libzstd-dev make pkg-config python3 zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

# bookworm ships librdkafka 2.0.2, which fails against current brokers ("ApiVersionRequest failed: Local: Read
# underflow"), and bookworm-backports has none. As scripts/deps does, build Debian's own 2.8.0 source package
# (trixie's, fetched through apt, so from a signed index, and its checksum checked again here) into
# /opt/librdkafka; the binary finds it there through an rpath, in this stage and in the runtime image.
ARG LIBRDKAFKA_VERSION=2.8.0
ARG LIBRDKAFKA_DEBIAN_REVISION=1
ARG LIBRDKAFKA_ORIG_SHA256=5bd1c46f63265f31c6bfcedcde78703f77d28238eadf23821c2b43fc30be3e25
WORKDIR /src
RUN echo 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' \
        >/etc/apt/sources.list.d/trixie-src.list \
    && apt-get update \
    && apt-get source --download-only "librdkafka=${LIBRDKAFKA_VERSION}-${LIBRDKAFKA_DEBIAN_REVISION}" \
    && echo "${LIBRDKAFKA_ORIG_SHA256}  librdkafka_${LIBRDKAFKA_VERSION}.orig.tar.gz" | sha256sum -c - \
    && tar -xzf "librdkafka_${LIBRDKAFKA_VERSION}.orig.tar.gz" \
    && rm -rf /var/lib/apt/lists/* /etc/apt/sources.list.d/trixie-src.list
WORKDIR /src/librdkafka-${LIBRDKAFKA_VERSION}
RUN ./configure --prefix=/opt/librdkafka --disable-curl \
    && make -C src -j"$(nproc)" \
    && make -C src install
ENV PKG_CONFIG_PATH=/opt/librdkafka/lib/pkgconfig

WORKDIR /build

# The dependencies first, in a layer of their own that survives changes to the sources. Package.resolved is not
# part of the build context (.dockerignore): the one a checkout has may come from a local package mirror.
COPY Package.swift ./
RUN swift package resolve

COPY Sources ./Sources
COPY Tests ./Tests
COPY topics ./topics
COPY docs/examples ./docs/examples

# The Swift runtime is linked statically, so the runtime image needs no Swift toolchain; librdkafka stays a shared
# library found through the rpath. The binary goes to /staging with what it needs beside it: the resource bundle
# SwiftPM wrote next to it (spectask_SpecTaskStore.resources, the migrations; spectask_SpecTaskDashboard.resources,
# the dashboard's page), the static backtracer for readable
# crash reports, the topic definitions (`topics apply`) and the demo's plan (`demo`).
RUN swift build -c release --product spectask --static-swift-stdlib \
        -Xlinker -rpath -Xlinker /opt/librdkafka/lib \
    && bin="$(swift build -c release --show-bin-path)" \
    && mkdir -p /staging/docs \
    && cp "$bin/spectask" /staging/ \
    && find -L "$bin/" -maxdepth 1 -name '*.resources' -exec cp -R {} /staging/ \; \
    && test -d /staging/spectask_SpecTaskStore.resources \
    && test -d /staging/spectask_SpecTaskDashboard.resources \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/ \
    && cp -R topics /staging/topics \
    && cp -R docs/examples /staging/docs/examples \
    && /staging/spectask version

# MARK: - Runtime

FROM debian:bookworm-slim

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

# librdkafka's shared dependencies, libcurl for Foundation's networking, CA certificates for TLS to Kafka and
# PostgreSQL, time zones, and curl for the health check. Unpinned for the reason given in the build stage.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        ca-certificates curl libcurl4 liblz4-1 libsasl2-2 libssl3 libzstd1 tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/*

# A numeric user, so Kubernetes' runAsNonRoot can check it; it owns nothing in the image.
RUN groupadd --system --gid 10001 spectask \
    && useradd --system --uid 10001 --gid spectask --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin spectask

COPY --from=build /opt/librdkafka/lib/librdkafka.so.1 /opt/librdkafka/lib/
COPY --from=build /staging/ /opt/spectask/

ENV PATH=/opt/spectask:$PATH \
    SPECTASK_ADMIN_ADDRESS=0.0.0.0:8081 \
    SPECTASK_TOPICS_DIR=/opt/spectask/topics \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/opt/spectask/swift-backtrace-static

WORKDIR /opt/spectask

# Fails the image build when a shared library is missing; prints the librdkafka the binary loads.
RUN ["spectask", "version"]

LABEL org.opencontainers.image.title="spectask" \
      org.opencontainers.image.description="SpecTask worker, reference Zed runner and CLI (Kafka + PostgreSQL)" \
      org.opencontainers.image.version="0.1.0"

USER 10001:10001

# The worker's admin HTTP: GET /health (liveness), GET /ready (readiness), GET /metrics (Prometheus), the read API.
EXPOSE 8081

# Liveness of a worker. Other subcommands (migrate, topics apply, zed-runner) serve no admin HTTP: switch the check
# off for them (compose: `healthcheck: {disable: true}`).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8081/health"]

ENTRYPOINT ["spectask"]
CMD ["worker"]
