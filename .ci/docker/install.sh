#!/usr/bin/env bash
# Installs the Docker engine, debootstrap (for the local base images) and docker-compose (to check the compose
# file) from Debian. Skips apt entirely when all of them are already there, which keeps warm CI runs fast.
set -euo pipefail
. "$(dirname "$0")/common.sh"

packages=(docker.io debootstrap docker-compose)
missing=()
for package in "${packages[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" != "install ok installed" ]; then
        missing+=("$package")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    took "already installed: ${packages[*]}"
    exit 0
fi

say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Recommends would bring in apparmor and friends that a CI machine does not need.
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
took "installed ${missing[*]}"
