#!/usr/bin/env bash
# Installs the Debian 12 packages llmhost builds and tests with, if any is missing.
# Sourced by the other scripts; needs root or sudo only when something is missing.
set -euo pipefail

LLMHOST_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libcurl4-openssl-dev libssl-dev libsimdjson-dev libcli11-dev doctest-dev
  libyaml-cpp-dev libbenchmark-dev libpcre2-dev libhiredis-dev redis-server
  libgoogle-perftools-dev  # tcmalloc_minimal, the llmhost executable's allocator (LLMHOST_MALLOC)
  curl     # the out-of-tree test posts to `llmhost serve` with it (libcurl's own CLI)
  python3  # docs/embedding.md's ctypes example, which the tests run
)

llmhost_install_deps() {
  local missing=()
  for p in "${LLMHOST_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "llmhost: installing ${missing[*]}" >&2
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# llmhost_configure <build-dir> [cmake args...]: configure (a no-op when nothing changed).
llmhost_configure() {
  local dir=$1; shift
  cmake -S "$LLMHOST_ROOT" -B "$dir" -G Ninja "$@" >/dev/null
}

# llmhost_build <build-dir> [cmake args...]: configure and build everything.
llmhost_build() {
  llmhost_configure "$@"
  cmake --build "$1"
}

LLMHOST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
