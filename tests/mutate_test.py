#!/usr/bin/python3
"""The mutation runner's own logic (tools/mutate.py), in a second or two: the exact mutants
of a fixed snippet (comments, strings, preprocessor lines and asserts untouched), the
stratified seeded sample, and a whole run on a three-file C++ project built with ninja,
whose five mutants must come out killed by the first stage, survived, killed by the
second stage, stillborn and timed out, with the tree untouched and the build left with
nothing to do; then the parsers of ctest's and ninja's output, and bad usage exiting 2.

    mutate_test.py TOOLS_DIR
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, sys.argv[1])
import mutate  # noqa: E402

SNIPPET = """\
#include <vector>
#define TWICE(x) ((x) + (x))
// a comment: a + b < c
int64_t f(const std::vector<int64_t>& v, int64_t kh, int64_t n) {
    int64_t acc = 0;  /* kh * 2 */
    for (int64_t i = 0; i < n; ++i) {
        if (v[i] == 1 && kh > 2) continue;
        acc += v[i] * kh - 1;
    }
    assert(acc >= 0 && n < 9);
    const char* s = "a + b <= c";
    return std::min(acc, n) / 1 + 0;
}
"""

# Every mutant of SNIPPET. None on lines 1-4 (preprocessor, comment, template brackets
# and declared names), 10 (assert) and 11 (a string); none equivalent on line 12 (/ 1
# and + 0 are not swapped) nor a 1 -> 0 on line 8 (the same as dropping "- 1").
EXPECTED = [
    (5, "literal", "    int64_t acc = 1;  /* kh * 2 */"),
    (6, "loop-bound", "    for (int64_t i = 0; i < n - 1; ++i) {"),
    (6, "literal", "    for (int64_t i = 1; i < n; ++i) {"),
    (6, "relational", "    for (int64_t i = 0; i <= n; ++i) {"),
    (7, "relational", "        if (v[i] != 1 && kh > 2) continue;"),
    (7, "literal", "        if (v[i] == 0 && kh > 2) continue;"),
    (7, "logical", "        if (v[i] == 1 || kh > 2) continue;"),
    (7, "hw-swap", "        if (v[i] == 1 && kw > 2) continue;"),
    (7, "relational", "        if (v[i] == 1 && kh >= 2) continue;"),
    (7, "literal", "        if (v[i] == 1 && kh > 3) continue;"),
    (7, "delete", "        if (v[i] == 1 && kh > 2) ;"),
    (8, "arith", "        acc -= v[i] * kh - 1;"),
    (8, "arith", "        acc = v[i] * kh - 1;"),
    (8, "arith", "        acc += v[i] / kh - 1;"),
    (8, "hw-swap", "        acc += v[i] * kw - 1;"),
    (8, "arith", "        acc += v[i] * kh + 1;"),
    (8, "plus-one", "        acc += v[i] * kh;"),
    (8, "delete", "        ;"),
    (12, "minmax", "    return std::max(acc, n) / 1 + 0;"),
    (12, "literal", "    return std::min(acc, n) / 0 + 0;"),
    (12, "literal", "    return std::min(acc, n) / 1 + 1;"),
]


def test_generator():
    got = [(m.line, m.operator, m.mutated) for m in mutate.mutants_of("snippet.cpp", SNIPPET)]
    assert got == EXPECTED, "mutants of the snippet:\n" + "\n".join(map(repr, got))
    m = mutate.mutants_of("snippet.cpp", SNIPPET)[0]
    assert m.describe() == "`0` -> `1`", m.describe()
    assert m.diff(SNIPPET.split("\n")).startswith("--- a/snippet.cpp\n+++ b/snippet.cpp\n@@ -2,7 +2,7 @@\n")
    # Whole tokens in descriptions: != -> == (not ! -> =), KH -> KW (not H -> W).
    assert mutate.describe_change("a != b", "a == b") == "`!=` -> `==`"
    assert mutate.describe_change("x = KH;", "x = KW;") == "`KH` -> `KW`"
    assert mutate.describe_change("i < n", "i <= n") == "`<` -> `<=`"


def test_sample():
    files = {"a.cpp": mutate.mutants_of("a.cpp", SNIPPET), "b.cpp": mutate.mutants_of("b.cpp", SNIPPET),
             "c.hpp": mutate.mutants_of("c.hpp", SNIPPET), "empty.hpp": []}
    picked = [(m.id, m.file, m.line, m.operator) for m in mutate.sample(files, 5, seed=1)]
    assert picked == [("m01", "b.cpp", 7, "relational"), ("m02", "c.hpp", 6, "relational"),
                      ("m03", "a.cpp", 8, "arith"), ("m04", "b.cpp", 8, "arith"),
                      ("m05", "c.hpp", 8, "plus-one")], picked
    # Stratified: the first round takes one of each file with mutants; no mutant twice.
    assert {f for _, f, _, _ in picked[:3]} == {"a.cpp", "b.cpp", "c.hpp"}
    everything = mutate.sample(files, 1000, seed=1)
    assert len(everything) == 3 * len(EXPECTED)
    assert len({(m.file, m.line, m.mutated) for m in everything}) == len(everything)
    # The seed decides; the same seed, the same mutants.
    again = [(m.id, m.file, m.line, m.operator) for m in mutate.sample(files, 5, seed=1)]
    other = [(m.id, m.file, m.line, m.operator) for m in mutate.sample(files, 5, seed=2)]
    assert again == picked and other != picked


# A tiny project: `t quick` checks scale() only, `t full` everything.
PROJECT = {
    "a.cpp": """\
int scale(int x) { return x * 3; }
int area(int kh) { return kh * 2; }
int spin(int n) {
    int i = 0;
    while (true) {
        if (i >= n) break;
        ++i;
    }
    return i;
}
""",
    "b.cpp": """\
int never_called() { return 0; }
int twice(int x) { return x + x; }
""",
    "c.cpp": """\
#include <cstdio>
int breaks_the_machine() { return 0; }
void maybe_break() { if (breaks_the_machine()) std::fclose(std::fopen("broken", "w")); }
""",
    "main.cpp": """\
#include <unistd.h>
int scale(int), area(int), spin(int), twice(int);
void maybe_break();
int main(int argc, char** argv) {
    if (access("broken", F_OK) == 0) return 2;  // the machine, not the program
    maybe_break();
    if (scale(2) != 6) return 1;
    if (argc > 1 && argv[1][0] == 'q') return 0;
    return twice(4) == 8 && area(3) == 6 && spin(5) == 5 ? 0 : 1;
}
""",
    "build.ninja": """\
builddir = build
rule cxx
  command = g++ -O0 -MMD -MF $out.d -c $in -o $out
  depfile = $out.d
  deps = gcc
rule link
  command = g++ $in -o $out
build build/a.o: cxx a.cpp
build build/b.o: cxx b.cpp
build build/c.o: cxx c.cpp
build build/main.o: cxx main.cpp
build build/t: link build/a.o build/b.o build/c.o build/main.o
""",
}


def pick(file, text, operator, mutated):
    for m in mutate.mutants_of(file, PROJECT[file]):
        if m.operator == operator and m.mutated == mutated:
            return m
    raise AssertionError(f"no {operator} mutant {mutated!r} of {file}")


def exit_summary(output, returncode):
    return f"exit {returncode}"


def test_run_on_a_tiny_project():
    chosen = [
        pick("a.cpp", None, "arith", "int scale(int x) { return x / 3; }"),           # quick fails
        pick("b.cpp", None, "literal", "int never_called() { return 1; }"),           # equivalent
        pick("b.cpp", None, "arith", "int twice(int x) { return x - x; }"),           # only full fails
        pick("a.cpp", None, "hw-swap", "int area(int kh) { return kw * 2; }"),        # no kw: stillborn
        pick("a.cpp", None, "delete", "        if (i >= n) ;"),                       # never ends
        pick("c.cpp", None, "literal", "int breaks_the_machine() { return 1; }"),     # leaves "broken"
    ]
    for i, m in enumerate(chosen, 1):
        m.id = f"m{i}"
    project = mutate.Project(configure=["true"], build=["ninja"], build_dir="build",
                             stages=[mutate.Stage("quick", ["build/t", "quick"], exit_summary),
                                     mutate.Stage("full", ["build/t"], exit_summary)],
                             timeout_floor=0.5)
    with tempfile.TemporaryDirectory() as tmp:
        root, work = os.path.join(tmp, "tree"), os.path.join(tmp, "work")
        os.makedirs(root)
        for name, text in PROJECT.items():
            with open(os.path.join(root, name), "w") as f:
                f.write(text)
        before = {n: (open(os.path.join(root, n)).read(), os.stat(os.path.join(root, n)).st_mtime_ns) for n in PROJECT}
        log = []
        base, timeouts, results, _ = mutate.mutate(project, root, work, chosen, 3.0, True, log.append)
        got = {k: (r["status"], r["killed_by"]) for k, r in results.items()}
        # m2 survives only if m1's object was put back: the build after a mutant is the
        # unmutated one plus the next mutant, never the previous mutant too.
        assert got == {"m1": ("killed", "quick"), "m2": ("survived", None), "m3": ("killed", "full"),
                       "m4": ("stillborn", None), "m5": ("killed", "timeout"),
                       "m6": ("void", "full")}, (got, log)
        assert "the unmutated tree fails it too" in results["m6"]["detail"], results["m6"]
        assert "full" not in results["m1"]["seconds"], "the second stage ran after the first failed"
        assert "kw" in results["m4"]["detail"], results["m4"]["detail"]
        assert results["m5"]["detail"] == "full over 0 s" or results["m5"]["detail"].startswith("full over"), results["m5"]
        assert mutate.score(results) == {"killed": 3, "survived": 1, "stillborn": 1, "void": 1, "timeout": 1,
                                         "score": 0.75}
        os.remove(os.path.join(work, "tree", "broken"))  # m6's mark on the machine
        # The tree itself: never written, no build directory made in it.
        after = {n: (open(os.path.join(root, n)).read(), os.stat(os.path.join(root, n)).st_mtime_ns) for n in PROJECT}
        assert after == before and sorted(os.listdir(root)) == sorted(PROJECT)
        # Kept (keep=True): the scratch copy is unmutated and its build has nothing to do.
        scratch = os.path.join(work, "tree")
        for name, text in PROJECT.items():
            assert open(os.path.join(scratch, name)).read() == text, name
        dry = subprocess.run(["ninja", "-n"], cwd=scratch, capture_output=True, text=True).stdout
        assert "no work to do" in dry, dry
        assert not os.path.exists(os.path.join(work, "pristine"))
        # Not kept: the scratch copy goes.
        mutate.mutate(project, root, work, chosen[1:2], 3.0, False, log.append)
        assert not os.path.exists(scratch)


def test_output_parsers():
    ctest = """\
93% tests passed, 2 tests failed out of 30

The following tests FAILED:
\t  7 - Golden/GoldenTest.Case/naive_f32 (Failed)
\t 12 - tool_check_passes (Timeout)
Errors while running CTest
"""
    assert mutate.ctest_failures(ctest) == ["Golden/GoldenTest.Case/naive_f32", "tool_check_passes"]
    assert mutate.ctest_failures("100% tests passed, 0 tests failed out of 30\n") == []
    # Without the closing list, the progress lines.
    progress = ("    Start 2: fails\n2/4 Test #2: fails ............................***Failed    0.01 sec\n"
                "3/4 Test  #3: ok2 ..............................   Passed    0.00 sec\n")
    assert mutate.ctest_failures(progress) == ["fails"]
    assert mutate.run_summary("x\n10 passed, 2 failed, 0 skipped\n", 1) == "10 passed, 2 failed, 0 skipped"
    assert mutate.run_summary("", -11) == "signal 11"
    assert mutate.build_failure("FAILED: CMakeFiles/convconf_core.dir/impl/core/types.cpp.o \n") == "compile"
    assert mutate.build_failure("FAILED: convconf_tests \nCMake Error at GoogleTestAddTests.cmake:112:\n"
                                "  Error running test executable.\n") == "discovery"


def test_bad_usage():
    import contextlib
    import io
    for args, message in ((["0"], 'N: "0" is not a whole number >= 1'),
                          (["--seed", "x"], '--seed: "x" is not a whole number >= 0'),
                          (["--timeout-factor", "1"], '--timeout-factor: "1" is not a number > 1'),
                          (["--files", "tools/*"], "--files: no C++ file under impl/ or reference/ matches tools/*")):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                mutate.main([*args, "--dry-run"])
                status = 0
            except SystemExit as e:
                status = e.code
        assert status == 2 and message in err.getvalue(), (args, status, err.getvalue())
    # And through the script itself, as tools/dev runs it.
    r = subprocess.run([sys.executable, os.path.join(sys.argv[1], "mutate.py"), "--no-such-option"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "unrecognized arguments: --no-such-option" in r.stderr, r


if __name__ == "__main__":
    for name, test in list(globals().items()):
        if name.startswith("test_"):
            test()
            print("ok", name)
