# Shared by the .ci/docker scripts: where state lives and how steps report themselves.
# Sourced, not run.

# Outside the clone, so that a fresh CI clone on the same machine reuses what an earlier run made.
MEMSVC_CI_CACHE=${MEMSVC_CI_CACHE:-/var/cache/memsvc-ci}
MEMSVC_CI_RUN=${MEMSVC_CI_RUN:-/run/memsvc-ci}
# The local stand-ins for mcr.microsoft.com/dotnet/runtime-deps:10.0 and sdk:10.0.
MEMSVC_RUNTIME_BASE=${MEMSVC_RUNTIME_BASE:-memsvc-local/runtime-deps:bookworm}
MEMSVC_SDK_BASE=${MEMSVC_SDK_BASE:-memsvc-local/sdk:bookworm}
MEMSVC_IMAGE=${MEMSVC_IMAGE:-memsvc:local}
# The stand-in for the collector image docker-compose.yml names (otel-collector-image.sh); ComposeUpTests looks
# for it under this name.
MEMSVC_OTELCOL_IMAGE=${MEMSVC_OTELCOL_IMAGE:-memsvc-local/otelcol:core}

step_started=$(date +%s)
say() { echo "[$(basename "$0")] $*"; }
took() { say "$* ($(( $(date +%s) - step_started )) s)"; }
