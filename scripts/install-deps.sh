#!/usr/bin/env bash
# Installs the Debian 12 packages pipejournal needs to build, test and benchmark.
# Does nothing (no apt-get update either) when they are all there already.
set -euo pipefail

packages=(
  # build
  g++ meson ninja-build pkg-config cmake
  libsystemd-dev libspdlog-dev libfmt-dev systemd
  # man pages (pipejournal(8), pipejournal.conf(5)) and their checks
  scdoc mandoc man-db
  # tests
  doctest-dev systemd-container python3
  # the Debian package (scripts/build-deb) and the fleet scenario (journal-upload → journal-remote)
  debhelper dpkg-dev build-essential lintian systemd-journal-remote
  # benchmarks
  python3-systemd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root, or: sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
