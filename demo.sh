#!/usr/bin/env bash
# A newcomer's first run: build MemSvc, start it on its defaults (the simulated backend when /dev/kvm is
# absent), run the narrated main flow against it with `memsvcctl demo`, and keep serving until Ctrl-C so that
# a second terminal can look around (`./memsvcctl vm list`, `./memsvcctl events watch --from 1`).
#   ./demo.sh          demo, then keep serving
#   ./demo.sh --once   demo, then stop (what CI runs)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
once=false
[ "${1:-}" = "--once" ] && once=true

echo "== building MemSvc (Release)"
dotnet build "$root/src/MemSvc.Server" -c Release -v quiet -nologo
dotnet build "$root/src/MemSvc.Cli" -c Release -v quiet -nologo

log=$(mktemp --suffix=.memsvc.log)
echo "== starting MemSvc (log: $log)"
# Development: the Unix socket plus h2c on 127.0.0.1:50051, as `dotnet run --project src/MemSvc.Server` does.
ASPNETCORE_ENVIRONMENT=Development dotnet "$root/src/MemSvc.Server/bin/Release/net10.0/MemSvc.Server.dll" >"$log" 2>&1 &
server=$!
trap 'kill -TERM $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
ctl=(dotnet "$root/src/MemSvc.Cli/bin/Release/net10.0/memsvcctl.dll" --address http://127.0.0.1:50051)

for _ in $(seq 1 120); do
    if grep -q 'Application started' "$log"; then break; fi
    if ! kill -0 $server 2>/dev/null; then echo "MemSvc did not start:"; cat "$log"; exit 1; fi
    sleep 0.5
done
"${ctl[@]}" host info

echo "== the main flow: an orchestrator resolves a confidential VM's memory faults over gRPC"
"${ctl[@]}" demo --vm-id demo --keep

if $once; then
    exit 0
fi
echo
echo "MemSvc keeps serving (Ctrl-C stops it). In another terminal, try:"
echo "  ./memsvcctl --address http://127.0.0.1:50051 vm get demo        # the memory map of the demo VM"
echo "  ./memsvcctl --address http://127.0.0.1:50051 events watch --vm demo --from 1"
grep -m1 -o 'unix:[^ ]*' "$log" || true
wait $server
