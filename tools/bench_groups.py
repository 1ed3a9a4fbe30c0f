#!/usr/bin/python3
"""Geometric means of bench --csv ratios to onednn, depthwise (grouped) layers apart from the rest:
    convconf bench --set mobilenet --mb 2 --csv b.csv && tools/bench_groups.py b.csv"""
import csv, math, sys, collections
r = [x for x in csv.DictReader(open(sys.argv[1])) if x["row"] == "measurement" and x["variant"] != "onednn"]
g = collections.defaultdict(list)
for x in r: g[("depthwise" if x["descriptor"].startswith("g") else "ungrouped", x["variant"], x["direction"])].append(float(x["ratio_to_onednn"]))
for k in sorted(g): print("%-10s %-8s %-7s %2d layers  geomean %.3f  min %.3f" % (*k, len(g[k]), math.exp(sum(map(math.log, g[k])) / len(g[k])), min(g[k])))
