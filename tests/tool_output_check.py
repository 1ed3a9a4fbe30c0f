#!/usr/bin/env python3
"""Runs the built convconf and checks that no file it is asked to write is lost (issue 13):
every output path is checked before work starts, a failed write (a full disk: /dev/full, or
a file size limit) is an error that leaves the old file whole, the closing line is always
printed, and the exit status says whether checks failed (1) or only a file was lost (2)."""
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
RUN = ["run", "--variant", "naive", "--op", "im2col", "--count", "3"]
BENCH = ["bench", "--variant", "naive", "--reps", "1", "--warmup", "0", "--dir", "FWD", "mb1ic1ih4kh2sh2"]
CLOSING = re.compile(r"^\d+ passed, (\d+) failed, \d+ skipped$", re.M)


def full_device_intact(after=None):
    """/dev/full must be the full device (character device 1,7). A convconf that replaced it
    by renaming a file over it (a writer that forgot it is not a regular file) would leave
    every later run of this test, on this machine, failing for no fault of its own (this
    happened in a mutation run): the device is put back, where this process may, and the
    check fails naming the command that did it."""
    st = os.stat("/dev/full")
    if stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 7:
        return
    restored = "not restored (needs root: mknod -m 666 /dev/full c 1 7)"
    if os.geteuid() == 0:
        os.remove("/dev/full")
        os.mknod("/dev/full", 0o666 | stat.S_IFCHR, os.makedev(1, 7))
        os.chmod("/dev/full", 0o666)
        restored = "restored"
    if after is None:
        raise AssertionError("/dev/full is not the full device before this test ran (" + restored + ")")
    raise AssertionError("convconf replaced /dev/full with a regular file (" + restored + "): " + " ".join(after))


def tool(*args, limit=None, stdout=subprocess.PIPE):
    def small_files():  # writes past `limit` bytes fail (EFBIG), as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    r = subprocess.run([BIN, *args], stdout=stdout, stderr=subprocess.PIPE, text=True,
                       preexec_fn=small_files if limit else None)
    full_device_intact(after=[BIN, *args])
    return r


def expect(r, status, err, closing=True):
    where = f"convconf exited {r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.returncode == status, f"want exit {status}; " + where
    assert err in r.stderr, f"want {err!r} on stderr; " + where
    if closing is None:
        return
    assert bool(CLOSING.search(r.stdout or "")) == closing, ("want" if closing else "no") + " closing line; " + where


def main():
    full_device_intact()
    with tempfile.TemporaryDirectory() as tmp:
        def at(name):
            return os.path.join(tmp, name)

        # A full disk: the report is an error, the closing line is still printed, exit 2.
        r = tool(*RUN, "--junit", "/dev/full")
        expect(r, 2, 'convconf: --junit: cannot write "/dev/full": No space left on device')
        assert r.stderr.count("cannot write") == 1, r.stderr

        # Paths that cannot be written are refused before any check runs: nothing on stdout.
        os.mkdir(at("dir"))
        with open(at("ro.xml"), "w") as f:
            f.write("mine")
        os.chmod(at("ro.xml"), 0o444)
        for args, err in (
                (["--junit", "/nonexistent/dir/x.xml"],
                 'convconf: --junit: cannot write "/nonexistent/dir/x.xml": No such file or directory'),
                (["--json", at("dir")], f'convconf: --json: cannot write "{at("dir")}": Is a directory'),
                (["--junit", at("ro.xml")], f'convconf: --junit: cannot write "{at("ro.xml")}": it is read-only'),
                (["--junit", at("r"), "--json", at("r")], f'convconf: --json: "{at("r")}" is the file --junit writes')):
            r = tool(*RUN, *args)
            expect(r, 2, err, closing=False)
            assert r.stdout == "", "checks ran before the path was refused:\n" + r.stdout
        assert open(at("ro.xml")).read() == "mine"

        # A failing run keeps its exit 1 when its report is lost too; the closing line says so.
        os.mkdir(at("golden"))
        with open(at("golden/wrong.json"), "w") as f:
            f.write('{"format": "convconf-golden/1", "cases": [{"name": "wrong", "op": "maxpool2d", '
                    '"pass": "forward", "kernel": [2, 2], "inputs": {"x": [[[[1, 2], [3, 4]]]]}, '
                    '"expected": {"y": [[[[5]]]]}}]}')
        r = tool("run", "--variant", "naive", "--golden", at("golden"), "--count", "0", "--op", "maxpool2d",
                 "--junit", "/dev/full", "--json", at("failing.json"))
        expect(r, 1, 'convconf: --junit: cannot write "/dev/full": No space left on device')
        assert int(CLOSING.search(r.stdout).group(1)) > 0, r.stdout
        assert '"failed": 2' in open(at("failing.json")).read()  # the other report is written

        # A write that fails part way leaves the old report whole and no temporary file.
        with open(at("old.json"), "w") as f:
            f.write("the previous report")
        r = tool(*RUN, "--json", at("old.json"), limit=2048)
        expect(r, 2, f'convconf: --json: cannot write "{at("old.json")}": writing ')
        assert "File too large; the file is as it was" in r.stderr, r.stderr
        assert open(at("old.json")).read() == "the previous report"
        assert sorted(os.listdir(tmp)) == ["dir", "failing.json", "golden", "old.json", "ro.xml"], os.listdir(tmp)

        # A report through a symlink: the file it names is written, the link kept.
        with open(at("real.xml"), "w") as f:
            f.write("old")
        os.symlink("real.xml", at("link.xml"))
        r = tool(*RUN, "--junit", at("link.xml"))
        expect(r, 0, "")
        assert os.path.islink(at("link.xml")) and open(at("real.xml")).read().startswith("<?xml")

        # Standard output on a full disk: said on stderr, exit 2.
        with open("/dev/full", "w") as full:
            r = tool(*RUN, stdout=full)
        expect(r, 2, "convconf: cannot write standard output: No space left on device", closing=None)

        # bench: the same rules for --csv, --json and --svg.
        r = tool(*BENCH, "--csv", "/dev/full", "--svg", at("chart.svg"))
        expect(r, 2, 'convconf: --csv: cannot write "/dev/full": No space left on device', closing=None)
        assert re.search(r"^1 measured, 0 skipped, 0 errors", r.stdout, re.M), r.stdout
        assert open(at("chart.svg")).read().startswith("<?xml")
        for flag in ("--csv", "--json", "--svg"):
            r = tool(*BENCH, flag, "/nonexistent/dir/out")
            expect(r, 2, f'convconf: {flag}: cannot write "/nonexistent/dir/out": No such file or directory',
                   closing=None)
            assert r.stdout == "", "bench measured before the path was refused:\n" + r.stdout

        # A report named over a file the command reads (a golden file, a batch file, also
        # through another name) is refused before any work, and the file is left whole.
        golden_file = at("golden/wrong.json")
        before = open(golden_file).read()
        os.symlink(golden_file, at("golden_link.json"))
        for name in (golden_file, at("golden_link.json")):
            r = tool("run", "--variant", "naive", "--golden", at("golden"), "--count", "0", "--json", name)
            expect(r, 2, f'convconf: --json: "{name}" is {golden_file}, which this command reads', closing=False)
            assert r.stdout == "", "checks ran before the path was refused:\n" + r.stdout
        assert open(golden_file).read() == before
        with open(at("shapes.batch"), "w") as f:
            f.write("mb1ic1ih4kh2sh2\n")
        r = tool("bench", "--variant", "naive", "--reps", "1", "--warmup", "0", "--batch", at("shapes.batch"),
                 "--csv", at("shapes.batch"))
        expect(r, 2, f'convconf: --csv: "{at("shapes.batch")}" is {at("shapes.batch")}, which this command reads',
               closing=None)
        assert open(at("shapes.batch")).read() == "mb1ic1ih4kh2sh2\n"

        # Two reports naming one file through a directory link, --list with a report (nothing
        # to write), and a name too long for the temporary file: refused before any work.
        os.symlink(".", at("d"))
        for args, err in (
                (["--junit", at("same.out"), "--json", at("d/same.out")],
                 f'convconf: --json: "{at("d/same.out")}" is the file --junit writes too'),
                (["--list", "--junit", at("listed.xml")], "--list prints what would run and runs nothing"),
                (["--junit", at("n" * 245)], "its name is too long")):
            r = tool(*RUN, *args)
            expect(r, 2, err, closing=False)
            assert r.stdout == "", "checks ran before the path was refused:\n" + r.stdout

        # golden add's lock file is FILE.lock beside it: one the user made (with content) is
        # neither adopted nor removed, and the add is refused.
        for name, text in (("x.txt", "[[[[1 2]\n   [3 4]]]]\n"), ("y.txt", "[[[[4]]]]\n")):
            with open(at(name), "w") as f:
                f.write(text)
        with open(at("notes.json.lock"), "w") as f:
            f.write("my notes")
        add = ["golden", "add", "--file", at("notes.json"), "--name", "p", "--op", "maxpool2d", "--pass",
               "forward", "--kernel", "2,2", "--input", "x=" + at("x.txt"), "--expected", "y=" + at("y.txt")]
        r = tool(*add)
        expect(r, 2, "the name of its lock file, is a file convconf did not make", closing=None)
        assert open(at("notes.json.lock")).read() == "my notes" and not os.path.exists(at("notes.json"))
        os.remove(at("notes.json.lock"))
        r = tool(*add)
        expect(r, 0, "", closing=None)
        assert os.path.exists(at("notes.json")) and not os.path.exists(at("notes.json.lock")), os.listdir(tmp)
    print("tool output checks: ok")


if __name__ == "__main__":
    main()
