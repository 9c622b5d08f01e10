#!/usr/bin/env bash
# Builds the Kubernetes test control plane from the Go module proxy into a cache outside the
# repository (binaries are never committed), for test/helpers/servers/kube.ts:
#   k8s-testbin   one multi-call binary (tools/k8s-testbin), reached through the symlinks
#                 kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd
#   kwok          simulated nodes and pod lifecycles (sigs.k8s.io/kwok), standing in for kubelets
# Output: ${XDG_CACHE_HOME:-$HOME/.cache}/gaffer/k8s/<k8s version>/ — the directory is printed
# last. Idempotent: skipped when the stamp there matches the pinned versions and the sources of
# tools/k8s-testbin. On 2 cores a build from empty Go caches took about 12 minutes (module downloads
# included, ~0.8 GB of modules, ~3.7 GB of build cache); a rebuild with warm caches takes seconds.
# Usage: scripts/build-k8s-testbin.sh [--force] [--print-dir]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$ROOT/tools/k8s-testbin
# The version of k8s.io/kubernetes pinned in tools/k8s-testbin/go.mod (staging modules: v0.MINOR.PATCH).
K8S_VERSION=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ { print $2; exit }' "$SRC/go.mod")
[[ -n $K8S_VERSION ]] || { echo "no k8s.io/kubernetes version in $SRC/go.mod" >&2; exit 1; }
K8S_MINOR=$(cut -d. -f2 <<<"$K8S_VERSION")
# v0.7.0 supports Kubernetes up to 1.33 and its go directive (1.24.0) suits Go 1.26; v0.8.0 needs
# Go 1.26.0 exactly, HEAD a newer Go than this machine has.
KWOK_VERSION=v0.7.0
OUT=${XDG_CACHE_HOME:-$HOME/.cache}/gaffer/k8s/$K8S_VERSION

force=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --print-dir) echo "$OUT"; exit 0 ;;
    *) echo "usage: $0 [--force] [--print-dir]" >&2; exit 2 ;;
  esac
done

src_hash=$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" | sha256sum | cut -c1-16)
stamp="kubernetes=$K8S_VERSION kwok=$KWOK_VERSION src=$src_hash"
names=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd)
if ((!force)) && [[ -x $OUT/k8s-testbin && -x $OUT/kwok && $(cat "$OUT/version" 2>/dev/null) == "$stamp" ]]; then
  echo "$OUT is up to date ($stamp)"
  exit 0
fi
command -v go >/dev/null || { echo "go is not installed: cannot build the Kubernetes test binaries" >&2; exit 1; }
mkdir -p "$OUT"
rm -f "$OUT/version"
# Use the machine's Go as it is: nothing here needs another toolchain.
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false

start=$SECONDS
echo "building Kubernetes $K8S_VERSION control plane into $OUT (tens of minutes on 2 cores, once)"
ldflags="-s -w"
ldflags+=" -X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
ldflags+=" -X k8s.io/component-base/version.gitMinor=$K8S_MINOR"
ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=$K8S_MINOR"
(cd "$SRC" && go build -trimpath -ldflags "$ldflags" -o "$OUT/k8s-testbin.tmp" .)
mv -f "$OUT/k8s-testbin.tmp" "$OUT/k8s-testbin"
for name in "${names[@]}"; do ln -sfn k8s-testbin "$OUT/$name"; done
echo "k8s-testbin built in $((SECONDS - start)) s"

kwok_start=$SECONDS
# Build outside any module, so the repository's go.mod files are not involved.
(cd "$(mktemp -d)" && GOBIN=$OUT go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
echo "kwok built in $((SECONDS - kwok_start)) s"

echo "$stamp" >"$OUT/version"
echo "Kubernetes test binaries built in $((SECONDS - start)) s:"
printf '  %-12s %6.1f MB  (also as: %s)\n' k8s-testbin "$(($(stat -c %s "$OUT/k8s-testbin") / 104858))e-1" "${names[*]}"
printf '  %-12s %6.1f MB\n' kwok "$(($(stat -c %s "$OUT/kwok") / 104858))e-1"
echo "$OUT"
