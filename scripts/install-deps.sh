#!/usr/bin/env bash
# Installs the Debian 12 packages pipejournal needs to build, test and benchmark, then the npm
# loggers the tests run (tests/loggers/package-lock.json) into tests/loggers/node_modules.
# Does nothing (no apt-get update, no npm) when they are all there already.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  # build
  g++ meson ninja-build pkg-config cmake
  # the linker that places pipejournal's start-up code side by side (src/startup.order)
  lld
  libsystemd-dev libspdlog-dev libfmt-dev libsimdjson-dev systemd
  # man pages (pipejournal(8), pipejournal.conf(5)) and their checks
  scdoc mandoc man-db
  # tests
  doctest-dev systemd-container python3
  # the Debian package (scripts/build-deb) and the fleet scenario (journal-upload → journal-remote)
  debhelper dpkg-dev build-essential lintian systemd-journal-remote
  # tests: real loggers' output (the npm ones: tests/loggers/package.json). Python: structlog,
  # python-json-logger, loguru. Go (built at test time in GOPATH mode from Debian's sources):
  # logrus, zerolog, zap. Java (compiled at test time): log4j2 with Jackson for JsonLayout. PHP:
  # Monolog.
  python3-structlog python3-pythonjsonlogger python3-loguru
  golang-go golang-github-sirupsen-logrus-dev golang-github-rs-zerolog-dev golang-go.uber-zap-dev
  default-jdk-headless liblog4j2-java libjackson2-databind-java
  php-cli php-monolog
  # tests: real crash reports (tests/records/) use golang-go and default-jdk-headless above
  # the shippers scenario (tests/system): the libraries of rsyslog and syslog-ng-core, which are
  # unpacked below, not installed (they conflict with each other)
  libestr0 libfastjson4 liblognorm5 libivykis0 libnet1 libwrap0
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

# The shippers scenario (tests/system/test_pipejournal.py, T33Shippers): rsyslog (imjournal) and
# syslog-ng (systemd-journal()) read pipejournal's entries. As Debian packages they conflict
# (both are the system-log-daemon), so each is unpacked side by side (dpkg -x) into its own tree,
# which the test lays over the container's /usr; nothing of them is installed on this machine.
shippers=/var/cache/pipejournal-tests/shippers
for pkg in rsyslog syslog-ng-core; do
  version=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p')
  if [ -n "$version" ] && [ "$(cat "$shippers/$pkg/.version" 2>/dev/null)" = "$version" ]; then
    continue
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: $pkg is not unpacked in $shippers (run as root, or: sudo $0)" >&2
    exit 1
  fi
  download=$(mktemp -d)
  if ! (cd "$download" && apt-get download -q "$pkg" >/dev/null 2>&1); then
    apt-get update -q
    (cd "$download" && apt-get download -q "$pkg")
  fi
  rm -rf "$shippers/$pkg"
  mkdir -p "$shippers/$pkg"
  dpkg -x "$download"/*.deb "$shippers/$pkg"
  dpkg-deb -f "$download"/*.deb Version >"$shippers/$pkg/.version"
  rm -rf "$download"
  echo "install-deps: unpacked $pkg $(cat "$shippers/$pkg/.version") into $shippers/$pkg"
done

# Test-only: the npm loggers (pino, bunyan, winston, Elastic's ECS formats, bole) at the versions
# the lock file names (no optional native add-ons: nothing is compiled).
loggers=tests/loggers
if [ ! -f "$loggers/node_modules/.package-lock.json" ] ||
   [ "$loggers/package-lock.json" -nt "$loggers/node_modules/.package-lock.json" ]; then
  echo "install-deps: npm ci in $loggers"
  (cd "$loggers" && npm ci --omit=optional --no-audit --no-fund --loglevel=error)
fi
