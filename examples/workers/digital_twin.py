#!/usr/bin/env python3
"""Seed 003's digital twin worker: folds sensor readings into a twin's state file.

Payload:
  {"twin_id": "press-7", "readings": [{"sensor": "temperature", "value": 21.4}, ...]}
  or "readings_file": "sensors.csv"  (a file named in the job's data.inputs; columns become sensors)
The state is $TWIN_STATE_DIR/<twin_id>.json (the environment's; default .gaffer/twins): a
twin id is letters, digits, `_`, `-` and `.` (not first), so its file stays in that folder. It keeps,
per sensor, the last value, count, mean, min and max; it is created if missing.
Result: the state path and the sensors updated.
"""
import json
import os
import re
import time

import gaffer_io as g

# The same rule as the job type's payloadSchema (examples/gaffer.config.yaml): checked here too,
# so a run with another config, or none, cannot name a file outside the state folder either.
TWIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def state_path(twin):
    if not isinstance(twin, str) or not TWIN_ID.fullmatch(twin):
        g.refuse(f"twin_id must be 1-64 letters, digits, '_', '-' or '.' (not first), got {json.dumps(twin)}")
    state_dir = os.path.realpath(os.environ.get("TWIN_STATE_DIR") or os.path.join(".gaffer", "twins"))
    os.makedirs(state_dir, exist_ok=True)
    path = os.path.realpath(os.path.join(state_dir, f"{twin}.json"))
    if os.path.dirname(path) != state_dir:
        g.refuse(f"twin {twin}: its state file resolves outside the state folder")
    return path


def readings_of(p):
    if p.get("readings_file"):
        for row in g.read_csv(g.input_path(p["readings_file"], "readings_file")):
            for sensor, raw in row.items():
                value = g.number(raw)
                if value is not None:
                    yield sensor, value
    for r in p.get("readings") or []:
        value = g.number(r.get("value"))
        if value is not None:
            yield r.get("sensor", "value"), value


def main():
    p = g.payload()
    twin = p.get("twin_id") or g.refuse("payload needs twin_id")
    path = state_path(twin)
    state = {"twin_id": twin, "sensors": {}, "updates": 0}
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    touched = set()
    for sensor, value in readings_of(p):
        s = state["sensors"].setdefault(sensor, {"count": 0, "mean": 0.0, "min": value, "max": value})
        s["count"] += 1
        s["mean"] += (value - s["mean"]) / s["count"]
        s["min"], s["max"], s["last"] = min(s["min"], value), max(s["max"], value), value
        touched.add(sensor)
    if not touched:
        g.refuse("no numeric readings in the payload")
    state["updates"] += 1
    state["updatedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    g.write_json(path, state)
    g.log(f"twin {twin}: updated {', '.join(sorted(touched))}")
    g.succeed({"twin_id": twin, "state": path, "sensors": sorted(touched), "updates": state["updates"]})


if __name__ == "__main__":
    main()
