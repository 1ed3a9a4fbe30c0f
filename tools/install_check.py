#!/usr/bin/python3
"""Proves that the Debian packages tools/dev installs are enough to configure and build.

Every file outside the source and build trees that a configured and built tree used must
belong to a package in the allowed set: the packages given (tools/dev's list), the
Essential ones every Debian system has, and everything those *depend* on (Depends and
Pre-Depends, never Recommends or Suggests: apt-get --no-install-recommends leaves those
out, and a new machine then lacks them). The files used are read from the build tree:

- CMake's cache: every entry whose value is an absolute path (OpenCL_LIBRARY, dnnl_DIR,
  the compiler, the Python the tests run), as written, without resolving symlinks, since
  a library's unversioned .so link is what the -dev package owns;
- the compiler's dependency output (ninja -t deps): every header each object included;
- the linker's dependency files (<executable>.link.d, written by -Wl,--dependency-file):
  every library, object and linker script each executable was linked from.

A path nobody owns is followed one symlink at a time (Debian's alternatives: /usr/bin/c++
-> /etc/alternatives/c++ -> /usr/bin/g++) until a path some package owns. Merged /usr:
dpkg may record /lib/x86_64-linux-gnu/libc.so.6 for /usr/lib/x86_64-linux-gnu/libc.so.6,
so both spellings are looked up.

    install_check.py --build DIR --source DIR PACKAGE...

Exits 0 if every file belongs to the allowed set, 1 naming each file that does not (with
the package that owns it and where the build used it), 2 on bad usage.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

MERGED_USR = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
# CMake cache entries that name a path nothing is read from.
NOT_USED = {"CMAKE_INSTALL_PREFIX"}


def dpkg_owners():
    """path -> set of packages, from dpkg's file lists (one read, instead of dpkg -S per file)."""
    owners = {}
    for listing in glob.glob("/var/lib/dpkg/info/*.list"):
        package = os.path.basename(listing)[: -len(".list")].split(":")[0]
        with open(listing, encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                owners.setdefault(line.rstrip("\n"), set()).add(package)
    return owners


def installed_packages():
    """name -> (provides, depends groups, essential) for every installed package."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\t${Essential}\t${Provides}\t${Pre-Depends}, ${Depends}\n"],
        check=True, capture_output=True, text=True).stdout
    packages = {}
    for line in out.splitlines():
        name, status, essential, provides, depends = line.split("\t")
        if status[1:2] != "i":  # installed, whatever is wanted of it ("hi": held)
            continue
        packages[name] = ([names(p)[0] for p in split_list(provides)],
                          [names(group) for group in split_list(depends)],
                          essential == "yes")
    return packages


def split_list(field):
    return [item.strip() for item in field.split(",") if item.strip()]


def names(group):
    """'a:any (>= 1) | b [amd64]' -> ['a', 'b']"""
    return [re.split(r"[\s:(\[]", alternative.strip(), maxsplit=1)[0] for alternative in group.split("|")]


def allowed_set(requested, packages):
    """The requested and Essential packages and their Depends/Pre-Depends closure. Of a
    group of alternatives only the first is taken, as apt takes it on a new machine: where
    this machine satisfied the group with a later one installed by hand, the files of that
    one are not allowed, and the check fails rather than pass for a machine unlike a new
    one. A virtual first alternative is taken as its installed provider."""
    provider = {name: name for name in packages}  # a real package is itself, before any provider
    for name, (provides, _, _) in packages.items():
        for virtual in provides:
            provider.setdefault(virtual, name)
    todo = list(requested) + [n for n, (_, _, essential) in packages.items() if essential]
    allowed = set()
    while todo:
        name = todo.pop()
        if name in allowed or name not in packages:
            continue
        allowed.add(name)
        for group in packages[name][1]:
            if group[0] in provider:
                todo.append(provider[group[0]])
    return allowed


def used_files(build, source):
    """(path, where the build used it) for every file outside the source and build trees."""
    used = []
    cache = os.path.join(build, "CMakeCache.txt")
    with open(cache, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.+-]+):[A-Z]+=(.*)$", line.rstrip("\n"))
            if not m or m.group(1) in NOT_USED:
                continue
            for value in m.group(2).split(";"):
                if value.startswith("/") and os.path.exists(value):
                    used.append((value, f"CMake cache {m.group(1)}"))
    deps = subprocess.run(["ninja", "-C", build, "-t", "deps"], check=True, capture_output=True, text=True).stdout
    target = "?"
    for line in deps.splitlines():
        if line and not line.startswith(" "):
            target = line.split(":")[0]
        elif line.strip():
            used.append((line.strip(), f"header of {target}"))
    for depfile in glob.glob(os.path.join(build, "**", "*.link.d"), recursive=True):
        with open(depfile, encoding="utf-8") as f:
            text = f.read().replace("\\\n", " ")
        executable = os.path.relpath(depfile[: -len(".link.d")], build)
        first_rule = text.split("\n\n")[0]
        for path in first_rule.split(":", 1)[1].split():
            used.append((path, f"linked into {executable}"))
    roots = [os.path.realpath(build) + "/", os.path.realpath(source) + "/"]
    result = []
    for path, where in used:
        if not os.path.isabs(path):
            path = os.path.join(build, path)
        path = os.path.normpath(path)  # lexical: '..' only, symlinks stay as written
        if any((os.path.realpath(path) + "/").startswith(r) or (path + "/").startswith(r) for r in roots):
            continue
        if path.startswith("/tmp/"):  # the compiler's own temporaries
            continue
        result.append((path, where))
    return result


def spellings(path):
    """The path and its merged-/usr twin."""
    parts = path.split("/")
    if len(parts) > 2 and parts[1] == "usr" and parts[2] in MERGED_USR:
        return [path, "/" + "/".join(parts[2:])]
    if len(parts) > 1 and parts[1] in MERGED_USR:
        return [path, "/usr" + path]
    return [path]


def owners_of(path, owners):
    """Packages owning path, following symlinks one hop at a time while nobody owns it."""
    seen = set()
    while path not in seen:
        seen.add(path)
        found = set().union(*(owners.get(p, set()) for p in spellings(path)))
        if found or not os.path.islink(path):
            return found, path
        target = os.readlink(path)
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return set(), path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", required=True, help="a configured and built CMake build tree")
    parser.add_argument("--source", required=True, help="the source tree")
    parser.add_argument("packages", nargs="+", help="the packages tools/dev installs")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.build, "CMakeCache.txt")):
        print(f"install_check: --build {args.build}: no CMakeCache.txt (configure and build it first)", file=sys.stderr)
        return 2
    packages = installed_packages()
    missing = [p for p in args.packages if p not in packages]
    if missing:
        print(f"install_check: not installed: {' '.join(missing)} (run tools/dev build first)", file=sys.stderr)
        return 2
    allowed = allowed_set(args.packages, packages)
    owners = dpkg_owners()
    files = used_files(args.build, args.source)
    bad = {}  # owner -> {path: [where the build used it]}
    for path, where in files:
        found, owned_path = owners_of(path, owners)
        if found & allowed:
            continue
        owner = ", ".join(sorted(found)) if found else "no Debian package"
        uses = bad.setdefault(owner, {}).setdefault(path if owned_path == path else f"{path} -> {owned_path}", [])
        if where not in uses:
            uses.append(where)
    distinct = len({p for p, _ in files})
    if not bad:
        print(f"install check {args.build}: {distinct} files used, each from a package tools/dev installs "
              f"or one they depend on ({len(allowed)} packages)")
        return 0
    count = sum(len(paths) for paths in bad.values())
    print(f"install check {args.build}: {count} of {distinct} files used come from packages tools/dev "
          f"neither installs nor depends on; add the owning package to tools/dev:")
    for owner, paths in sorted(bad.items()):
        print(f"  {owner}: {len(paths)} file{'s' if len(paths) > 1 else ''}")
        for path, wheres in sorted(paths.items(), key=lambda item: len(item[0]))[:3]:
            more = f", and {len(wheres) - 2} more" if len(wheres) > 2 else ""
            print(f"    {path} ({'; '.join(wheres[:2])}{more})")
    return 1


if __name__ == "__main__":
    sys.exit(main())
