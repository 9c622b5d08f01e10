#!/usr/bin/env python3
"""Seed 003's ML inference worker: applies a model written by ml-training.

Payload:
  {"model": {…the training result's model…}, "inputs": [{"temperature": 21.5}, ...]}
  or {"model": "model.json", "dataset": "sensors.csv"}   (files named in the job's data.inputs)
A string `model` or a `dataset` is a file name in the job's input directory ($GAFFER_INPUT_DIR,
gaffer_io.py); a dataset predicts every row.
Output: predictions.json in the output directory; result: its path, the count and the first
predictions.
"""
import json

import gaffer_io as g


def load_model(spec):
    if isinstance(spec, dict):
        model = spec
    else:
        with open(g.input_path(spec, "model"), encoding="utf-8") as f:
            try:
                model = json.load(f)
            except ValueError:
                g.refuse("model: the file is not a model written by ml-training")
    try:
        features, target = list(model["features"]), str(model["target"])
        numbers = {k: [float(v) for v in model[k]] for k in ("weights", "means", "stds")}
        bias = float(model["bias"])
    except (KeyError, TypeError, ValueError):
        g.refuse("model: not a model written by ml-training (features, target, weights, means, stds, bias)")
    if not all(len(numbers[k]) == len(features) for k in numbers):
        g.refuse("model: weights, means and stds must have one value per feature")
    if any(s == 0 for s in numbers["stds"]):
        g.refuse("model: a feature's std is 0")
    return {"features": features, "target": target, "bias": bias, **numbers}


def main():
    p = g.payload()
    model = load_model(p.get("model"))
    if p.get("dataset"):
        inputs = g.read_csv(g.input_path(p["dataset"], "dataset"))
    else:
        inputs = p.get("inputs") or []
    if not inputs:
        g.refuse("payload needs inputs (a list of objects) or dataset (a CSV file in data.inputs)")
    predictions = []
    for row in inputs:
        x = [g.number(row.get(f)) for f in model["features"]] if isinstance(row, dict) else [None]
        if any(v is None for v in x):
            predictions.append(None)
            continue
        z = [(v - m) / s for v, m, s in zip(x, model["means"], model["stds"])]
        predictions.append(round(sum(w * v for w, v in zip(model["weights"], z)) + model["bias"], 6))
    out = g.output_path("predictions.json")
    g.write_json(out, {"target": model["target"], "predictions": predictions})
    g.log(f"predicted {len(predictions)} values of {model['target']}")
    g.succeed({"predictions": g.shown(out), "count": len(predictions), "first": predictions[:5]})


if __name__ == "__main__":
    main()
