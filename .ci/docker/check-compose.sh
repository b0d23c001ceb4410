#!/usr/bin/env bash
# Checks that docker-compose.yml is valid for the compose tool installed here (docker-compose v1 from Debian,
# or the `docker compose` plugin where it exists). ComposeUpTests (tests/MemSvc.IntegrationTests) brings it up.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$(dirname "$0")/../.."

if docker compose version >/dev/null 2>&1; then
    compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
    compose=(docker-compose)
else
    say "no compose tool (docker compose or docker-compose)"
    exit 1
fi

# KVM_GID is required (compose refuses to start without it, naming the fix); check both that and a valid file.
if KVM_GID= "${compose[@]}" -f docker-compose.yml config --quiet 2>/dev/null; then
    say "docker-compose.yml accepted a missing KVM_GID"
    exit 1
fi
KVM_GID=994 "${compose[@]}" -f docker-compose.yml config --quiet
took "docker-compose.yml is valid ($("${compose[@]}" version --short 2>/dev/null || echo "${compose[*]}"))"
