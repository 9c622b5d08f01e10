#!/usr/bin/env python3
"""Seed 003's ML training worker: fits a linear model by gradient descent, in plain Python.

Payload, with the CSV named in the job's data.inputs:
  {"dataset": "sensors.csv", "features": ["temperature"], "target": "pressure",
   "epochs": 200, "learning_rate": 0.1}
`dataset` is a file name in the job's input directory ($GAFFER_INPUT_DIR, gaffer_io.py).
Output: model.json (weights, feature scaling) in the output directory; result: the model itself
(a few numbers), the file's path and the final loss. A later ml-inference job takes the model,
inline or as model.json among its own data.inputs.
"""
import gaffer_io as g


def main():
    p = g.payload()
    rows = g.read_csv(g.input_path(p.get("dataset"), "dataset"))
    features = p.get("features") or []
    target = p.get("target")
    if not features or not target:
        g.refuse("payload needs features (a list of columns) and target (a column)")
    data = []
    for r in rows:
        x = [g.number(r.get(f)) for f in features]
        y = g.number(r.get(target))
        if y is not None and all(v is not None for v in x):
            data.append((x, y))
    if len(data) < 2:
        g.fail(f"need at least 2 numeric rows, found {len(data)}")
    # standardise features so one learning rate fits all
    means = [sum(x[i] for x, _ in data) / len(data) for i in range(len(features))]
    stds = [max(1e-9, (sum((x[i] - means[i]) ** 2 for x, _ in data) / len(data)) ** 0.5) for i in range(len(features))]
    xs = [[(x[i] - means[i]) / stds[i] for i in range(len(features))] for x, _ in data]
    ys = [y for _, y in data]
    w = [0.0] * len(features)
    b = 0.0
    lr = float(p.get("learning_rate", 0.1))
    epochs = int(p.get("epochs", 200))
    n = len(xs)
    loss = 0.0
    for epoch in range(epochs):
        errors = [sum(wi * xi for wi, xi in zip(w, x)) + b - y for x, y in zip(xs, ys)]
        loss = sum(e * e for e in errors) / n
        w = [wi - lr * 2 * sum(e * x[i] for e, x in zip(errors, xs)) / n for i, wi in enumerate(w)]
        b -= lr * 2 * sum(errors) / n
        if epoch % max(1, epochs // 5) == 0:
            g.log(f"epoch {epoch}: mse {loss:.6f}")
    model = {"kind": "linear", "features": features, "target": target, "weights": w, "bias": b, "means": means, "stds": stds}
    out = g.output_path("model.json")
    g.write_json(out, model)
    g.succeed({"model": model, "modelFile": g.shown(out), "rows": n, "epochs": epochs, "mse": round(loss, 6)})


if __name__ == "__main__":
    main()
