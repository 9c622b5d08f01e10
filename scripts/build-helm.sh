#!/usr/bin/env bash
# Builds helm (the Kubernetes package manager, for the chart tests in test/deploy/helm.test.ts and
# test/k8s/helm.test.ts) from the Go module proxy into a cache outside the repository (binaries are
# never committed): ${XDG_CACHE_HOME:-$HOME/.cache}/gaffer/bin/helm.
# Needs: go (1.26). Idempotent: a binary already present at the pinned version is kept.
set -euo pipefail
HELM_VERSION=v4.3.2
BIN_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/gaffer/bin

if [[ -x $BIN_DIR/helm && $(cat "$BIN_DIR/helm.version" 2>/dev/null) == "$HELM_VERSION" ]]; then
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed: cannot build helm" >&2; exit 1; }
mkdir -p "$BIN_DIR"
echo "building helm $HELM_VERSION into $BIN_DIR (a few minutes, once)"
start=$SECONDS
# Build outside any module, so the repository's files are not involved. The -X flag sets the
# version `helm version` prints (as helm's own release build does).
(cd "$(mktemp -d)" && GOBIN=$BIN_DIR GOTOOLCHAIN=local GOFLAGS=-buildvcs=false go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v4/cmd/helm@$HELM_VERSION")
echo "$HELM_VERSION" >"$BIN_DIR/helm.version"
echo "helm built in $((SECONDS - start)) s"
