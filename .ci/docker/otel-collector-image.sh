#!/usr/bin/env bash
# Makes $MEMSVC_OTELCOL_IMAGE, an OpenTelemetry Collector image for docker-compose.yml's otel-collector service
# (OTEL_COLLECTOR_IMAGE) on machines that cannot pull the collector's own image. No registry here has the
# image or the Go modules, but Debian does have the collector's Go sources (golang-opentelemetry-collector-dev)
# and their dependencies. So the binary is built offline from those (deploy/otelcol: core components only) with
# Debian's Go. Both come from sid, the one suite that has them: downloaded with a private apt configuration
# and extracted into a scratch folder, never installed. The binary is static and the image is FROM scratch.
#
# The binary is kept in $MEMSVC_CI_CACHE: a warm run only checks the image (or makes it again from the binary).
# A cold run took 4.5-6 minutes on this shared 2-core machine (300 MB of packages in 50-70 s, then the build).
# When the collector cannot be built, the script exits 1 with the reason and ComposeUpTests receives MemSvc's
# OTLP itself.
#
# Usage: otel-collector-image.sh
set -euo pipefail
. "$(dirname "$0")/common.sh"
repository=$(cd "$(dirname "$0")/../.." && pwd)

mirror=${MEMSVC_SID_MIRROR:-http://deb.debian.org/debian}
# Bumped when the recipe changes, so that a cached binary or image from an older recipe is not reused.
recipe=1
key="r$recipe-$(cat "$repository"/deploy/otelcol/*.go | sha256sum | cut -c1-12)"
cached=$MEMSVC_CI_CACHE/otelcol/$key

image_recipe() { docker image inspect --format '{{ index .Config.Labels "org.memsvc.otelcol.recipe" }}' "$1" 2>/dev/null || true; }

if [ "$(image_recipe "$MEMSVC_OTELCOL_IMAGE")" = "$key" ]; then
    took "$MEMSVC_OTELCOL_IMAGE exists ($key)"
    exit 0
fi

build_binary() {
    local work lists sid packages go_binary collector_deb
    mkdir -p "$MEMSVC_CI_CACHE/otelcol"
    # One build at a time: a second run waits, then finds the binary. Under the lock, a scratch folder left
    # by a killed build is nobody's, and 2.5 GB is worth taking back.
    exec 9>"$MEMSVC_CI_CACHE/otelcol/.lock"
    flock 9
    if [ -x "$cached/otelcol" ]; then
        return 0
    fi
    rm -rf "$MEMSVC_CI_CACHE"/otelcol/build.*
    work=$(mktemp -d "$MEMSVC_CI_CACHE/otelcol/build.XXXXXX")
    # About 2.5 GB once extracted: nothing of it is needed after the build.
    trap 'rm -rf "$work"; trap - RETURN' RETURN
    lists=$work/apt/lists
    mkdir -p "$lists/partial" "$work/apt/cache/archives/partial" "$work/deb" "$work/root"
    echo "deb $mirror sid main" >"$work/apt/sid.list"
    # The host's apt configuration and package database are not touched: own sources, lists and cache, and an
    # empty status file so that apt resolves the whole closure instead of trusting the host's packages.
    sid=(-o Dir::Etc::sourcelist="$work/apt/sid.list" -o Dir::Etc::sourceparts=/dev/null
         -o Dir::State::Lists="$lists" -o Dir::State::status=/dev/null
         -o Dir::Cache="$work/apt/cache" -o Debug::NoLocking=1)
    [ "$(id -u)" = 0 ] && sid+=(-o APT::Sandbox::User=root)

    say "fetching sid's package index from $mirror"
    # apt-get update exits 0 when a source cannot be reached (a warning): the list itself is the proof.
    if ! apt-get "${sid[@]}" update >"$work/apt.log" 2>&1 || ! compgen -G "$lists/*Packages*" >/dev/null; then
        tail -n 20 "$work/apt.log" >&2
        say "cannot read sid's package index: no collector image"
        return 1
    fi
    # Every Go package the collector's sources depend on, and Debian's Go with them (golang-go is in the
    # closure). The C libraries some of them name are left out: the build is without cgo.
    packages=$(apt-cache "${sid[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
                   --no-breaks --no-replaces --no-enhances golang-opentelemetry-collector-dev 2>/dev/null \
               | grep '^golang-' | sort -u || true)
    if ! grep -qx golang-opentelemetry-collector-dev <<<"$packages"; then
        say "sid has no golang-opentelemetry-collector-dev: no collector image"
        return 1
    fi
    say "downloading $(wc -l <<<"$packages") Go packages from sid"
    # shellcheck disable=SC2086 # one package name a word
    if ! (cd "$work/deb" && apt-get "${sid[@]}" download $packages >"$work/apt.log" 2>&1); then
        tail -n 20 "$work/apt.log" >&2
        say "downloading the collector's Go sources failed: no collector image"
        return 1
    fi
    for deb in "$work"/deb/*.deb; do
        dpkg-deb -x "$deb" "$work/root"
    done
    took "downloaded and extracted $(du -sh "$work/deb" | cut -f1) of packages"

    go_binary=$(ls "$work"/root/usr/lib/go-*/bin/go 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$go_binary" ]; then
        say "no Go toolchain among the downloaded packages: no collector image"
        return 1
    fi
    collector_deb=$(ls "$work"/deb/golang-opentelemetry-collector-dev_*.deb)
    # 0.152.0-1 -> 0.152.0: the upstream version, which the collector reports (--version, user-agent).
    version=$(dpkg-deb -f "$collector_deb" Version | sed 's/^[0-9]*://; s/-[^-]*$//')

    # Debian's layout is a GOPATH (/usr/share/gocode/src/<import path>), which GOPATH mode builds as it is, as
    # Debian itself does: no module download, no go.sum. GOTOOLCHAIN=local: the extracted Go, never another.
    mkdir -p "$work/gopath/src/otelcol"
    cp "$repository"/deploy/otelcol/*.go "$work/gopath/src/otelcol/"
    say "building the collector $version with $("$go_binary" version | cut -d' ' -f3) (GOPATH mode, offline)"
    if ! (cd "$work/gopath/src/otelcol" &&
          env GOROOT="$(dirname "$(dirname "$go_binary")")" GOPATH="$work/gopath:$work/root/usr/share/gocode" \
              GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local CGO_ENABLED=0 \
              GOCACHE="$work/gocache" GOENV=off \
              nice -n 10 "$go_binary" build -trimpath -ldflags "-s -w -X main.version=$version" \
              -o "$work/otelcol" . >"$work/build.log" 2>&1); then
        tail -n 30 "$work/build.log" >&2
        say "the collector $version does not build from sid's packages (see above): no collector image"
        return 1
    fi
    mkdir -p "$cached"
    mv "$work/otelcol" "$cached/otelcol"
    echo "$version" >"$cached/version"
    took "built $cached/otelcol ($(du -h "$cached/otelcol" | cut -f1))"
}

if [ ! -x "$cached/otelcol" ]; then
    build_binary
fi
version=$(cat "$cached/version")

# The binary alone, imported as an image's only file, as base-images.sh imports its root file systems. uid 10001
# as in the MemSvc image: nothing in the collector needs root. The config path is docker-compose.yml's.
tar --owner=0 --group=0 --mode=0755 -C "$cached" -c otelcol \
    | docker import \
        --change 'USER 10001:10001' \
        --change 'ENTRYPOINT ["/otelcol"]' \
        --change 'CMD ["--config=/etc/otelcol/config.yaml"]' \
        --change "LABEL org.memsvc.otelcol.recipe=$key org.opencontainers.image.version=$version" \
        --message "OpenTelemetry Collector $version, core components, from Debian's Go sources" \
        - "$MEMSVC_OTELCOL_IMAGE" >/dev/null
took "imported $MEMSVC_OTELCOL_IMAGE (collector $version, $key)"
