#!/usr/bin/env python3
"""Seed 003's ML inference worker: applies a model written by ml-training.

Payload:
  {"model": "path/to/model.json", "inputs": [{"temperature": 21.5}, ...]}
  or {"model": "...", "dataset": "examples/data/sensors.csv"}   (predicts every row)
Output: predictions.json; result: its path, the count and the first predictions.
"""
import json

import gaffer_io as g


def main():
    p = g.payload()
    with open(g.input_path(p.get("model")), encoding="utf-8") as f:
        model = json.load(f)
    if p.get("dataset"):
        inputs = g.read_csv(g.input_path(p["dataset"]))
    else:
        inputs = p.get("inputs") or []
    if not inputs:
        g.fail("payload needs inputs (a list of objects) or dataset (a CSV path)")
    predictions = []
    for row in inputs:
        x = [g.number(row.get(f)) for f in model["features"]]
        if any(v is None for v in x):
            predictions.append(None)
            continue
        z = [(v - m) / s for v, m, s in zip(x, model["means"], model["stds"])]
        predictions.append(round(sum(w * v for w, v in zip(model["weights"], z)) + model["bias"], 6))
    out = g.output_path(p, "predictions.json")
    g.write_json(out, {"target": model["target"], "predictions": predictions})
    g.log(f"predicted {len(predictions)} values of {model['target']}")
    g.succeed({"predictions": out, "count": len(predictions), "first": predictions[:5]})


if __name__ == "__main__":
    main()
