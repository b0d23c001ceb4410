# MemSvc: the gRPC service that owns KVM (or simulated) VMs and their guest memory.
#
# Two ways to build, one runtime stage:
#   with a registry (the default target, "final"): the app is built in Microsoft's SDK image
#     docker build -t memsvc .
#   without a registry (this repository's CI): local base images and an app published on the host
#     deploy/build-image.sh            (publishes, then builds --target prebuilt)
# See deploy/README.md for both, and for running with /dev/kvm.
#
# Stage order matters for Docker's classic builder, which builds every stage before the target: "prebuilt"
# comes before "build", so that building it never needs the SDK image.

ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0

# ---- runtime: everything the image needs except the app ----------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="MemSvc" \
      org.opencontainers.image.description="gRPC service for KVM guest_memfd, memslots, private/shared memory attributes, conversions and memory-fault events (kvm or simulated backend)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/memsvc/memsvc" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.vendor="MemSvc"

# A fixed uid/gid, so that hosts can grant the socket directory and /dev/kvm to it. /dev/kvm's group differs
# from host to host, so it is given at run time: --group-add "$(stat -c %g /dev/kvm)".
RUN groupadd --system --gid 10001 memsvc \
 && useradd --system --uid 10001 --gid memsvc --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin memsvc \
 && install -d -o memsvc -g memsvc -m 0750 /run/memsvc \
 && install -d -o memsvc -g memsvc -m 0700 /var/lib/memsvc

# The socket's directory is a volume, so that node-local clients (or other containers) can reach the socket: it
# is the daemon's only interface by default. No TCP port is opened unless configured: MemSvc__LoopbackPort adds
# plaintext h2c on 127.0.0.1 (development only: every local user would share one caller there), MemSvc__Tls__*
# adds mTLS for remote orchestrators, MemSvc__HealthPort a health-only port for kubelet.
# The VM journals' files are a volume too: a daemon that dies (a crash, an OOM kill, a restart of the container)
# then reports its VMs lost with a final VM_LOST event instead of forgetting them. Mount a named volume there to
# keep them across a re-created container as well.
ENV MemSvc__SocketPath=/run/memsvc/memsvc.sock \
    MemSvc__Journal__Directory=/var/lib/memsvc/journal \
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 \
    DOTNET_gcServer=0
VOLUME ["/run/memsvc", "/var/lib/memsvc"]
WORKDIR /app
USER 10001:10001

# gRPC health (grpc.health.v1) through the socket, or the loopback port when the socket is elsewhere.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/memsvc-health-probe", "--timeout", "4"]

# SIGTERM starts a graceful shutdown: the host drains calls and stops vCPUs within its shutdown timeout.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/MemSvc.Server"]

# ---- prebuilt: the app published on the host (deploy/build-image.sh) --------------------------------------
FROM runtime AS prebuilt
COPY artifacts/docker/app/ /app/

# ---- build: the app published in the SDK image -------------------------------------------------------------
FROM ${SDK_IMAGE} AS build
ARG RID=linux-x64
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /src
# Project files first, so that the restore layer stays cached while only sources change.
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/MemSvc.Hypervisor/MemSvc.Hypervisor.csproj src/MemSvc.Hypervisor/
COPY src/MemSvc.Core/MemSvc.Core.csproj src/MemSvc.Core/
COPY src/MemSvc.Contracts/MemSvc.Contracts.csproj src/MemSvc.Contracts/
COPY src/MemSvc.Server/MemSvc.Server.csproj src/MemSvc.Server/
COPY deploy/MemSvc.HealthProbe/MemSvc.HealthProbe.csproj deploy/MemSvc.HealthProbe/
RUN dotnet restore src/MemSvc.Server/MemSvc.Server.csproj -r "$RID" \
 && dotnet restore deploy/MemSvc.HealthProbe/MemSvc.HealthProbe.csproj -r "$RID"
COPY protos/ protos/
COPY src/ src/
COPY deploy/MemSvc.HealthProbe/ deploy/MemSvc.HealthProbe/
# Self-contained: runtime-deps carries no .NET runtime. Both programs go to one folder and share its runtime.
RUN dotnet publish src/MemSvc.Server/MemSvc.Server.csproj -c Release -r "$RID" --self-contained --no-restore -o /out \
 && dotnet publish deploy/MemSvc.HealthProbe/MemSvc.HealthProbe.csproj -c Release -r "$RID" --self-contained --no-restore -o /out

# ---- final (default): the app built above --------------------------------------------------------------------
FROM runtime AS final
COPY --from=build /out/ /app/
