#!/usr/bin/env bash
# Builds the MemSvc image without a container registry: publishes the server and its health probe on this
# machine (self-contained, linux-x64), then builds the Dockerfile's "prebuilt" target on a local base image.
# With a registry, `docker build -t memsvc .` does everything inside Microsoft's SDK image instead.
#
# Usage: deploy/build-image.sh [IMAGE]          (default memsvc:local)
# Environment: RUNTIME_IMAGE (default memsvc-local/runtime-deps:bookworm, made by .ci/docker/base-images.sh),
#              RID (default linux-x64).
set -euo pipefail
cd "$(dirname "$0")/.."

image=${1:-memsvc:local}
runtime_image=${RUNTIME_IMAGE:-memsvc-local/runtime-deps:bookworm}
rid=${RID:-linux-x64}
out=artifacts/docker/app
started=$(date +%s)

if ! docker image inspect "$runtime_image" >/dev/null 2>&1; then
    echo "base image $runtime_image not found: make it with .ci/docker/base-images.sh, or set RUNTIME_IMAGE" >&2
    exit 1
fi

echo "[build-image] publishing to $out ($rid, self-contained)"
# A clean folder: files of an older publish must not end up in the image.
rm -rf "$out"
dotnet publish src/MemSvc.Server/MemSvc.Server.csproj -c Release -r "$rid" --self-contained -o "$out" -nologo -v quiet
dotnet publish deploy/MemSvc.HealthProbe/MemSvc.HealthProbe.csproj -c Release -r "$rid" --self-contained -o "$out" -nologo -v quiet
echo "[build-image] published ($(( $(date +%s) - started )) s)"

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
docker build --target prebuilt \
    --build-arg RUNTIME_IMAGE="$runtime_image" \
    --build-arg VERSION="0.0.0-$revision" \
    --build-arg REVISION="$revision" \
    --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -t "$image" . >/dev/null
echo "[build-image] built $image from $runtime_image ($(( $(date +%s) - started )) s)"
