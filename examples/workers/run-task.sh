#!/bin/sh
# Seed 004's task runner: a job is an image + command + timeout. Locally there is no container, so
# the payload's `cmd` runs under `sh -c` (its `image` is recorded, and used by the Kubernetes
# executor). The timeout is the job type's timeoutSeconds, or the submission's timeoutSeconds.
# stdout and stderr become the job's log; the exit code decides success.
set -eu
payload="${GAFFER_PAYLOAD_FILE:?GAFFER_PAYLOAD_FILE is not set}"
cmd=$(python3 -c 'import json,sys
p = json.load(open(sys.argv[1]))
c = p.get("cmd") or p.get("command")
if isinstance(c, list):
    import shlex
    c = " ".join(shlex.quote(str(x)) for x in c)
if not c:
    sys.exit("payload has no cmd")
print(c)' "$payload")
image=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("image", ""))' "$payload")
if [ -n "$image" ]; then
  echo "task ${GAFFER_JOB_ID:-?}: image $image (not used by the local executor)" >&2
fi
exec sh -c "$cmd" </dev/null
