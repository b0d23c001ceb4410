#!/usr/bin/env bash
# Starts a Docker engine in the background unless one already answers, and records the pid of the one it
# started in $MEMSVC_CI_RUN/dockerd.pid so that stop-dockerd.sh ends that one and nothing else.
#
# The engine gets no iptables rules, no IP forwarding and no default bridge: MemSvc is a host-local daemon, its
# containers run with the host's network namespace (its TCP port is on the host's loopback), and so nothing
# here ever sends traffic beyond 127.0.0.1.
set -euo pipefail
. "$(dirname "$0")/common.sh"

mkdir -p "$MEMSVC_CI_RUN"
pidfile=$MEMSVC_CI_RUN/dockerd.pid
logfile=$MEMSVC_CI_RUN/dockerd.log

if docker info >/dev/null 2>&1; then
    took "a Docker engine already answers; using it"
    exit 0
fi

say "starting dockerd (log: $logfile)"
# setsid: the engine must not receive the terminal's signals meant for the test run.
setsid dockerd \
    --iptables=false --ip6tables=false --ip-forward=false \
    --bridge=none \
    --pidfile "$MEMSVC_CI_RUN/dockerd.engine.pid" \
    >"$logfile" 2>&1 </dev/null &
echo $! >"$pidfile"

for _ in $(seq 1 120); do
    if docker info >/dev/null 2>&1; then
        took "dockerd $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') is up, pid $(cat "$pidfile")"
        exit 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        say "dockerd exited; its log:"
        tail -n 40 "$logfile" >&2
        rm -f "$pidfile"
        exit 1
    fi
    sleep 0.5
done

say "dockerd did not answer within 60 s; its log:"
tail -n 40 "$logfile" >&2
exit 1
