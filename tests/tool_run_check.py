#!/usr/bin/env python3
"""Runs the built `convconf run` and checks what CI relies on: the closing line, the exit
codes, --junit and --json agreeing with it, the same results with 1 and 2 threads, and
--shard splitting the run exactly."""
import json
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

BIN = sys.argv[1]
SMALL = ["--variant", "naive", "--variant", "strided", "--op", "maxpool2d", "--count", "30"]


def run(*args):
    return subprocess.run([BIN, "run", *args], capture_output=True, text=True)


def closing(stdout):
    m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", stdout, re.M)
    assert m, "no closing line in:\n" + stdout
    return tuple(int(g) for g in m.groups())


def main():
    with tempfile.TemporaryDirectory() as tmp:
        junit, report = os.path.join(tmp, "r.xml"), os.path.join(tmp, "r.json")
        r = run(*SMALL, "--junit", junit, "--json", report)
        assert r.returncode == 0, r.stdout + r.stderr
        passed, failed, skipped = closing(r.stdout)
        assert passed > 0 and failed == 0

        suite = ET.parse(junit).getroot().find("testsuite")
        cases = suite.findall("testcase")
        assert len(cases) == passed + failed + skipped, (len(cases), passed, failed, skipped)
        assert int(suite.get("failures")) == failed and int(suite.get("skipped")) == skipped
        assert all(c.get("classname").split(".")[0] in ("naive", "strided") for c in cases)

        doc = json.load(open(report))
        assert (doc["passed"], doc["failed"], doc["skipped"]) == (passed, failed, skipped)
        assert len(doc["checks"]) == len(cases)
        assert {c["status"] for c in doc["checks"]} <= {"passed", "skipped"}
        # Each record's accuracy: against the reference or the golden values, the worst
        # element's share of its bound at most 1 in a pass, all 0 in a skip.
        for c in doc["checks"]:
            figures = (c["max_abs_error"], c["max_rel_error"], c["max_bound_use"])
            assert all(f >= 0 for f in figures), c
            if c["status"] == "skipped":
                assert figures == (0, 0, 0), c
            assert c["max_bound_use"] <= 1, c
        assert any(0 < c["max_bound_use"] < 1 for c in doc["checks"] if " float " in c["name"]), "no bound used"

        # What each pass is worth: naive's generated checks compare naive with itself (only
        # guards and poison can fail them), golden cases and every other variant are evidence.
        def expected_evidence(variant, group):
            if group.startswith("golden "):
                return "golden"
            return "self" if variant == "naive" else "reference"
        evidence = {(c["variant"], c["group"], c["evidence"]) for c in doc["checks"]}
        assert all(e == expected_evidence(v, g) for v, g, e in evidence), evidence
        assert {e for _, _, e in evidence} == {"golden", "reference", "self"}, evidence
        for case in cases:
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            variant, group = case.get("classname").split(".", 1)
            assert props == {"evidence": expected_evidence(variant, group)}, (case.get("classname"), props)
        rows = re.findall(r"^(naive|strided) +(.+?) +(golden|reference|self) +(\d+) +(\d+) +(\d+)$", r.stdout, re.M)
        assert rows and sum(int(p) + int(f) + int(k) for *_, p, f, k in rows) == passed + failed + skipped, r.stdout
        assert all(e == expected_evidence(v, g) for v, g, e, *_ in rows), rows
        by = {e: sum(1 for c in doc["checks"] if c["evidence"] == e and c["status"] == "passed")
              for e in ("golden", "reference", "self")}
        line = (f"evidence of the passed: {by['golden']} against golden values, {by['reference']} against the naive "
                f"reference, {by['self']} self (naive against itself: guards and poison only)")
        assert line in r.stdout.splitlines(), (line, r.stdout)

        # One thread or two: the same checks with the same results, in the same order.
        reports = []
        for threads in ("1", "2"):
            path = os.path.join(tmp, f"t{threads}.json")
            r = run(*SMALL, "--threads", threads, "--json", path)
            assert r.returncode == 0, r.stdout + r.stderr
            reports.append([{k: v for k, v in c.items() if k != "seconds"} for c in json.load(open(path))["checks"]])
        assert reports[0] == reports[1], "results differ between 1 and 2 threads"

        # convconf golden --json/--junit: the same records run gives its golden checks (run
        # orders them by variant first, golden by case), with the same totals.
        golden_json, golden_xml = os.path.join(tmp, "g.json"), os.path.join(tmp, "g.xml")
        g = subprocess.run([BIN, "golden", "--variant", "naive", "--variant", "strided", "--json", golden_json,
                            "--junit", golden_xml], capture_output=True, text=True)
        assert g.returncode == 0, g.stdout + g.stderr
        gdoc = json.load(open(golden_json))
        strip = lambda checks: sorted(([(k, v) for k, v in c.items() if k != "seconds"] for c in checks))
        whole_run = os.path.join(tmp, "whole.json")
        r = run("--variant", "naive", "--variant", "strided", "--count", "0", "--json", whole_run)
        assert r.returncode == 0, r.stdout + r.stderr
        from_run = [c for c in json.load(open(whole_run))["checks"] if c["group"].startswith("golden ")]
        assert strip(gdoc["checks"]) == strip(from_run), "golden --json differs from run's golden records"
        assert (gdoc["passed"], gdoc["failed"], gdoc["skipped"]) == closing(g.stdout)
        gsuite = ET.parse(golden_xml).getroot().find("testsuite")
        assert len(gsuite.findall("testcase")) == len(gdoc["checks"]) > 0

    # Shards: disjoint, and together exactly the whole run.
    whole = run(*SMALL, "--list").stdout.splitlines()[:-1]
    parts = [run(*SMALL, "--list", "--shard", f"{i}/3").stdout.splitlines()[:-1] for i in (1, 2, 3)]
    union = [line for part in parts for line in part]
    assert sorted(union) == sorted(whole) and len(set(union)) == len(union) == len(whole), "shards do not partition the run"

    # The same seed gives the same sweep; another seed another one.
    again = run(*SMALL, "--list").stdout
    assert again.splitlines()[:-1] == whole
    other = run(*SMALL, "--list", "--seed", "2").stdout.splitlines()[:-1]
    assert other != whole

    for bad, flag in ((["--shard", "0/3"], "--shard"), (["--count", "x"], "--count"), (["--op", "conv3d"], "--op"),
                      (["--threads", "0"], "--threads")):
        r = run(*bad)
        assert r.returncode == 2 and flag in r.stderr, (bad, r.returncode, r.stderr)
    print("tool run checks: ok")


if __name__ == "__main__":
    main()
