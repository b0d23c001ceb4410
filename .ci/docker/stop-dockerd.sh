#!/usr/bin/env bash
# Stops the engine that start-dockerd.sh started (by its recorded pid), and only that one.
set -euo pipefail
. "$(dirname "$0")/common.sh"

pidfile=$MEMSVC_CI_RUN/dockerd.pid

# Each test run tags a new memsvc:integration-test and leaves the previous one dangling: drop those, and only
# those (Testcontainers labels what it builds), so that runs on one machine do not fill its disk.
if docker info >/dev/null 2>&1; then
    docker image prune -f --filter label=org.testcontainers=true >/dev/null || true
fi

if [ ! -f "$pidfile" ]; then
    took "no dockerd was started by start-dockerd.sh; nothing to stop"
    exit 0
fi

pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
    say "stopping dockerd, pid $pid"
    kill -TERM "$pid"
    # dockerd stops its containers (10 s each at most) and its containerd before it exits.
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
        say "dockerd still runs after 30 s; sending SIGKILL"
        kill -KILL "$pid"
    fi
fi
rm -f "$pidfile"
took "dockerd stopped"
