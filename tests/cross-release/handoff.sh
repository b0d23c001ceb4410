#!/bin/bash
# Live upgrade across two releases, both ways: a VM whose vCPU waits on an ORCHESTRATOR fault, on a journal
# directory, handed from A to B and back to A with `memsvcctl daemon upgrade`; every hop must keep the VM and the
# pending fault, and resolving it afterwards must run the guest program to its halt.
#
#   tests/cross-release/handoff.sh PREVIOUS_SERVER_DLL THIS_SERVER_DLL
#
# e.g. a release before this one against this build (0bd7c0d speaks handoff version 2, b8d472c 3; this build 2 and
# 3; run against both, both ways, and passed):
#   git worktree add /tmp/previous b8d472c && dotnet build -c Release /tmp/previous/src/MemSvc.Server
#   dotnet build -c Release src/MemSvc.Server src/MemSvc.Cli
#   tests/cross-release/handoff.sh /tmp/previous/src/MemSvc.Server/bin/Release/net10.0/MemSvc.Server.dll \
#       src/MemSvc.Server/bin/Release/net10.0/MemSvc.Server.dll
set -euo pipefail
[ $# -eq 2 ] || { sed -n 2,13p "$0"; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib/guest-waiting-on-fault.sh"
previous=$(realpath "$1"); current=$(realpath "$2")
work=$(mktemp -d /tmp/memsvc-cross-release.XXXXXX)
ctl() { dotnet "$root/src/MemSvc.Cli/bin/Release/net10.0/memsvcctl.dll" --socket "$work/memsvc.sock" --color never "$@"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
cleanup() { pkill -f -- "--MemSvc:SocketPath=$work/memsvc.sock" || true; }
trap cleanup EXIT

run() {
    local first=$1 second=$2
    cleanup; rm -rf "$work/journal" "$work"/memsvc.sock*
    echo "== $first -> $second -> $first"
    dotnet "$first" --MemSvc:SocketPath="$work/memsvc.sock" --MemSvc:DefaultBackend=simulated --MemSvc:OpenKvm=false \
        --MemSvc:Journal:Directory="$work/journal" > "$work/first.log" 2>&1 &
    for _ in $(seq 200); do ctl host info > /dev/null 2>&1 && break; sleep 0.1; done
    guest_waiting_on_fault || fail "the guest VM does not wait on fault 1"
    for server in "$second" "$first"; do
        local out
        out=$(ctl daemon upgrade --server "$server" --log "$work/upgrade.log") || fail "upgrade to $server: $out"
        echo "$out" | grep "^upgraded" || true
        echo "$out" | grep -q "1 of 1 VMs of uid [0-9]* kept" || fail "the VM was not kept: $out"
        ctl vcpu get guest 0 | grep -q "waiting on fault 1" || fail "fault 1 is no longer pending after the upgrade to $server"
    done
    ctl fault resolve guest 1 --action convert > /dev/null
    for _ in $(seq 100); do ctl vcpu get guest 0 | grep -q "halted" && break; sleep 0.1; done
    ctl vcpu get guest 0 | grep -q "the guest program halted" || fail "the program did not halt: $(ctl vcpu get guest 0)"
    echo "kept through both hops; the fault resolved after them; the program halted"
}

run "$previous" "$current"
run "$current" "$previous"
echo "cross-release handoff: passed both ways"
