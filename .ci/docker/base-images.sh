#!/usr/bin/env bash
# Makes the local base images that stand in for Microsoft's on machines without a container registry:
#   runtime: $MEMSVC_RUNTIME_BASE, Debian bookworm minbase plus what runtime-deps:10.0 carries
#            (CA certificates, OpenSSL, time zones), for a self-contained .NET app.
#   sdk:     $MEMSVC_SDK_BASE (only with --sdk), the runtime base plus this machine's .NET SDK, for the
#            Dockerfile's full in-container build.
# Each root file system is made once with debootstrap from the Debian mirror apt already uses, kept as a
# tarball in $MEMSVC_CI_CACHE, and imported with `docker import`; an image that already exists is kept.
#
# Usage: base-images.sh [--sdk]
set -euo pipefail
. "$(dirname "$0")/common.sh"

with_sdk=false
for argument in "$@"; do
    case "$argument" in
        --sdk) with_sdk=true ;;
        *) echo "usage: $0 [--sdk]" >&2; exit 2 ;;
    esac
done

suite=bookworm
# What mcr.microsoft.com/dotnet/runtime-deps:10.0 (Debian flavour) installs; ICU is left out because MemSvc
# runs with invariant globalization.
include=ca-certificates,libc6,libgcc-s1,libssl3,libstdc++6,tzdata,zlib1g
# Bumped when the recipe changes, so that a cached tarball or image from an older recipe is not reused.
recipe=1

# The first deb822 stanza (or one-line entry) of the Debian archive itself, not its security suite.
mirror() {
    local uri
    uri=$(awk -v suite="$suite" '
        /^URIs:/   { uris = $2 }
        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) found = 1 }
        /^$/       { if (found && uris !~ /security/) { print uris; exit } found = 0; uris = "" }
        END        { if (found && uris !~ /security/) print uris }
    ' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    if [ -z "$uri" ]; then
        uri=$(awk -v suite="$suite" '$1 == "deb" && $3 == suite && $2 !~ /security/ { print $2; exit }' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1 || true)
    fi
    if [ -z "$uri" ]; then
        echo "no apt source for Debian $suite in /etc/apt: cannot debootstrap" >&2
        exit 1
    fi
    echo "$uri"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

image_recipe() { docker image inspect --format '{{ index .Config.Labels "org.memsvc.base.recipe" }}' "$1" 2>/dev/null || true; }

make_runtime_base() {
    local key tarball rootfs
    key="$suite-minbase-$(echo "$include" | sha256sum | cut -c1-12)-r$recipe"
    if image_exists "$MEMSVC_RUNTIME_BASE" && [ "$(image_recipe "$MEMSVC_RUNTIME_BASE")" = "$key" ]; then
        took "$MEMSVC_RUNTIME_BASE exists ($key)"
        return
    fi

    mkdir -p "$MEMSVC_CI_CACHE"
    tarball=$MEMSVC_CI_CACHE/rootfs-$key.tar
    if [ ! -s "$tarball" ]; then
        local source
        source=$(mirror)
        rootfs=$(mktemp -d "$MEMSVC_CI_CACHE/rootfs.XXXXXX")
        say "debootstrap --variant=minbase $suite from $source (include $include)"
        if ! debootstrap --variant=minbase --include="$include" "$suite" "$rootfs" "$source" \
            >"$MEMSVC_CI_CACHE/debootstrap.log" 2>&1; then
            tail -n 30 "$MEMSVC_CI_CACHE/debootstrap.log" >&2
            rm -rf "$rootfs"
            exit 1
        fi
        # apt's lists and .debs are not needed in an image that never runs apt (containers have no network).
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
        tar --numeric-owner -C "$rootfs" -cf "$tarball.partial" .
        mv "$tarball.partial" "$tarball"
        rm -rf "$rootfs"
        took "root file system cached in $tarball ($(du -h "$tarball" | cut -f1))"
    fi

    docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL org.memsvc.base.recipe=$key" \
        --change 'CMD ["/bin/bash"]' \
        --message "debootstrap --variant=minbase $suite ($include)" \
        "$tarball" "$MEMSVC_RUNTIME_BASE" >/dev/null
    took "imported $MEMSVC_RUNTIME_BASE"
}

make_sdk_base() {
    local dotnet_root sdk_version key context
    dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
    sdk_version=$(dotnet --version)
    # The host's own certificate authorities (a TLS-inspecting proxy's, say) go in as well: the in-container
    # restore reaches NuGet the way the host does, and would not trust that proxy otherwise.
    local host_cas=/usr/local/share/ca-certificates
    key="runtime-$(image_recipe "$MEMSVC_RUNTIME_BASE")-sdk-$sdk_version-cas-$(cat "$host_cas"/*.crt 2>/dev/null | sha256sum | cut -c1-12)"
    if image_exists "$MEMSVC_SDK_BASE" && [ "$(image_recipe "$MEMSVC_SDK_BASE")" = "$key" ]; then
        took "$MEMSVC_SDK_BASE exists ($key)"
        return
    fi

    # The SDK is this machine's own, copied as it is: the same one that builds the solution outside Docker.
    context=$(mktemp -d)
    trap 'rm -rf "$context"' RETURN
    say "copying the .NET SDK $sdk_version from $dotnet_root"
    cp -a "$dotnet_root" "$context/dotnet"
    mkdir -p "$context/ca-certificates"
    cp "$host_cas"/*.crt "$context/ca-certificates/" 2>/dev/null || true
    cat >"$context/Dockerfile" <<DOCKERFILE
FROM $MEMSVC_RUNTIME_BASE
COPY dotnet/ /usr/share/dotnet/
COPY ca-certificates/ /usr/local/share/ca-certificates/
RUN ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet && update-ca-certificates >/dev/null
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 \
    DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online}
LABEL org.memsvc.base.recipe=$key
DOCKERFILE
    docker build --network none -q -t "$MEMSVC_SDK_BASE" "$context" >/dev/null
    took "built $MEMSVC_SDK_BASE"
}

make_runtime_base
if $with_sdk; then
    make_sdk_base
fi
