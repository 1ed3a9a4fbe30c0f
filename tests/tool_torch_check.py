#!/usr/bin/env python3
"""PyTorch through the worker protocol (tools/python/torch_worker.py): a second industrial
reference beside oneDNN, over the whole default conformance run.

- every check it runs passes: conv2d in every direction, layout and padding, max pooling
  with argmax, im2col and col2im (unfold and fold), golden cases included;
- the only checks it declines are max pooling on NaN and infinite data, each with the
  reason, and the reason is true: run anyway (CONVCONF_TORCH_UNDECLINED=1), exactly
  those checks fail, and nothing else does.

usage: tool_torch_check.py CONVCONF SOURCE_DIR PYTHON3"""
import json
import os
import subprocess
import sys
import tempfile

BIN, SOURCE = (os.path.abspath(a) for a in sys.argv[1:3])
PY = sys.argv[3]
WORKER = PY + " " + os.path.join(SOURCE, "tools", "python", "torch_worker.py")


def run(*args, **extra):
    e = dict(os.environ)
    for k in ("CONVCONF_PLUGINS", "CONVCONF_WORKERS", "CONVCONF_TORCH_UNDECLINED"):
        e.pop(k, None)
    e.update(extra)
    with tempfile.TemporaryDirectory() as tmp:
        report = os.path.join(tmp, "torch.json")
        r = subprocess.run([BIN, "run", "--worker", WORKER, "--variant", "torch", "--json", report, *args],
                           capture_output=True, text=True, env=e)
        records = json.load(open(report))["checks"] if os.path.exists(report) else None
    return r, records


def main():
    r, records = run()
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    passed = [c for c in records if c["status"] == "passed"]
    skipped = [c for c in records if c["status"] == "skipped"]
    groups = {c["group"] for c in passed}
    for g in ("conv2d FWD_B", "conv2d FWD_D", "conv2d BWD_D", "conv2d BWD_W", "conv2d BWD_WB", "maxpool2d FWD",
              "maxpool2d BWD", "im2col FWD", "col2im FWD", "golden conv2d forward", "golden maxpool2d forward"):
        assert g in groups, g
    assert len(passed) > 2000, len(passed)
    for g in ("avgpool2d FWD", "avgpool2d BWD", "golden avgpool2d forward", "golden avgpool2d backward"):
        assert g in groups, g  # average pooling and ceil mode, through F.avg_pool2d and ceil_mode=
    assert any("ceil1" in c["name"] or "ceil" in c["name"] for c in passed if "pool" in c["group"])
    # What is declined, and why: NaN max pooling (PyTorch's rule differs), and pooling that
    # PyTorch's own padding cannot express (asymmetric or over half the kernel, needed by ceil
    # mode and the average's divisor) or avg_pool2d cannot (dilation). Nothing else.
    nan = [c for c in skipped if "PyTorch's max_pool2d takes the last NaN" in c["detail"]]
    padding = [c for c in skipped if c["detail"].endswith("PyTorch's pooling pads symmetrically by at most half the "
                                                          "kernel, which ceil mode and average pooling need: this "
                                                          "padding is not one it can take")]
    dilation = [c for c in skipped if c["detail"].endswith("F.avg_pool2d has no dilation")]
    assert nan and padding and dilation and len(nan) + len(padding) + len(dilation) == len(skipped), \
        [c for c in skipped if c not in nan + padding + dilation][:3]
    assert all("maxpool2d" in c["group"] for c in nan)
    assert all("avgpool2d" in c["group"] or "ceil" in c["name"] for c in padding), padding[:2]
    assert all("avgpool2d" in c["group"] for c in dilation)
    skipped = nan

    # The reason, tested: undeclined, the NaN pooling checks fail, and only they.
    r2, records2 = run("--op", "maxpool2d", CONVCONF_TORCH_UNDECLINED="1")
    assert r2.returncode == 1, r2.stdout[-3000:]
    failed = {(c["group"], c["name"]) for c in records2 if c["status"] == "failed"}
    declined = {(c["group"], c["name"]) for c in skipped}
    assert failed and failed <= declined, sorted(failed - declined)[:5]
    assert "MISMATCH maxpool2d forward output argmax: variant torch" in r2.stdout
    print("tool_torch_check: %d checks passed through PyTorch; %d declined for NaN pooling, %d of which fail "
          "when run anyway" % (len(passed), len(skipped), len(failed)))


if __name__ == "__main__":
    main()
