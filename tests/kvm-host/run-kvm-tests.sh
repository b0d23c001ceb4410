#!/usr/bin/env bash
# Runs MemSvc's kvm tests against a real KVM: on this machine when /dev/kvm opens, and inside a QEMU guest with a
# nested KVM (upstream Debian kernel, guest_memfd, real KVM_EXIT_MEMORY_FAULT; see README.md beside this file)
# when it does not. Build first (dotnet build MemSvc.sln -c Release); the test executables run as built.
#
#   tests/kvm-host/run-kvm-tests.sh [Release|Debug]
#
# The nested guest boots Debian sid's current kernel (guest_memfd, memory attributes) by default;
# NKVM_KERNEL_FROM=host boots this machine's own Debian kernel instead (bookworm's 6.1: no guest_memfd and no
# KVM_SET_USER_MEMORY_REGION2, as on most hosts before 6.8), NKVM_KERNEL_FROM=trixie-backports the newest 6.18 there
# (the kvm_pvm hosts' kernel series; NKVM_KSERIES picks another), each with its own cache folder.
#
# Prints ran/passed/failed/skipped per capability. Exits 0 when every test passed or was skipped for a capability
# the host lacks, 1 when a test failed, 3 when no KVM could be had (no /dev/kvm and no QEMU, or the guest gave no
# result: boot failure, timeout); the kvm tests then ran only as skips in the host run.
# Environment: NKVM_CACHE (default /var/cache/memsvc-nested-kvm, else $TMPDIR), NKVM_TIMEOUT (default 600 s),
# MEMSVC_KVM_RESULTS (where results go; default a fresh temporary folder), MEMSVC_KVM_BENCH=1 (also run the load
# driver's kvm exit-loop row, --quick, on the same KVM, and print its table), MEMSVC_KVM_PROFILE=NAME (also check
# that the host is the shape of that simulated host profile, listing every difference), MEMSVC_KVM_SLOW_TESTS=1 (in
# the nested guest, also the tests that start two server processes on KVM: ~10 minutes more; raise NKVM_TIMEOUT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
config=${1:-Release}
results=${MEMSVC_KVM_RESULTS:-$(mktemp -d "${TMPDIR:-/tmp}/memsvc-kvm.XXXXXX")}
mkdir -p "$results"
rm -f "$results"/*.xml "$results/capabilities.log"
hyp="tests/MemSvc.Hypervisor.Tests/bin/$config/net10.0"
srv="tests/MemSvc.Server.Tests/bin/$config/net10.0"
for exe in "$hyp/MemSvc.Hypervisor.Tests" "$srv/MemSvc.Server.Tests"; do
    [ -x "$root/$exe" ] || { echo "run-kvm-tests: $exe is not built (dotnet build MemSvc.sln -c $config)" >&2; exit 2; }
done

# The kvm tests: every test of the kvm backend and its conformance runs (Kvm namespace, Kvm* classes,
# Kvm_* methods), and the API-level kvm tests of the server.
tests="export MEMSVC_CAPABILITY_LOG=$results/capabilities.log
cd $root/$hyp && ./MemSvc.Hypervisor.Tests -noColor -noLogo -method '*Kvm*' -xml $results/hypervisor.xml >$results/hypervisor.log 2>&1; h=\$?
cd $root/$srv && ./MemSvc.Server.Tests -noColor -noLogo -class '*Kvm*' -xml $results/server.xml >$results/server.log 2>&1; s=\$?
b=0
if [ \"${MEMSVC_KVM_BENCH:-0}\" = 1 ]; then
    cd $root && dotnet bench/MemSvc.LoadDriver/bin/$config/net10.0/MemSvc.LoadDriver.dll --quick --only kvm >$results/bench.md 2>$results/bench.log; b=\$?
fi
exit \$(( h != 0 || s != 0 || b != 0 ))"

started=$(date +%s)
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
    where="this machine's /dev/kvm ($(uname -r))"
    set +e; bash -c "$tests"; status=$?; set -e
else
    qemu=${NKVM_QEMU:-$(command -v qemu-system-x86_64 || true)}
    if [ -z "$qemu" ]; then
        echo "run-kvm-tests: no /dev/kvm here and no qemu-system-x86_64 (apt-get install qemu-system-x86): the kvm tests ran only as skips in the host run"
        exit 3
    fi
    case ${NKVM_KERNEL_FROM:-sid} in
        host) flavour=-host ;;
        trixie-backports) flavour=-trixie-backports ;;
        *) flavour= ;;
    esac
    export NKVM_CACHE=${NKVM_CACHE:-$( [ -w /var/cache ] && echo /var/cache/memsvc-nested-kvm$flavour || echo "${TMPDIR:-/tmp}/memsvc-nested-kvm$flavour")}
    export NKVM_TIMEOUT=${NKVM_TIMEOUT:-600}
    where="a nested KVM in a QEMU guest (software emulation, $("$qemu" --version | head -n1))"
    # One emulated CPU runs the whole guest: a child server takes a minute to start. The tests that start two on KVM
    # (the kvm handoff's) run only with MEMSVC_KVM_SLOW_TESTS=1 here (~10 minutes more per kernel; NKVM_TIMEOUT=1800).
    set +e; "$here/run-in-guest.sh" -w "$results" "export MEMSVC_TEST_PATIENCE_SCALE=\${MEMSVC_TEST_PATIENCE_SCALE:-6} MEMSVC_KVM_SLOW_TESTS=${MEMSVC_KVM_SLOW_TESTS:-0}; echo \"kernel \$(uname -r)\" > $results/kernel; $tests" >"$results/guest.log" 2>&1; status=$?; set -e
    if [ "$status" = 125 ]; then
        tail -n 30 "$results/guest.log"
        echo "run-kvm-tests: the nested guest did not run the tests (no result from it; log above)"
        exit 3
    fi
fi

[ -f "$results/kernel" ] && where="$where, $(cat "$results/kernel")"
echo "kvm tests on $where: $(( $(date +%s) - started )) s, results in $results"
for log in "$results/hypervisor.log" "$results/server.log"; do
    [ -f "$log" ] && grep -E "\[FAIL\]" -A 8 "$log" | head -n 80 || true
done
[ -s "$results/bench.md" ] && { echo "load driver, kvm row (on the same KVM):"; grep -E "^\|" "$results/bench.md"; }
xmls=("$results"/*.xml)
[ -e "${xmls[0]}" ] || { echo "run-kvm-tests: no test results came back"; cat "$results"/*.log 2>/dev/null | tail -n 30; exit 1; }
python3 "$here/summarize.py" "$results/capabilities.log" "${xmls[@]}"
exit "$status"
