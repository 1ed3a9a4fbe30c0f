#!/usr/bin/env python3
"""Plugins (impl/plugin/convconf_plugin.h) through the built convconf, as a kernel author
and another project's CI use them:

- the strided family built as a plugin passes exactly the checks the in-tree strided
  passes, counted the same, in the whole default run (the ABI carries everything);
- the example plugin builds with the README's one cc command and nothing but the header,
  and its run passes conv2d f32 and skips the rest with the reasons it gives;
- a deliberately wrong plugin is caught, its report names the library, and its repro line
  pasted into a shell reproduces the failure; so does the property tests' shrunk
  counterexample, through its saved golden file and repro line;
- --plugin works on run, check, golden, bench and variants, and so does CONVCONF_PLUGINS;
- every bad plugin is an error naming the path and what is wrong, exit 2, never a crash.

usage: tool_plugin_check.py CONVCONF CONVCONF_TESTS BUILD_DIR SOURCE_DIR"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

BIN, TESTS, BUILD, SOURCE = (os.path.abspath(a) for a in sys.argv[1:5])
STRIDED = os.path.join(BUILD, "libconvconf_strided_plugin.so")


def test_plugin(kind):
    return os.path.join(BUILD, "libtest_plugin_%s.so" % kind)


def convconf(*args, env=None):
    e = dict(os.environ)
    e.pop("CONVCONF_PLUGINS", None)
    e.update(env or {})
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=e)


# GCC 12's LeakSanitizer crashes (signal 11 in its tracer, scanning thread-local storage) at
# the exit of a whole default run with the strided plugin dlopen'd: 3 of 3 runs under the
# ASan preset since contract 1.1 grew the run, while the same run op by op, and every other
# command here, passes with leak checking on. That one command runs with it off under ASan
# (AddressSanitizer itself stays on), and only it.
def without_leak_check():
    opts = os.environ.get("ASAN_OPTIONS")
    return {"ASAN_OPTIONS": opts + ":detect_leaks=0"} if opts is not None else {}


def closing(stdout):
    m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", stdout, re.M)
    assert m, "no closing line in:\n" + stdout
    return tuple(int(g) for g in m.groups())


def expect(r, status, *patterns):
    out = r.stdout + r.stderr
    assert r.returncode == status, "exit %d, not %d:\n%s" % (r.returncode, status, out[-4000:])
    for p in patterns:
        assert re.search(p, out, re.M | re.S), "no %r in:\n%s" % (p, out[-4000:])


def strided_through_the_abi(tmp):
    """The whole default run: strided-plugin's checks are strided's, status for status."""
    inside, outside = os.path.join(tmp, "in.json"), os.path.join(tmp, "out.json")
    a = convconf("run", "--variant", "strided", "--json", inside)
    b = convconf("run", "--plugin", STRIDED, "--variant", "strided-plugin", "--json", outside, env=without_leak_check())
    expect(a, 0)
    expect(b, 0)
    assert closing(a.stdout) == closing(b.stdout), (closing(a.stdout), closing(b.stdout))

    def checks(path):
        return sorted((c["group"], c["name"], c["status"], c["evidence"]) for c in json.load(open(path))["checks"])
    ca, cb = checks(inside), checks(outside)
    assert ca == cb, "first difference: %r" % next((x, y) for x, y in zip(ca, cb) if x != y)
    passed, _, skipped = closing(a.stdout)
    assert passed > 1000, passed
    # The table names the plugin's variant as it names an in-tree one.
    assert re.search(r"^strided-plugin +golden conv2d forward +golden +[1-9]\d* +0 +\d+$", b.stdout, re.M), b.stdout[-3000:]


def example(tmp):
    """README's "Testing your own kernel", command for command."""
    header = os.path.join(SOURCE, "impl", "plugin")
    source = os.path.join(SOURCE, "impl", "plugin", "example", "mine.c")
    built = subprocess.run(["cc", "-shared", "-fPIC", "-I" + header, source, "-o", "libmine.so"],
                           cwd=tmp, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    j = os.path.join(tmp, "mine.json")
    r = subprocess.run([BIN, "run", "--plugin", "./libmine.so", "--variant", "mine", "--json", j], cwd=tmp,
                       capture_output=True, text=True)
    expect(r, 0, r"^mine +golden conv2d forward +golden +[1-9]\d* +0 +[1-9]\d*$",
           r"^mine +conv2d FWD_B +reference +[1-9]\d* +0 +[1-9]\d*$",
           r"^mine +maxpool2d FWD +reference +0 +0 +[1-9]\d*$")
    passed, failed, skipped = closing(r.stdout)
    assert passed > 0 and failed == 0 and skipped > 0
    # The reasons a skip gives are the plugin's own, or that it has no kernel for the op.
    reasons = {c["detail"] for c in json.load(open(j))["checks"] if c["status"] == "skipped"}
    assert reasons == {"plugin mine: mine computes in f32 only", "plugin mine has no kernel for maxpool2d",
                       "plugin mine has no kernel for im2col", "plugin mine has no kernel for col2im",
                       "plugin mine has no kernel for avgpool2d"}, reasons
    # check, golden and variants take the plugin too.
    expect(subprocess.run([BIN, "check", "--plugin", "./libmine.so", "--variant", "mine", "--dir", "BWD_WB",
                           "mb2ic3ih5oc4kh3ph1"], cwd=tmp, capture_output=True, text=True),
           0, r"^  mine +passed +reference ")
    expect(subprocess.run([BIN, "golden", "--plugin", "./libmine.so", "--variant", "mine"], cwd=tmp,
                          capture_output=True, text=True), 0, r"^[1-9]\d* passed, 0 failed, [1-9]\d* skipped$")
    expect(subprocess.run([BIN, "variants", "--plugin", "./libmine.so"], cwd=tmp, capture_output=True, text=True),
           0, r"^naive  .*^mine  conv2d in direct loops, f32.* \[plugin /\S+/libmine\.so\]$")


def wrong_plugin_is_caught(tmp):
    wrong = test_plugin("wrong_padding")
    r = convconf("run", "--plugin", wrong, "--variant", "wrong-padding", "--op", "conv2d")
    expect(r, 1, r"^MISMATCH conv2d forward output y: variant wrong-padding, ",
           r"^  data: .*; implementation: plugin " + re.escape(os.path.realpath(wrong)) + "$",
           r"^  repro: convconf check --plugin " + re.escape(os.path.realpath(wrong)) + " --variant wrong-padding ")
    passed, failed, _ = closing(r.stdout)
    assert failed > 0 and passed > 0  # right where no right padding changes ow
    # Each repro line, pasted as it is, fails again (convconf is on PATH in a user's shell).
    repro = re.search(r"^  repro: (convconf check .*)$", r.stdout, re.M).group(1)
    again = subprocess.run(repro, shell=True, capture_output=True, text=True,
                           env=dict(os.environ, PATH=os.path.dirname(BIN) + os.pathsep + os.environ["PATH"]))
    expect(again, 1, r"^MISMATCH conv2d forward output y: variant wrong-padding")
    golden_repro = re.search(r"^  repro: (convconf golden .*)$", r.stdout, re.M)
    assert golden_repro, "no golden case caught it:\n" + r.stdout[-3000:]

    # The property tests on a plugin: CONVCONF_PLUGINS adds it to the registry, rapidcheck
    # shrinks, the counterexample is saved, and its repro line fails when pasted.
    failures = os.path.join(tmp, "failures")
    os.mkdir(failures)
    p = subprocess.run([TESTS, "--gtest_filter=Registry/Property.Holds/ExactOnIntegerData_wrong_padding"],
                       capture_output=True, text=True,
                       env=dict(os.environ, CONVCONF_PLUGINS=wrong, CONVCONF_FAILURES_DIR=failures))
    assert p.returncode == 1, p.stdout[-3000:]
    saved = re.search(r"(convconf golden --file \S+ --case \S+ --plugin \S+ --variant wrong-padding --dtype f\d\d)",
                      p.stdout)
    assert saved, "no saved repro line in:\n" + p.stdout[-3000:]
    # Shrunk: one image, one channel in and out (a right padding of 2 is what it takes).
    problem = re.search(r"^minimal failing case: conv2d FWD_\S+ f\d\d \S+ \S+ (\S+) seed", p.stdout, re.M).group(1)
    assert problem.startswith("mb1ic1ih1iw1oc1"), problem
    again = subprocess.run(saved.group(1), shell=True, capture_output=True, text=True,
                           env=dict(os.environ, PATH=os.path.dirname(BIN) + os.pathsep + os.environ["PATH"]))
    expect(again, 1, r"^MISMATCH conv2d forward output y: variant wrong-padding", r"^0 passed, 1 failed, 0 skipped$")


def bad_plugins(tmp):
    text = os.path.join(tmp, "notes.txt")
    open(text, "w").write("not a library\n")
    missing = os.path.join(tmp, "nowhere.so")
    real = os.path.realpath(test_plugin("wrong_padding"))
    cases = [
        ([missing], r"^convconf: --plugin: plugin " + re.escape(missing) + ": no such file$"),
        ([tmp], r"plugin " + re.escape(tmp) + ": is a directory, not a shared library$"),
        ([text], r"plugin " + re.escape(text) + r": not a loadable shared library: .*notes\.txt.*"),
        ([test_plugin("no_entry")], r": no exported function convconf_plugin_entry \(.*undefined symbol"),
        ([test_plugin("abi_99")], r": built for plugin ABI version 99, but this convconf has ABI version 1 "),
        ([test_plugin("duplicate")], r": variant naive has the name of an in-tree variant$"),
        ([test_plugin("bad_name")], r": variant 0: its name must be 1 to 64 letters, digits, '_' or '-', not \"my\.kernel\"$"),
        ([test_plugin("null_run")], r": variant wrong-padding: declares conv2d but its run function is NULL$"),
        ([test_plugin("wrong_padding"), test_plugin("second_copy")],
         r"libtest_plugin_second_copy\.so: variant wrong-padding has the name of a variant of plugin " +
         re.escape(real) + "$"),
    ]
    for paths, message in cases:
        for command in (["run"], ["check", "mb1ic1ih3oc1kh2"], ["golden"], ["bench", "mb1ic1ih3oc1kh2"], ["variants"]):
            args = [a for p in paths for a in ("--plugin", p)]
            expect(convconf(*command, *args), 2, message)
    # The environment variable: the same errors, saying where the path came from.
    expect(convconf("variants", env={"CONVCONF_PLUGINS": missing}), 2,
           r"^convconf: CONVCONF_PLUGINS: plugin " + re.escape(missing) + ": no such file$")
    # The same library twice (by two paths, and through both ways in) is loaded once.
    twice = convconf("variants", "--plugin", STRIDED, "--plugin", os.path.relpath(STRIDED),
                     env={"CONVCONF_PLUGINS": STRIDED + "::"})
    expect(twice, 0)
    assert twice.stdout.count("strided-plugin  ") == 1, twice.stdout
    # supports() says yes, then run() fails: a failed check with the plugin's message.
    r = convconf("check", "--plugin", test_plugin("run_fails"), "--variant", "run-fails", "mb1ic1ih3oc1kh2")
    expect(r, 1, r"variant run-fails threw: plugin \S+libtest_plugin_run_fails\.so: run\(\) returned status 1 for a "
                 r"call its supports\(\) accepted: deliberate failure of run_fails$")
    # An optional output left out: the rest is compared, and the check says what it did not
    # check. y is not optional: saying so is the plugin's error.
    report = os.path.join(tmp, "pool.json")
    r = convconf("run", "--plugin", test_plugin("pool_y_only"), "--variant", "pool-y-only", "--op", "maxpool2d",
                 "--json", report)
    expect(r, 0)
    checks = json.load(open(report))["checks"]
    # Golden cases that expect an error never reach the variant (their names say so).
    ran = [c for c in checks if c["status"] == "passed" and " error_" not in c["name"]]
    assert ran and all(c["detail"] == "LEFT OUT maxpool2d forward output argmax: variant pool-y-only does not "
                       "compute it (an optional output), so it is not checked\n" for c in ran), ran[:2]
    # pool-y-only is built as a plugin of the header before ceil_mode: convconf declines every
    # ceil-mode call for it (its own supports() would have taken them), and only those.
    predates = "plugin pool-y-only was built with a convconf_plugin.h that predates ceil_mode"
    declined = [c for c in checks if c["detail"].startswith(predates)]
    assert declined and all(c["status"] == "skipped" for c in declined), declined[:2]
    assert all("ceil" in c["name"] for c in declined), declined[:2]
    r = convconf("check", "--plugin", test_plugin("leaves_out_y"), "--variant", "pool-y-only", "mb1ic1ih4kh2sh2")
    expect(r, 1, r"variant pool-y-only threw: plugin \S+libtest_plugin_leaves_out_y\.so: run\(\) left out y, "
                 r"which maxpool2d FWD does not let a variant leave out$")
    # An option nobody takes is still an error: golden add has no --plugin.
    expect(convconf("golden", "add", "--plugin", STRIDED), 2, r"--plugin")


def bench(tmp):
    """bench times a plugin's variant beside oneDNN, and its workspace column is the one
    workspace_bytes() answers from the shapes: strided's, through the ABI."""
    r = convconf("bench", "--plugin", STRIDED, "--variant", "strided", "--variant", "strided-plugin",
                 "--variant", "onednn", "--reps", "1", "--warmup", "0", "--threads", "1",
                 "--dir", "FWD_B,BWD_WB,FWD", "mb1ic4ih8oc4kh3", "mb1ic4ih8kh2sh2")
    expect(r, 0, r"^mb1ic4ih8oc4kh3 +FWD_B +NCHW/OIHW +strided-plugin +1 +\S+ +\S+ GFLOP/s +\d+ +[0-9.]+$")
    rows = re.findall(r"^(mb\S+) +(\S+) +\S+ +(strided|strided-plugin) +\d+ +\S+ +\S+ \S+/s +(\d+) ", r.stdout, re.M)
    inside = {(p, d): w for p, d, v, w in rows if v == "strided"}
    outside = {(p, d): w for p, d, v, w in rows if v == "strided-plugin"}
    assert len(inside) == 3 and inside == outside, (inside, outside, r.stdout)
    assert any(w != "0" for w in inside.values()), inside


def main():
    with tempfile.TemporaryDirectory() as tmp:
        bad_plugins(tmp)
        example(tmp)
        wrong_plugin_is_caught(tmp)
        bench(tmp)
        strided_through_the_abi(tmp)
    print("ok")


if __name__ == "__main__":
    main()
