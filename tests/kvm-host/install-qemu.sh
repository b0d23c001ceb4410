#!/usr/bin/env bash
# Installs Debian's qemu-system-x86 (QEMU 7.2 on bookworm) for the nested KVM, unless /dev/kvm opens here or QEMU is
# already there. Nothing else: the guest's kernel and busybox are downloaded and extracted by prepare.sh, never
# installed. Needs root for apt-get; without it, says what to install and exits 1.
set -euo pipefail
if { [ -r /dev/kvm ] && [ -w /dev/kvm ]; } || command -v qemu-system-x86_64 >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-qemu: not root; install qemu-system-x86 (apt-get install --no-install-recommends qemu-system-x86)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null
echo "install-qemu: installed $(qemu-system-x86_64 --version | head -n 1)"
