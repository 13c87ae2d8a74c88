#!/usr/bin/env bash
# Installs the Debian 12 packages pipejournal needs to build, test and benchmark, then the npm
# loggers the tests run (tests/loggers/package-lock.json) into tests/loggers/node_modules.
# Does nothing (no apt-get update, no npm) when they are all there already.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  g++ meson ninja-build pkg-config cmake
  libsystemd-dev libspdlog-dev libfmt-dev libsimdjson-dev systemd
  # man pages (pipejournal(8), pipejournal.conf(5)) and their checks
  scdoc mandoc man-db
  # tests
  doctest-dev systemd-container python3
  # the Debian package (scripts/build-deb) and the fleet scenario (journal-upload → journal-remote)
  debhelper dpkg-dev build-essential lintian systemd-journal-remote
  # tests: real loggers' output (the npm ones: tests/loggers/package.json)
  python3-structlog python3-pythonjsonlogger
  # tests: real crash reports (tests/records/): a Java program compiled and a Go program built
  # at test time
  default-jdk-headless golang-go
  # fuzzing (scripts/fuzz): clang with its libFuzzer runtime, llvm-symbolizer for the stacks
  clang-14 libclang-rt-14-dev llvm-14
  # benchmarks (libpcre2-dev: bench/rules_pcre2.cpp, the rules measured against PCRE2)
  python3-systemd libpcre2-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm for the tests of real loggers: Debian's, unless a node with npm is already
# there (a nodejs package from elsewhere bundles npm and conflicts with Debian's npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]} (run as root, or: sudo $0)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Test-only: pino, bunyan and winston at the versions the lock file names (no optional native
# add-ons: nothing is compiled).
loggers=tests/loggers
if [ ! -f "$loggers/node_modules/.package-lock.json" ] ||
   [ "$loggers/package-lock.json" -nt "$loggers/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in $loggers"
  (cd "$loggers" && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
fi
