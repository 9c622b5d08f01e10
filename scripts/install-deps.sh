#!/usr/bin/env bash
# Installs the Debian packages gaffer's tests and benchmarks need, when missing:
#   python3          the Python example workers (examples/workers/*.py)
#   redis-server     Redis broker tests, and the BullMQ baseline of the benchmarks
#   rabbitmq-server  RabbitMQ broker tests (a private node per run)
#   postgresql       PostgreSQL store tests (a private cluster per run, via initdb/pg_ctl)
#   faketime         the chaos suite's clock-skew fault (libfaketime preloaded into workers)
#   prometheus       the metrics tests: promtool (rules, metrics lint) and a private server
#   chromium         the dashboard's browser tests and screenshots (driven by playwright-core)
#   mmdebstrap       the images' Debian base (scripts/build-images.sh)
#   buildah          builds and runs the images without a Docker engine (test/deploy/images.test.ts)
#   (then, built with Go into ~/.cache/gaffer: scripts/build-test-servers.sh — minio for the
#   object-store tests — and scripts/build-k8s-testbin.sh — the Kubernetes control plane + kwok)
# The tests start and stop their own servers on loopback; nothing here starts a service.
set -euo pipefail
declare -A probe=(
  [python3]=python3
  [redis-server]=redis-server
  [rabbitmq-server]=rabbitmq-server
  [postgresql]=/usr/lib/postgresql/15/bin/initdb
  [faketime]=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
  [prometheus]=/usr/bin/promtool
  [chromium]=/usr/bin/chromium
  [mmdebstrap]=mmdebstrap
  [buildah]=buildah
)
missing=()
for pkg in "${!probe[@]}"; do
  bin=${probe[$pkg]}
  if [[ $bin == /* ]]; then [[ -x $bin ]] || missing+=("$pkg"); else command -v "$bin" >/dev/null || missing+=("$pkg"); fi
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
  # The Debian packages start system-wide services; the tests use private ones, so stop those.
  for svc in redis-server rabbitmq-server postgresql prometheus prometheus-node-exporter; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

# Servers no Debian package provides, built from the Go module proxy when missing (cached outside
# the repository): MinIO (3–4 min cold), and the Kubernetes control plane with kwok (~12 min cold).
bash "$(dirname "${BASH_SOURCE[0]}")/build-test-servers.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/build-k8s-testbin.sh"
bash "$(dirname "${BASH_SOURCE[0]}")/build-helm.sh" # helm, for the chart tests (~5 min cold)
