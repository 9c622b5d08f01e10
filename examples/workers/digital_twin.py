#!/usr/bin/env python3
"""Seed 003's digital twin worker: folds sensor readings into a twin's state file.

Payload:
  {"twin_id": "press-7", "state": "optional/state.json"  (default $TWIN_STATE_DIR/<twin_id>.json),
   "readings": [{"sensor": "temperature", "value": 21.4}, ...]}
  or "readings_file": "examples/data/sensors.csv"  (columns become sensors)
The state keeps, per sensor, the last value, count, mean, min and max; it is created if missing.
Result: the state path and the sensors updated.
"""
import json
import os
import time

import gaffer_io as g


def readings_of(p):
    if p.get("readings_file"):
        for row in g.read_csv(g.input_path(p["readings_file"])):
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
    twin = p.get("twin_id") or g.fail("payload needs twin_id")
    state_dir = os.environ.get("TWIN_STATE_DIR") or os.path.join(".gaffer", "twins")
    path = p.get("state") or os.path.join(state_dir, f"{twin}.json")
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
        g.fail("no numeric readings in the payload")
    state["updates"] += 1
    state["updatedAt"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    g.write_json(path, state)
    g.log(f"twin {twin}: updated {', '.join(sorted(touched))}")
    g.succeed({"twin_id": twin, "state": os.path.abspath(path), "sensors": sorted(touched), "updates": state["updates"]})


if __name__ == "__main__":
    main()
