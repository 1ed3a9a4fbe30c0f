#!/usr/bin/env python3
"""Checks the files `convconf bench --csv --json --svg` wrote: each parses, and they hold
the same measurements and geometric means.

usage: bench_output_check.py CSV JSON SVG MEASUREMENTS
"""
import csv
import json
import sys
import xml.etree.ElementTree as ET


def main(csv_path, json_path, svg_path, measurements):
    with open(json_path) as f:
        doc = json.load(f)
    assert doc["format"] == "convconf-bench/1", doc["format"]
    rows = doc["measurements"]
    assert len(rows) == measurements, f"{len(rows)} measurements in {json_path}, want {measurements}"
    for r in rows:
        assert r["status"] == "measured", r
        assert r["median_ms"] > 0 and r["throughput"] > 0 and len(r["times_ms"]) >= 1, r
        assert r["unit"] == ("GFLOP/s" if r["op"] == "conv2d" else "GB/s"), r
        if r["variant"] == "onednn":
            assert r["ratio_to_onednn"] == 1, r
    assert doc["geomeans"], "no geometric means"
    assert all(g["ratio_to_onednn"] > 0 for g in doc["geomeans"]), doc["geomeans"]

    with open(csv_path, newline="") as f:
        table = list(csv.DictReader(f))
    kinds = [r["row"] for r in table]
    assert kinds.count("measurement") == measurements, kinds
    assert kinds.count("geomean") == len(doc["geomeans"]), kinds
    for c, j in zip((r for r in table if r["row"] == "measurement"), rows):
        assert (c["problem"], c["direction"], c["variant"]) == (j["problem"], j["direction"], j["variant"])
        assert float(c["median_ms"]) == j["median_ms"], (c, j)
        assert float(c["ratio_to_onednn"]) == j["ratio_to_onednn"], (c, j)

    root = ET.parse(svg_path).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "geometric mean" in texts and "throughput relative to onednn" in texts, texts
    print(f"bench output ok: {measurements} measurements, {len(doc['geomeans'])} geometric means")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
