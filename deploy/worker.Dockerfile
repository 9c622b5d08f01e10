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
# It is gaffer's image (deploy/Dockerfile, which says what it holds: Node, gaffer and its
# production dependencies, UID 10001, no npm, compilers or dev dependencies) named and started as
# a worker; scripts/build-images.sh passes the gaffer image it has just built as GAFFER_IMAGE.
ARG GAFFER_IMAGE=gaffer
FROM ${GAFFER_IMAGE}
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
# Jobs' scratch directories live under the working directory.
WORKDIR /var/lib/gaffer
ENTRYPOINT ["node", "--max-semi-space-size=16", "/usr/local/bin/gaffer"]
CMD ["worker", "--help"]
