# The generic command worker: `gaffer worker`, nothing else. Build your own image FROM it and add
# what your job type's command needs (docs/deploy.md):
#   FROM gaffer-worker
#   USER root
#   RUN apt-get update && apt-get install -y --no-install-recommends python3 && rm -rf /var/lib/apt/lists/*
#   COPY my_worker.py /opt/my/
#   USER 10001:10001
# A worker knows only gaffer's address, a worker token and the broker's address (never the store's
# credentials):
#   gaffer --url $GAFFER_URL worker --type T [--broker URL]   (token in $GAFFER_WORKER_TOKEN)
# Built by scripts/build-images.sh from the same context as deploy/Dockerfile (which says what it
# holds): Node and npm from the npm registry's packages, gaffer from its packed tarball, on a
# Debian bookworm BASE. The final image has no npm, no compilers and no dev dependencies, and runs
# as UID 10001.
ARG BASE=docker.io/library/debian:bookworm-slim

FROM ${BASE} AS build
ADD node.tgz /opt/node/
# Node's symbol table and debug sections (15 MB) are not needed to run it: stripped, by binutils
# installed in this stage only (its dynamic symbols, which native addons link against, stay).
RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      binutils >/dev/null && strip /opt/node/package/bin/node
ADD npm.tgz /opt/npm/
COPY gaffer.tgz /tmp/gaffer.tgz
# A global install into its own prefix: lib/node_modules/gaffer, and bin/gaffer linked to its bin.
# The dependencies' source maps and type declarations (a third of their size) are not run: deleted.
# npm trusts the system's CA bundle too (scripts/build-images.sh mounts the host's over it, so a
# build behind a TLS-inspecting proxy trusts what the host trusts).
RUN PATH=/opt/node/package/bin:$PATH NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    node /opt/npm/package/bin/npm-cli.js install --global --prefix /opt/gaffer --omit=dev \
      --no-audit --no-fund --no-update-notifier --cache /tmp/npm-cache /tmp/gaffer.tgz \
 && find /opt/gaffer/lib/node_modules/gaffer/node_modules -type f \
      \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

FROM ${BASE}
ARG VERSION=0.0.0
ARG REVISION=unknown
ARG CREATED=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="gaffer-worker" \
      org.opencontainers.image.description="gaffer's generic command worker: build your worker image FROM it" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="MIT"
COPY --from=build /opt/node/package/bin/node /usr/local/bin/node
COPY --from=build /opt/gaffer /opt/gaffer
RUN ln -s /opt/gaffer/bin/gaffer /usr/local/bin/gaffer \
 && groupadd --gid 10001 gaffer \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/gaffer --create-home --shell /usr/sbin/nologin gaffer
ENV NODE_ENV=production
# Jobs' scratch directories live under the working directory.
WORKDIR /var/lib/gaffer
USER 10001:10001
ENTRYPOINT ["node", "--max-semi-space-size=16", "/usr/local/bin/gaffer"]
CMD ["worker", "--help"]
