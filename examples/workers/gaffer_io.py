"""The little that seed 003's workers share: read the payload, find inputs, place outputs, report.

gaffer's command contract: the payload JSON is in $GAFFER_PAYLOAD_FILE (and on stdin), the result
JSON goes to $GAFFER_RESULT_FILE.

Files: a job names its input files in `data.inputs` (s3://… or local references); gaffer downloads
them into $GAFFER_INPUT_DIR before the job runs, and uploads what the job wrote to
$GAFFER_OUTPUT_DIR to `data.output` after it succeeded (README "Job data by reference"). These
workers read only from their input directory and write only to their output directory: a payload
field that names a file is a name relative to $GAFFER_INPUT_DIR (an absolute name, `..`, or one
that resolves outside it is refused), and outputs get fixed names. A job without data references
has no input directory; its outputs go to $OUTPUT_DIR/<job id>/ (the environment's setting, not
the payload's; default .gaffer/outputs). A payload these rules refuse exits with EX_USAGE (64), which the job types list in
retry.nonRetryableExitCodes: running it again would not help.
"""
import json
import os
import re
import sys

EX_USAGE = 64  # a bad payload: not retried (retry.nonRetryableExitCodes)


def payload():
    path = os.environ.get("GAFFER_PAYLOAD_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    raw = sys.stdin.read().strip()
    return json.loads(raw) if raw else {}


def inside(base, name, what):
    """base/name, resolved (symlinks too), if it stays inside base; else the job fails."""
    if not isinstance(name, str) or not name or "\0" in name:
        refuse(f"{what}: expected a file name, got {json.dumps(name)}")
    if "://" in name or os.path.isabs(name) or name.startswith("~"):
        refuse(f"{what}: {name} is not a name relative to the input directory; name the file in "
             "data.inputs (gaffer stages it into $GAFFER_INPUT_DIR) and give its name here")
    if ".." in re.split(r"[\\/]", name):
        refuse(f"{what}: {name}: '..' is not allowed")
    root = os.path.realpath(base)
    path = os.path.realpath(os.path.join(root, name))
    if os.path.commonpath([root, path]) != root or path == root:
        refuse(f"{what}: {name} resolves outside the input directory")
    return path


def input_path(name, what="input"):
    """The file `name` in the job's input directory ($GAFFER_INPUT_DIR), which must hold it."""
    base = os.environ.get("GAFFER_INPUT_DIR")
    if not base:
        refuse(f"{what}: this job has no input directory: name the input file in data.inputs "
             "(gaffer submit --input REF), then its name here")
    path = inside(base, name, what)
    if not os.path.isfile(path):
        present = sorted(os.listdir(base))
        refuse(f"{what}: no file {name} in the input directory (data.inputs staged: {', '.join(present) or 'nothing'})")
    return path


def output_dir():
    """$GAFFER_OUTPUT_DIR (uploaded to data.output), else $OUTPUT_DIR/<job id>/."""
    out = os.environ.get("GAFFER_OUTPUT_DIR")
    if not out:
        base = os.environ.get("OUTPUT_DIR") or os.path.join(".gaffer", "outputs")
        job = re.sub(r"[^\w.-]", "_", os.environ.get("GAFFER_JOB_ID", "manual")).lstrip(".") or "manual"
        out = os.path.join(base, job)
    os.makedirs(out, exist_ok=True)
    return os.path.abspath(out)


def output_path(name):
    """Where to write the output `name` (a fixed name chosen by the worker, never the payload's)."""
    return os.path.join(output_dir(), name)


def shown(path):
    """An output as a result names it: its name in $GAFFER_OUTPUT_DIR (a scratch folder gaffer
    uploads to data.output, then removes), else its path."""
    return os.path.basename(path) if os.environ.get("GAFFER_OUTPUT_DIR") else path


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2)
    os.replace(tmp, path)


def log(message):
    print(message, file=sys.stderr, flush=True)


def succeed(result):
    """Writes the result JSON where gaffer reads it (and prints it, for a run by hand)."""
    path = os.environ.get("GAFFER_RESULT_FILE")
    if path:
        write_json(path, result)
    print(json.dumps(result))
    sys.exit(0)


def fail(message, code=1):
    log(message)
    sys.exit(code)


def refuse(message):
    """Fails the job for a payload it cannot run (exit 64: not retried)."""
    fail(message, EX_USAGE)


def read_csv(path):
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
