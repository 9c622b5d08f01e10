#!/usr/bin/env bash
# Installs the system packages gaffer's tests and benchmarks use, when missing (Debian).
#   tests:      python3 (the seed 001 example worker is Python)
#   benchmarks: redis-server (BullMQ baseline)          -- pass --bench
set -euo pipefail
want=(python3)
[[ "${1:-}" == "--bench" ]] && want+=(redis-server)
missing=()
for pkg in "${want[@]}"; do
  case "$pkg" in
    redis-server) command -v redis-server >/dev/null || missing+=("$pkg") ;;
    *) command -v "$pkg" >/dev/null || missing+=("$pkg") ;;
  esac
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
