#!/usr/bin/env bash
# Builds the servers the tests start privately that no Debian package provides, from the Go module
# proxy, into a cache outside the repository (binaries are never committed):
#   minio   an S3-compatible object store (test/helpers/servers/minio.ts)
# Idempotent: a binary already present is kept. A cold build of MinIO takes about 3–4 minutes on
# 2 cores (module downloads included); later runs skip it.
set -euo pipefail
# The last MinIO commit on the module proxy (its RELEASE.* tags are not semver, so the proxy
# serves commits as pseudo-versions). It builds with Go 1.26.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
BIN_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/gaffer/bin

if [[ -x $BIN_DIR/minio && $(cat "$BIN_DIR/minio.version" 2>/dev/null) == "$MINIO_VERSION" ]]; then
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed: cannot build minio" >&2; exit 1; }
mkdir -p "$BIN_DIR"
echo "building minio $MINIO_VERSION into $BIN_DIR (a few minutes, once)"
start=$SECONDS
# Build outside any module, so the repository's files are not involved.
(cd "$(mktemp -d)" && GOBIN=$BIN_DIR GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION")
echo "$MINIO_VERSION" >"$BIN_DIR/minio.version"
echo "minio built in $((SECONDS - start)) s"
