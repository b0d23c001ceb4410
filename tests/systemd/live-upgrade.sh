#!/usr/bin/env bash
# A live upgrade under a real systemd: deploy/systemd/memsvc.service, as shipped, in a container whose PID 1 is
# systemd (systemd-nspawn, Debian bookworm's systemd 252), with the server and memsvcctl this tree built.
#
#   1. `systemctl start memsvc`: Type=notify reaches "active (running)".
#   2. VMs: one whose vCPU waits on an ORCHESTRATOR fault, one running guest programs again and again, a watcher.
#   3. `systemctl reload memsvc` twice (ExecReload= runs `memsvcctl daemon upgrade`): each time the unit stays
#      active with no restart, MainPID is the new server and the unit's cgroup holds it alone, the old one is gone,
#      the pending fault is still pending and the program still runs.
#   4. The fault resolved: the program halts. SIGKILL of the main process: Restart=on-failure starts a new one,
#      which reports the running VM lost, naming the instance that was killed.
#   5. The watcher saw every sequence once, from 1 to the VM_LOST, across both reloads and the kill.
#   6. `systemctl stop memsvc` leaves no MemSvc process.
#
# Usage: tests/systemd/live-upgrade.sh [Release|Debug]   (root; after `dotnet build MemSvc.sln -c Release`)
# Needs systemd-nspawn (apt-get install systemd-container, done here when missing) and debootstrap; the root file
# system is made once and kept as a tarball in $MEMSVC_CI_CACHE (default /var/cache/memsvc-ci).
# Exit status: 0 passed, 1 a check failed, 3 this machine cannot run it (not root, no package, no container).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
. "$root/tests/lib/guest-waiting-on-fault.sh"
configuration=${1:-Release}
cache=${MEMSVC_CI_CACHE:-/var/cache/memsvc-ci}
server_bin=$root/src/MemSvc.Server/bin/$configuration/net10.0
cli_bin=$root/src/MemSvc.Cli/bin/$configuration/net10.0
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
started=$(date +%s)

say() { echo "[$(( $(date +%s) - started ))s] $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
cannot() { echo "CANNOT RUN HERE: $*" >&2; exit 3; }

[ "$(id -u)" = 0 ] || cannot "run as root (systemd-nspawn)"
[ -x "$server_bin/MemSvc.Server" ] && [ -x "$cli_bin/memsvcctl" ] || fail "build first: dotnet build MemSvc.sln -c $configuration"
if ! command -v systemd-nspawn > /dev/null; then
    say "installing systemd-container"
    apt-get install -y --no-install-recommends systemd-container > /dev/null || cannot "apt-get install systemd-container failed"
fi

# The root file system: bookworm minbase with systemd as init, made once.
recipe=bookworm-minbase-systemd-r1
tarball=$cache/rootfs-$recipe.tar
if [ ! -f "$tarball" ]; then
    mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    mirror=${mirror:-http://deb.debian.org/debian}
    say "debootstrap bookworm with systemd from $mirror (once; kept in $tarball)"
    staging=$(mktemp -d)
    debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,procps,ca-certificates,libssl3,libstdc++6,zlib1g \
        bookworm "$staging/rootfs" "$mirror" > "$staging/debootstrap.log" 2>&1 || { tail -n 20 "$staging/debootstrap.log"; cannot "debootstrap failed"; }
    mkdir -p "$cache"
    tar -C "$staging/rootfs" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
    rm -rf "$staging"
fi

work=$(mktemp -d /tmp/memsvc-systemd-XXXXXX)
rootfs=$work/rootfs
mkdir -p "$rootfs"
tar -C "$rootfs" -xf "$tarball"

# As deploy/README.md installs it, with this tree's framework-dependent build (the host's .NET, bound read-only at
# the path the apphost looks in) instead of a self-contained publish.
mkdir -p "$rootfs/opt/memsvc/cli" "$rootfs/usr/share/dotnet"
cp -a "$server_bin/." "$rootfs/opt/memsvc/" && rm -rf "$rootfs/opt/memsvc/linux-x64"
cp -a "$cli_bin/." "$rootfs/opt/memsvc/cli/" && rm -rf "$rootfs/opt/memsvc/cli/linux-x64"
install -D -m 0644 "$root/deploy/README.md" "$rootfs/opt/memsvc/deploy/README.md"
install -D -m 0644 "$root/deploy/systemd/memsvc.sysusers.conf" "$rootfs/usr/lib/sysusers.d/memsvc.conf"
install -D -m 0644 "$root/deploy/systemd/memsvc.service" "$rootfs/etc/systemd/system/memsvc.service"
mkdir -p "$rootfs/etc/systemd/system/multi-user.target.wants"
ln -s /etc/systemd/system/memsvc.service "$rootfs/etc/systemd/system/multi-user.target.wants/memsvc.service"
echo memsvc-systemd-test > "$rootfs/etc/hostname"

# Boot. --keep-unit and --register=no: no systemd or machined on the host to register with.
setsid systemd-nspawn -D "$rootfs" -b --register=no --keep-unit --console=passive \
    --bind-ro="$dotnet_root:/usr/share/dotnet" > "$work/nspawn.log" 2>&1 &
nspawn=$!
leader=
cleanup() {
    [ -n "${watcher:-}" ] && kill "$watcher" 2> /dev/null || true
    [ -n "${looper:-}" ] && kill "$looper" 2> /dev/null || true
    # Killing the container's PID 1 ends every process in its namespace (a poweroff can wait on stray ones), and
    # nspawn with it; nspawn is killed too, so that nothing here can wait forever.
    [ -n "$leader" ] && kill -9 "$leader" 2> /dev/null || true
    kill -9 "$nspawn" 2> /dev/null || true
    wait "$nspawn" 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
# The container's PID 1: nspawn's child that runs systemd in a PID namespace of its own (nspawn forks a helper
# first, which is gone by then).
own_pid_ns=$(readlink /proc/self/ns/pid)
for _ in $(seq 300); do
    leader=
    for child in $(pgrep -P "$nspawn" || true); do
        if [ "$(cat "/proc/$child/comm" 2> /dev/null)" = systemd ] && [ "$(readlink "/proc/$child/ns/pid" 2> /dev/null)" != "$own_pid_ns" ]; then
            leader=$child
        fi
    done
    [ -n "$leader" ] && break
    sleep 0.1
done
[ -n "$leader" ] || { cat "$work/nspawn.log"; cannot "the container did not start"; }
in_ct() { nsenter -t "$leader" -a "$@"; }
ctl() { in_ct /opt/memsvc/cli/memsvcctl --socket /run/memsvc/memsvc.sock --color never "$@"; }
show() { in_ct systemctl show memsvc --value -p "$1"; }
for _ in $(seq 300); do
    state=$(in_ct systemctl is-system-running 2> /dev/null || true)
    case "$state" in running|degraded) break ;; esac
    sleep 0.2
done
case "$state" in running|degraded) ;; *) cat "$work/nspawn.log"; cannot "systemd in the container did not finish booting ($state)" ;; esac
say "systemd $(in_ct systemctl --version | head -n 1 | cut -d' ' -f2) is PID 1 in the container ($state)"

# 1. Started as the unit says.
for _ in $(seq 300); do [ "$(show ActiveState)" = active ] && break; sleep 0.2; done
[ "$(show ActiveState)/$(show SubState)" = active/running ] || { in_ct systemctl status memsvc --no-pager || true; fail "memsvc did not start"; }
first=$(show MainPID)
say "memsvc.service active, MainPID $first"

# 2. A VM waiting on a fault, a VM running programs, a watcher of the running one.
guest_waiting_on_fault || fail "the guest VM does not wait on fault 1"
program=
for i in $(seq 1 120); do program="$program report $i; write 0x0 2097152 0x$(printf %02x $(( i % 250 + 1 ))) shared;"; done
program="$program halt"
ctl vm create --id runner --type sw-protected > /dev/null
ctl gmem create runner --size 2097152 > /dev/null
ctl region set runner --slot 0 --gpa 0 --size 2097152 --gmem 1 > /dev/null
ctl vcpu load runner 0 -s "$program" > /dev/null
ctl vcpu start runner 0 > /dev/null
ctl events watch --vm runner --from 1 -o json > "$work/watch.json" 2> "$work/watch.err" &
watcher=$!
(
    # A call that meets a reload fails (the socket changes hands): the next round tries again, so a program loaded
    # by one server may be started by the next.
    while [ ! -f "$work/stop" ]; do
        state=$(ctl vcpu get runner 0 2> /dev/null | awk 'NR == 2 { print $2 }' || true)
        if [ "$state" = halted ]; then
            ctl vcpu load runner 0 -s "$program" > /dev/null 2>&1 && ctl vcpu start runner 0 > /dev/null 2>&1 && echo run >> "$work/runs"
        elif [ "$state" = ready ]; then
            ctl vcpu start runner 0 > /dev/null 2>&1 && echo run >> "$work/runs"
        fi
        sleep 0.2
    done
) &
looper=$!

# 3. Two reloads.
previous=$first
for reload in 1 2; do
    events=$(wc -l < "$work/watch.json")
    in_ct systemctl reload memsvc || { in_ct journalctl -u memsvc --no-pager -n 40 || true; fail "reload $reload failed"; }
    main=$(show MainPID)
    [ "$(show ActiveState)/$(show SubState)/$(show NRestarts)" = active/running/0 ] || fail "after reload $reload the unit is $(show ActiveState)/$(show SubState), $(show NRestarts) restarts"
    [ "$main" != "$previous" ] || fail "reload $reload: MainPID is still $previous"
    ! in_ct kill -0 "$previous" 2> /dev/null || fail "reload $reload: the old server (pid $previous) still runs"
    procs=$(in_ct sh -c 'cat /sys/fs/cgroup/systemd/system.slice/memsvc.service/cgroup.procs 2>/dev/null || cat /sys/fs/cgroup/system.slice/memsvc.service/cgroup.procs')
    [ "$procs" = "$main" ] || fail "reload $reload: the unit's cgroup holds [$procs], not the new server $main alone"
    ctl vcpu get guest 0 | grep -q "waiting on fault 1" || fail "reload $reload: fault 1 is no longer pending"
    for _ in $(seq 300); do [ "$(wc -l < "$work/watch.json")" -gt "$(( events + 50 ))" ] && break; sleep 0.1; done
    if [ "$(wc -l < "$work/watch.json")" -le "$(( events + 50 ))" ]; then
        tail -n 5 "$work/watch.err" >&2 || true
        ctl vcpu get runner 0 >&2 || true
        fail "reload $reload: the running VM's events stopped at $(wc -l < "$work/watch.json") (had $events before the reload)"
    fi
    say "reload $reload: MainPID $previous -> $main, unit active, no restart, cgroup [$procs], fault 1 pending, events flowing"
    previous=$main
done
in_ct journalctl -u memsvc --no-pager | grep -E "upgraded: |vCPUs were paused" | sed 's/^/    /' | cut -c1-240

# 4. The fault resolved; then the main process killed.
ctl fault resolve guest 1 --action convert > /dev/null
for _ in $(seq 100); do ctl vcpu get guest 0 | grep -q "the guest program halted" && break; sleep 0.1; done
ctl vcpu get guest 0 | grep -q "the guest program halted" || fail "the guest program did not halt after its fault was resolved"
touch "$work/stop"
wait "$looper" || true
looper=
killed=$(ctl host info -o json | sed -n 's/.*"instanceId": "\([0-9a-f]*\)".*/\1/p')
in_ct kill -9 "$previous"
for _ in $(seq 300); do [ "$(show NRestarts)" = 1 ] && [ "$(show SubState)" = running ] && break; sleep 0.2; done
[ "$(show NRestarts)/$(show SubState)" = 1/running ] || fail "after SIGKILL the unit is $(show SubState) with $(show NRestarts) restarts"
for _ in $(seq 100); do grep -q '"vmLost"' "$work/watch.json" && break; sleep 0.1; done
lost=$(grep '"vmLost"' "$work/watch.json" || true)
echo "$lost" | grep -q "\"instanceId\": \"$killed\"" || fail "the VM_LOST does not name the killed instance $killed: $lost"
say "SIGKILL of pid $previous: restarted (NRestarts 1, MainPID $(show MainPID)); the watcher got VM_LOST naming instance $killed"

# 5. Every sequence once.
python3 - "$work/watch.json" <<'EOF'
import json, sys
seqs = [int(json.loads(line)["sequence"]) for line in open(sys.argv[1]) if line.strip()]
bad = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
if not seqs or seqs[0] != 1 or bad:
    sys.exit(f"FAILED: the watcher's sequences are not 1..n once each: first {seqs[:1]}, breaks {bad[:5]}")
print(f"    the watcher saw sequences 1..{seqs[-1]}, each once, the last a VM_LOST")
EOF

# 6. Stopped.
in_ct systemctl stop memsvc
[ "$(show ActiveState)" = inactive ] || fail "memsvc is $(show ActiveState) after stop"
! in_ct pgrep -f MemSvc.Server > /dev/null || fail "a MemSvc process outlived systemctl stop"
say "systemctl stop: inactive, no MemSvc process left; runs of the program: $(wc -l < "$work/runs" 2> /dev/null || echo 0); passed"
