#!/usr/bin/env python3
"""XNNPACK through the plugin ABI, as an expected-divergence test (docs/xnnpack.md).

The whole default run on the xnnpack variant must find XNNPACK's known divergences from
the contract and pass everything else. XNNPACK's max-pooling (its argmax pooling, the one
that gives the index maxpool2d forward writes):

- NaN: ignores a NaN (the contract: a NaN in the window is the maximum). The `special`
  fill, which puts NaN and infinities in x, shows it: y (and argmax) differ.
- ties: keeps the first of equal maxima in column order (the contract: the first in row
  order, i*kw + j). y is right and only argmax differs.
- padding: clamps a padded tap's coordinates into x, reading the edge element again, and
  can report that tap in the padding as the choice (the contract pads with -infinity, so
  its choice is always in x). y is right and only argmax differs. The default run has no
  padded pooling that XNNPACK's argmax pooling takes, so the checks below show it.
- not the window's taps: its max pooling (any stride and dilation, y alone: argmax is
  left out) clamps a padded tap into x too, and with dilation the element it lands on need
  not be a tap of the window; below x it reads past the end. Either can only raise y. The
  plugin's copy of x is followed by +infinity, so a read past the end shows as y = +inf.

Four windows worked by hand (tests/data/xnnpack_divergences.json) pin each down, from the
contract alone:
  [[1, NaN], [2, 0]]         contract y NaN, argmax 1;         XNNPACK y 2, argmax 2
  [[1, 3], [3, 1]]           contract y 3, argmax 1 (row first); XNNPACK argmax 2 (column first)
  [[5]] padded to 2x2 at top and left
                             contract y 5, argmax 3 (the one element); XNNPACK argmax 0
  x = -1 -2 -3 -4 -5 (a column), kernel 5x1, dilation 2, padding 6 above and below
                             contract y -1 -2 -1 -2 -1 -2 -1 -2 -3; XNNPACK +inf in the last 4
A change in XNNPACK's behaviour, or in the plugin, fails this test either way: a divergence
gone, a new one, or a check that fails for another reason.

usage: tool_xnnpack_check.py CONVCONF BUILD_DIR SOURCE_DIR"""
import json
import os
import re
import subprocess
import sys
import tempfile

BIN, BUILD, SOURCE = (os.path.abspath(a) for a in sys.argv[1:4])
PLUGIN = os.path.join(BUILD, "libconvconf_xnnpack_plugin.so")


def convconf(*args):
    env = dict(os.environ)
    env.pop("CONVCONF_PLUGINS", None)
    return subprocess.run([BIN, *args, "--plugin", PLUGIN], capture_output=True, text=True, env=env)


def mismatched_outputs(detail):
    return sorted(set(re.findall(r"^MISMATCH \S+ \S+ output (\S+):", detail, re.M)))


def whole_run(tmp):
    report = os.path.join(tmp, "xnnpack.json")
    r = convconf("run", "--variant", "xnnpack", "--json", report)
    assert r.returncode == 1, "exit %d:\n%s" % (r.returncode, (r.stdout + r.stderr)[-3000:])
    doc = json.load(open(report))
    failed = [c for c in doc["checks"] if c["status"] == "failed"]
    found = {"nan": 0, "ties": 0, "not the window's taps": 0}
    for c in failed:
        outputs = mismatched_outputs(c["detail"])
        assert c["group"] in ("maxpool2d FWD", "sweep maxpool2d FWD", "golden maxpool2d forward"), \
            (c["name"], c["detail"][:2000])
        assert not re.search(r"^(ERROR|VIOLATION)", c["detail"], re.M), c["detail"][:2000]
        if " special " in c["name"]:
            assert "y" in outputs, (c["name"], outputs)
            found["nan"] += 1
        elif "y" in outputs:
            # A dilated window (benchdnn's dh/dw tokens count from 0) with padding, argmax
            # left out, and every wrong y above the contract's: XNNPACK took elements that
            # are not the window's taps (+inf: past the end of x).
            got = "".join(re.findall(r"output y: .*?(?=\n  repro:)", c["detail"], re.S))
            pairs = re.findall(r"\(n,c,h,w\)=\([\d,]+\) got (\S+) want (\S+)", got)
            assert pairs and all(float(g) > float(w) for g, w in pairs), (c["name"], c["detail"][:2000])
            assert re.search(r"d[hw][1-9]", c["name"]) and re.search(r"p[hw][1-9]", c["name"]), c["name"]
            assert "LEFT OUT" in c["detail"], c["name"]
            found["not the window's taps"] += 1
        else:
            # The named table's poolings XNNPACK can express have no padding: these are ties.
            assert outputs == ["argmax"], (c["name"], outputs, c["detail"][:2000])
            assert not re.search(r" (distinct|float) ", c["name"]), c["name"]  # fills without ties
            found["ties"] += 1
    assert all(found.values()), found
    # Everything XNNPACK can express passes: conv2d forward and backward_data in every
    # layout, padding, stride and dilation of the run.
    passed = {c["group"] for c in doc["checks"] if c["status"] == "passed"}
    for group in ("conv2d FWD_B", "conv2d FWD_D", "conv2d BWD_D", "sweep conv2d BWD_D", "golden conv2d forward"):
        assert group in passed, (group, sorted(passed))
    assert not [c for c in doc["checks"] if c["status"] == "failed" and c["group"].startswith(("conv2d", "sweep conv2d"))]
    # What it cannot express is skipped with its reason.
    reasons = {c["detail"] for c in doc["checks"] if c["status"] == "skipped"}
    for reason in ("plugin xnnpack: XNNPACK's operators are f32, f16 and quantised: no f64",
                   "plugin xnnpack: XNNPACK is an inference library: it has no operator for the weights' gradient",
                   "plugin xnnpack: XNNPACK is an inference library: it has no operator for the pooling gradient",
                   "plugin xnnpack has no kernel for im2col"):
        assert reason in reasons, (reason, sorted(reasons))
    return found


def by_hand():
    # The four windows as golden cases (tests/data/xnnpack_divergences.json): expected
    # values from the contract, worked by hand, and naive agrees with them.
    path = os.path.join(SOURCE, "tests", "data", "xnnpack_divergences.json")
    naive = subprocess.run([BIN, "golden", "--file", path, "--variant", "naive"], capture_output=True, text=True)
    assert naive.returncode == 0, naive.stdout + naive.stderr
    r = convconf("golden", "--file", path, "--variant", "xnnpack", "--dtype", "f32")
    assert r.returncode == 1, r.stdout + r.stderr
    out = r.stdout
    nan, rest = out.split("ties_go_to_the_first_in_row_order xnnpack f32\n")
    tie, rest = rest.split("padding_is_never_chosen xnnpack f32\n")
    pad, past = rest.split("a_window_reads_only_x xnnpack f32\n")
    element = r"[^\n]*\n(?:[^\n]*\n){3}\s+\(n,c,h,w\)=\(0,0,0,0\) got %s want %s"
    assert re.search(r"output y: " + element % (2, "nan"), nan), out
    assert re.search(r"output argmax: " + element % (2, 1) + " ", tie), out
    assert re.search(r"output argmax: " + element % (0, 3) + " ", pad), out
    assert "output y" not in tie and "output y" not in pad, out  # the value is right, the choice is not
    assert re.findall(r"\(n,c,h,w\)=\(0,0,(\d),0\) got inf want (\S+)", past) == \
        [("5", "-2"), ("6", "-1"), ("7", "-2"), ("8", "-3")], past
    assert "LEFT OUT maxpool2d forward output argmax" in past, past
    assert re.search(r"^0 passed, 4 failed, 0 skipped$", out, re.M), out


def padding_chosen():
    """With distinct values (no ties, no NaN), every argmax XNNPACK gets wrong names a tap in
    the padding, and y is right: the padding divergence, on problems with padding on each
    side. The same problems unpadded pass."""
    for desc, (ih, iw, kh, kw, pt, pl) in {"mb1ic1ih2iw2kh2kw2sh2sw2ph1pw1": (2, 2, 2, 2, 1, 1),
                                          "mb2ic3ih5iw2oh3kh2kw2sh2sw2ph1": (5, 2, 2, 2, 1, 0),
                                          "mb1ic2ih4iw7ow3kh2kw3sh2sw3ph0pw1": (4, 7, 2, 3, 0, 1)}.items():
        for layout in ("NCHW", "NHWC"):
            r = convconf("check", "--variant", "xnnpack", "--dir", "FWD", "--fill", "distinct", "--layout", layout, desc)
            assert r.returncode == 1, (desc, r.stdout + r.stderr)
            assert re.findall(r"^MISMATCH \S+ \S+ output (\S+):", r.stdout, re.M) == ["argmax"], r.stdout
            bad = re.findall(r"\(n,c,h,w\)=\((\d+),(\d+),(\d+),(\d+)\) got (\d+) want (\d+)", r.stdout)
            assert bad, r.stdout
            for n, c, oh, ow, got, want in bad:
                i, j = divmod(int(got), kw)
                row, col = int(oh) * kh - pt + i, int(ow) * kw - pl + j
                assert not (0 <= row < ih and 0 <= col < iw), (desc, layout, oh, ow, got, "a tap inside x")
    for desc in ("mb1ic1ih4iw4kh2kw2sh2sw2", "mb2ic3ih6iw2kh2kw2sh2sw2"):
        expect_ok = convconf("check", "--variant", "xnnpack", "--dir", "FWD", "--fill", "distinct", desc)
        assert expect_ok.returncode == 0, expect_ok.stdout


def main():
    with tempfile.TemporaryDirectory() as tmp:
        found = whole_run(tmp)
        by_hand()
        padding_chosen()
    print("ok: divergences found in the whole run: " + ", ".join("%s %d" % kv for kv in found.items()))


if __name__ == "__main__":
    main()
