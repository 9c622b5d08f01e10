"""The little that seed 003's workers share: read the payload, resolve paths, write the result.

gaffer's command contract: the payload JSON is in $GAFFER_PAYLOAD_FILE (and on stdin), the result
JSON goes to $GAFFER_RESULT_FILE. Outputs go to the payload's `output` path if given, else to
$OUTPUT_DIR/<job id>/ (default .gaffer/outputs/<job id>/), as seed 003's workers upload to their
`output_location`. Not next to the result file: gaffer deletes a job's scratch directory when the
command exits.
"""
import json
import os
import sys


def payload():
    path = os.environ.get("GAFFER_PAYLOAD_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    raw = sys.stdin.read().strip()
    return json.loads(raw) if raw else {}


def input_path(path):
    """A local input path; s3:// and the like are not fetched by these examples."""
    if not path:
        fail("the payload names no input file")
    if "://" in path and not path.startswith("file://"):
        fail(f"only local files are supported by the example workers, got {path}")
    path = path.removeprefix("file://")
    if not os.path.isfile(path):
        fail(f"input file not found: {path} (relative paths are from {os.getcwd()})")
    return path


def output_path(p, default_name):
    """Where to write an output: p['output'] if given, else $OUTPUT_DIR/<job id>/default_name."""
    out = p.get("output") or p.get("output_location")
    if not out:
        base = os.environ.get("OUTPUT_DIR") or os.path.join(".gaffer", "outputs")
        out = os.path.join(base, os.environ.get("GAFFER_JOB_ID", "manual"), default_name)
    elif out.endswith("/"):
        out = os.path.join(out, default_name)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    return os.path.abspath(out)


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


def read_csv(path):
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def number(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
