#!/usr/bin/env python3
"""Every reader of user input, run as a user runs it (issue 13): the built convconf on hostile
and broken files, judged by exit status and message. Each must refuse with exit status 2 and
a message naming the option (or command), the file and what is wrong, never crash, never
pass in silence, never show the C++ library's own text alone.

usage: tool_readers_check.py CONVCONF SECTION   (SECTION: nesting, duplicate_keys, numpy, files)
"""
import os
import socket
import subprocess
import sys
import tempfile

TOOL = sys.argv[1]
failures = []

# 001 In [26]/[27]'s pooling input, channel 0, and its 2x2 max-pool, as numpy prints them.
POOL_X = "[[[[7 11 13 15]\n   [3 4 2 3]\n   [1 2 15 9]\n   [1 8 3 10]]]]\n"
POOL_Y = "[[[[11. 15.]\n   [ 8. 15.]]]]\n"


def pool_case(x='[[[[7, 11, 13, 15], [3, 4, 2, 3], [1, 2, 15, 9], [1, 8, 3, 10]]]]',
              y='[[[[11, 15], [8, 15]]]]', name="pool", pass_field='"pass": "forward"'):
    return ('{"name": "%s", "op": "maxpool2d", %s, "kernel": [2, 2], "inputs": {"x": %s}, '
            '"expected": {"y": %s}}' % (name, pass_field, x, y))


def golden_file(*cases, head='"format": "convconf-golden/1", "source": "tests"'):
    return '{%s, "cases": [%s]}\n' % (head, ", ".join(cases))


def run(args, cwd, stdin=""):
    try:
        r = subprocess.run([TOOL, *args], cwd=cwd, input=stdin, capture_output=True, text=True,
                           timeout=60)
    except subprocess.TimeoutExpired:
        return None, "timed out"
    return r.returncode, r.stdout + r.stderr


def expect(args, status, *parts, cwd, stdin="", absent=()):
    """convconf ARGS must exit with `status`, its output holding every one of `parts`."""
    got, out = run(args, cwd, stdin)
    missing = [p for p in parts if p not in out]
    present = [a for a in absent if a in out]
    shown = "convconf " + " ".join(args)
    if got != status or missing or present:
        failures.append(shown)
        print("FAIL  %s\n  exit %s (want %d)%s%s\n  output:\n    %s" % (
            shown, got, status,
            "".join("\n  missing: %r" % p for p in missing),
            "".join("\n  unwanted: %r" % a for a in present),
            "\n    ".join(out.strip().splitlines()[:6])))
    else:
        print("ok    %s -> %d" % (shown, got))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def golden_entry_points(d, name, text):
    """Writes `text` as d/NAME_DIR/name and returns every command that reads it, with the text
    its refusal must name the file by."""
    sub = os.path.join(d, "dir_" + name)
    os.makedirs(sub)
    path = os.path.join(sub, name)
    write(path, text)
    write(os.path.join(d, "x.txt"), POOL_X)
    write(os.path.join(d, "y.txt"), POOL_Y)
    listed = "dir_" + name + "/" + name
    add = ["golden", "add", "--file", path, "--name", "added", "--op", "maxpool2d", "--pass",
           "forward", "--kernel", "2,2", "--input", "x=x.txt", "--expected", "y=y.txt"]
    return [
        (["golden", "check", path], path),
        (["golden", "list", path], path),
        (["golden", "list", "--golden", sub], listed),
        (["golden", "--file", path], path),
        (["golden", "run", "--golden", sub], listed),
        (["run", "--golden", sub, "--variant", "naive", "--count", "0"], listed),
        (add, path),
    ]


def nesting(d):
    # A tensor nested 5,000 deep: golden check recursed once per level and crashed (exit 139).
    deep = "[" * 5000 + "1" + "]" * 5000
    for name, text, message in [
            ("deep_x.json", golden_file(pool_case(x=deep)), "nested deeper than"),
            # Deep where no tensor is: under "note", a field the schema checks first.
            ("deep_note.json", golden_file(pool_case().replace('"name"', '"note": %s, "name"' % deep)),
             "nested deeper than"),
            ("deep_root.json", deep, "nested deeper than")]:
        for args, shown in golden_entry_points(d, name, text):
            expect(args, 2, shown, message, cwd=d)
    # Wide, not deep: 100,000 cases that are not objects. The schema's report stops at its
    # first 100 violations (it held ten million lines and gigabytes on such a file).
    write(os.path.join(d, "wide.json"), golden_file(*(["[]"] * 100000)))
    got, out = run(["golden", "check", "wide.json"], cwd=d)
    lines = out.count("[golden/schema.json]")
    if got != 2 or lines > 101 or "more violations, not listed: convconf lists the first 100" not in out:
        failures.append("golden check wide.json")
        print("FAIL  golden check wide.json: exit %s, %d schema lines (want 2, at most 101 and the note)" % (got, lines))
    else:
        print("ok    golden check wide.json -> 2, %d schema lines" % lines)


def duplicate_keys(d):
    for name, text, message in [
            # "pass" twice: the last won, so this ran backward (and passed with a backward case).
            ("dup_pass.json", golden_file(
                '{"name": "pool", "op": "maxpool2d", "pass": "forward", "pass": "backward", '
                '"kernel": [2, 2], "inputs": {"x": [[[[1, 2], [3, 4]]]], "dy": [[[[1]]]]}, '
                '"expected": {"dx": [[[[0, 0], [0, 1]]]]}}'),
             '(/cases/0) duplicate key "pass"'),
            # "y" twice, the first wrong: the second, right, one was checked, and the case passed.
            ("dup_y.json", golden_file(pool_case(y='[[[[99, 99], [99, 99]]]], "y": [[[[11, 15], [8, 15]]]]')),
             '(/cases/0/expected) duplicate key "y"'),
            ("dup_format.json", golden_file(pool_case(), head='"format": "convconf-golden/1", '
                                                             '"format": "convconf-golden/1"'),
             'duplicate key "format"'),
            ("dup_in_tensor_object.json", golden_file(pool_case(
                x='{"shape": [1, 1, 4, 4], "fill": 1, "fill": 2}', y='[[[[1, 1], [1, 1]]]]')),
             '(/cases/0/inputs/x) duplicate key "fill"')]:
        for args, shown in golden_entry_points(d, name, text):
            expect(args, 2, shown, message, cwd=d)


def numpy(d):
    write(os.path.join(d, "y.txt"), POOL_Y)
    # Each x holds the pooling input with one value spelt as numpy never prints it; the old
    # reader took every one (0xF as 15, 1e999 as infinity), and the case was written.
    for spelling, where, message in [
            ("11,, 13", "1:10", "two ',' in a row"),
            ("11 0xF", "1:10", '"0xF": hexadecimal'),
            ("11 1e999", "1:10", '"1e999": beyond the range of a double'),
            ("11 Infinity", "1:10", '"Infinity": numpy prints infinities as inf and -inf'),
            ("11 +13", "1:10", '"+13": a leading \'+\''),
            ("11 13.E+00", "1:10", '"13.E+00": not a number as numpy prints one'),
            ("11 013", "1:10", '"013": a leading zero'),
            ("11 1e-400", "1:10", '"1e-400": below the smallest double'),
            ("11 9007199254740993", "1:10", "beyond 2^53"),
            ("11 ... 15", "1:10", "numpy summarised this array"),
            ("11, 13", "1:9", "a ',' where the elements before are separated by blanks alone")]:
        x = POOL_X.replace("11 13", spelling, 1)
        write(os.path.join(d, "x.txt"), x)
        out = os.path.join(d, "numpy_out.json")
        if os.path.exists(out):
            os.remove(out)
        expect(["golden", "add", "--file", out, "--name", "pool", "--op", "maxpool2d", "--pass",
                "forward", "--kernel", "2,2", "--input", "x=x.txt", "--expected", "y=y.txt"],
               2, "--input x=x.txt: x.txt:" + where + ": ", message, cwd=d, absent=["added "])
        if os.path.exists(out):
            failures.append("numpy: %r: a file was written" % spelling)
    write(os.path.join(d, "x.txt"), "array([[[[1., 2.]]]], dtype=object)\n")
    expect(["golden", "add", "--file", "o.json", "--name", "p", "--op", "maxpool2d", "--pass", "forward",
            "--kernel", "1,1", "--input", "x=x.txt", "--expected", "y=-"], 2,
           "x.txt:1:23: dtype=object is not a numeric dtype", cwd=d, stdin="[[[[1. 2.]]]]")
    # What numpy prints is still read: repr with a dtype, nan, -0., 1.e+00, a subnormal.
    write(os.path.join(d, "x.txt"), "array([[[[ 7.e+00, 11., 13., 15.],\n"
          "         [ 3.,  4., -0., 5.e-324],\n         [ 1.,  2., nan,  9.],\n"
          "         [ 1.,  8.,  3., 10.]]]], dtype=float32)\n")
    expect(["golden", "add", "--file", "fine.json", "--name", "p", "--op", "maxpool2d", "--pass",
            "forward", "--kernel", "2,2", "--input", "x=x.txt", "--expected", "y=-"], 0,
           "added    p to fine.json", cwd=d, stdin="[[[[11. 15.]\n   [ 8. nan]]]]\n")


def files(d):
    sub = os.path.join(d, "a_dir")
    os.makedirs(sub)
    empty = os.path.join(d, "empty")
    write(empty, "")
    missing = os.path.join(d, "missing")
    write(os.path.join(d, "x.txt"), POOL_X)
    write(os.path.join(d, "y.txt"), POOL_Y)
    golden_dir = os.path.join(d, "golden_ok")
    os.makedirs(golden_dir)
    write(os.path.join(golden_dir, "ok.json"), golden_file(pool_case()))
    sock = os.path.join(d, "a_socket")  # open() fails on it even for root: ENXIO
    s = socket.socket(socket.AF_UNIX)
    s.bind(sock)
    add = ["golden", "add", "--name", "p", "--op", "maxpool2d", "--pass", "forward", "--kernel", "2,2"]

    def add_with(file="new.json", x="x.txt", y="y.txt"):
        return add + ["--file", file, "--input", "x=" + x, "--expected", "y=" + y]

    for path, problem in [(sub, "is a directory, not a file"), (empty, "is empty"),
                          (missing, "no such file"), (sock, "cannot be opened: no such device or address"),
                          ("/proc/self/mem", "cannot be read: input/output error")]:
        if path != missing:  # a missing --file is looked up in the golden directory first
            expect(["golden", "--file", path], 2, "--file " + path + ": " + problem, cwd=d)
        expect(["golden", "check", path], 2, "golden check FILE " + path + ": " + problem, cwd=d)
        expect(["golden", "list", path], 2, "golden list FILE " + path + ": " + problem, cwd=d)
        if path != missing:  # a missing --file is where golden add creates the file
            # golden add writes its --file, so all but an empty one is refused as an output
            # (reference/output_file.hpp) before anything is read.
            as_output = {sub: "Is a directory", sock: "it is not a regular file",
                         "/proc/self/mem": "Operation not permitted"}
            want = (f'--file: cannot write "{path}": {as_output[path]}' if path in as_output
                    else "--file " + path + ": " + problem)
            expect(add_with(file=path), 2, want, cwd=d)
        expect(add_with(x=path), 2, "--input x=" + path + ": " + problem, cwd=d)
        expect(add_with(y=path), 2, "--expected y=" + path + ": " + problem, cwd=d)
        expect(["check", "--batch", path], 2, "--batch " + path + ": " + problem, cwd=d)
        expect(["bench", "--batch", path], 2, "--batch " + path + ": " + problem, cwd=d)
    # A --golden DIR that is no directory.
    for path, problem in [(empty, "is not a directory"), (missing, "no such directory")]:
        for args in (["golden", "--golden", path], ["golden", "list", "--golden", path],
                     ["run", "--golden", path, "--count", "0"]):
            expect(args, 2, "--golden " + path + ": " + problem, cwd=d, absent=["filesystem error"])
    # A *.json in --golden DIR that is no readable file is reported, not skipped in silence.
    os.makedirs(os.path.join(golden_dir, "sub.json"))
    expect(["golden", "--golden", golden_dir], 2, "golden_ok/sub.json: is a directory, not a file", cwd=d)
    os.rmdir(os.path.join(golden_dir, "sub.json"))
    # A batch file with nothing to check would pass, checking nothing.
    write(os.path.join(d, "comments"), "# only a comment\n--mb=2\n")
    expect(["check", "--batch", "comments"], 2, "--batch comments: no descriptor in it", cwd=d)
    # Empty standard input, where an array is expected.
    expect(add_with(y="-"), 2, "--expected y=- (standard input): is empty", cwd=d)
    # Mode 000 stops everyone but root, which these tests may run as.
    locked = os.path.join(d, "locked.json")
    write(locked, golden_file(pool_case()))
    os.chmod(locked, 0)
    if os.geteuid() == 0:
        print("skip  mode 000: running as root, whom no mode stops (the socket and /proc/self/mem "
              "cases above fail to open and to read)")
    else:
        expect(["golden", "check", locked], 2, "golden check FILE " + locked + ": cannot be opened: "
               "permission denied", cwd=d)
    s.close()


SECTIONS = {"nesting": nesting, "duplicate_keys": duplicate_keys, "numpy": numpy, "files": files}

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        SECTIONS[sys.argv[2]](tmp)
    if failures:
        print("%d failed:\n  %s" % (len(failures), "\n  ".join(failures)))
        sys.exit(1)
