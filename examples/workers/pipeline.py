#!/usr/bin/env python3
"""Seed 003's pipeline worker: ingests a CSV and writes per-column statistics.

Payload (seed 003's shape), with the CSV named in the job's data.inputs:
  {"pipeline_id": "sensor-data-pipeline",
   "parameters": {"input_data": "sensors.csv", "output_format": "json"}}
`input_data` is a file name in the job's input directory ($GAFFER_INPUT_DIR, gaffer_io.py).
Output: summary.json (or summary.csv, with output_format "csv") in the output directory; result:
its path, the row count and the columns.
"""
import csv

import gaffer_io as g


def summarize(rows):
    columns = list(rows[0].keys()) if rows else []
    stats = {}
    for col in columns:
        values = [g.number(r[col]) for r in rows]
        nums = [v for v in values if v is not None]
        if nums and len(nums) == len(values):
            stats[col] = {
                "count": len(nums),
                "min": min(nums),
                "max": max(nums),
                "mean": round(sum(nums) / len(nums), 6),
            }
        else:
            stats[col] = {"count": len(values), "distinct": len(set(r[col] for r in rows))}
    return columns, stats


def main():
    p = g.payload()
    params = p.get("parameters", {})
    name = params.get("input_data")
    source = g.input_path(name, "parameters.input_data")
    fmt = params.get("output_format", "json")
    rows = g.read_csv(source)
    g.log(f"pipeline {p.get('pipeline_id', '?')}: {len(rows)} rows from {name}")
    columns, stats = summarize(rows)
    out = g.output_path(f"summary.{'csv' if fmt == 'csv' else 'json'}")
    if fmt == "csv":
        with open(out, "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["column", "count", "min", "max", "mean", "distinct"])
            for col, s in stats.items():
                w.writerow([col] + [s.get(k, "") for k in ("count", "min", "max", "mean", "distinct")])
    else:
        g.write_json(out, {"pipeline_id": p.get("pipeline_id"), "rows": len(rows), "columns": stats})
    g.succeed({"pipeline_id": p.get("pipeline_id"), "rows": len(rows), "columns": columns, "output": g.shown(out)})


if __name__ == "__main__":
    main()
