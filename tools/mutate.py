#!/usr/bin/python3
"""Mutation testing: how many planted single-line defects do the default checks catch?

    tools/dev mutate [N] [--seed S] [--files GLOB...] [--json FILE] [--keep] [--dry-run]
                     [--timeout-factor F]

Samples N single-line mutants of the C++ sources under impl/ and reference/ (.cpp, .hpp),
stratified by file: files are taken in a seeded order, one mutant from each per round, so
12 mutants touch 12 files where there are that many. The same seed and tree give the same
mutants. The operators are the classic ones:

  arith       + <-> -, * <-> /, += <-> -=, += -> =, *= <-> /=
  relational  < <-> <=, > <-> >=, == <-> !=
  logical     && <-> ||
  literal     0 <-> 1, an integer k -> k + 1
  plus-one    "+ 1" / "- 1" dropped
  loop-bound  a for loop's bound gets "- 1" (for <, >=) or "+ 1" (for <=, >)
  hw-swap     one occurrence of kh/kw, oh/ow, ih/iw, sh/sw, ph/pw, dh/dw, pt/pl, pb/pr
              (either case) swapped for the other of its pair
  minmax      std::min <-> std::max
  bool        true <-> false
  delete      a continue; break; or "x += y;" statement becomes ";"

Comments, string and character literals, preprocessor lines and assert(...) /
static_assert(...) are never mutated. Sites where the mutant is equivalent or does not
compile, and where that shows from the tokens alone, are left out: * and / next to a
literal 1, + and - next to a literal 0, 1 -> 0 after a binary + or - (the same as
dropping it), template brackets, pointer and reference declarators, declarations of the
swapped names; of two sites giving the same line, one is kept.

Each mutant is applied to one scratch copy of the tree (build/mutate/tree, its own build
directory reused by every mutant: each is an incremental build of the files it touches),
never to the working tree. The unmutated copy is built and checked first; its times set
the timeouts. Then, per mutant: build (release preset); `convconf run`; only if that
passed, `ctest --preset release --stop-on-failure`; the line is put back. A mutant is

  killed     by run, by ctest (the failed tests named), by test discovery at build time,
             or by a timeout (a stage taking over F times its unmutated time, default 3)
  survived   every check passed
  stillborn  it does not compile

and the score is killed / (killed + survived). Prints a table, the score and every
survivor's diff; writes the same as JSON (--json FILE, default build/mutate/report.json).
Removes the scratch copy unless --keep (then the next run syncs and rebuilds only what
changed). --dry-run lists the mutants with their diffs and builds nothing.

Exit status: 0 the run completed (whatever the score), 1 the unmutated tree fails its
checks or does not build, 2 bad usage.
"""
import argparse
import bisect
import dataclasses
import difflib
import fcntl
import fnmatch
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

# ---------------------------------------------------------------------------------------
# Tokens

TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>(?:u8|[uUL])?R"(?P<delim>[^()\\\s]{0,16})\(.*?\)(?P=delim)"
              |(?:u8|[uUL])?"(?:\\.|[^"\\\n])*"
              |(?:u8|[uUL])?'(?:\\.|[^'\\\n])+')
  | (?P<number>\.?[0-9](?:[eEpP][+-]|'[0-9A-Za-z_]|[0-9A-Za-z_.])*)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>>>=|<<=|<=>|->\*|\.\.\.|::|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||
              \+=|-=|\*=|/=|%=|&=|\|=|\^=|\#\#|.)
""", re.S | re.X)


@dataclasses.dataclass
class Token:
    kind: str   # string, number, ident, punct
    text: str
    line: int   # 0-based
    col: int    # offset in the line


def tokenize(text):
    """The tokens of a C++ source, comments and whitespace left out."""
    line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    tokens, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        kind = m.lastgroup if m.lastgroup != "delim" else "string"
        if kind not in ("space", "comment"):
            line = bisect.bisect_right(line_starts, pos) - 1
            tokens.append(Token(kind, m.group(), line, pos - line_starts[line]))
        pos = m.end()
    return tokens


def skipped_lines(text, tokens):
    """Lines never mutated: preprocessor lines (with their continuations), lines a string
    literal spans, and every line of an assert(...) or static_assert(...)."""
    lines = text.split("\n")
    skip = set()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("#") or (i - 1 in skip and lines[i - 1].endswith("\\")):
            skip.add(i)
    for k, t in enumerate(tokens):
        if t.kind == "string" and "\n" in t.text:
            skip.update(range(t.line, t.line + t.text.count("\n") + 1))
        if t.text in ("assert", "static_assert") and k + 1 < len(tokens) and tokens[k + 1].text == "(":
            close = matching(tokens, k + 1)
            skip.update(range(t.line, (tokens[close].line if close is not None else t.line) + 1))
    return skip


def matching(tokens, k):
    """Index of the bracket closing the one at k, or None."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    opening, depth = tokens[k].text, 0
    for j in range(k, len(tokens)):
        if tokens[j].text == opening:
            depth += 1
        elif tokens[j].text == pairs[opening]:
            depth -= 1
            if depth == 0:
                return j
    return None


# ---------------------------------------------------------------------------------------
# What a token is, from its neighbours

KEYWORDS = {
    "return", "case", "throw", "new", "delete", "sizeof", "co_return", "co_yield", "else",
    "do", "operator", "const", "constexpr", "static", "inline", "typename", "class", "struct",
    "template", "using", "namespace", "auto", "void", "bool", "char", "short", "int", "long",
    "float", "double", "signed", "unsigned", "volatile", "if", "for", "while", "switch",
    "goto", "default", "explicit", "virtual", "mutable", "friend", "noexcept", "decltype",
}
BUILTIN_TYPES = {"auto", "void", "bool", "char", "short", "int", "long", "float", "double",
                 "signed", "unsigned", "const", "constexpr", "volatile"}
HW_PAIRS = [("kh", "kw"), ("oh", "ow"), ("ih", "iw"), ("sh", "sw"), ("ph", "pw"),
            ("dh", "dw"), ("pt", "pl"), ("pb", "pr")]
HW_SWAP = {}
for a, b in HW_PAIRS:
    for x, y in ((a, b), (a.upper(), b.upper())):
        HW_SWAP[x], HW_SWAP[y] = y, x
INTEGER = re.compile(r"(0|[1-9][0-9']*)([uUlLzZ]*)")
SWAPS = {"arith": {"+": "-", "-": "+", "*": "/", "/": "*"},
         "compound": {"-=": "+=", "*=": "/=", "/=": "*="},
         "relational": {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="},
         "logical": {"&&": "||", "||": "&&"}}


def type_like(t):
    """A token that, before * & &&, makes them declarators: a builtin type, a name ending
    in _t, a CamelCase name or a one-letter template parameter (T)."""
    if t.kind != "ident":
        return False
    return (t.text in BUILTIN_TYPES or t.text.endswith("_t") or
            (t.text[0].isupper() and not t.text.isupper()) or re.fullmatch(r"[A-Z]", t.text) is not None)


def value_like(t):
    """A token that can end an operand: a binary operator may follow it."""
    if t is None:
        return False
    if t.kind == "ident":
        return t.text not in KEYWORDS
    return t.kind == "number" or t.text in (")", "]")


def template_brackets(tokens):
    """Indices of the < and > that are template brackets, not comparisons: a < after a name
    whose tokens up to a matching > on the same line are only names, ::, commas, numbers,
    *, &, nested brackets and parentheses (vector<int64_t>, static_cast<T>(x)). A > or
    < otherwise is a comparison."""
    brackets = set()
    for k, t in enumerate(tokens):
        if t.text != "<" or k == 0 or tokens[k - 1].kind != "ident":
            continue
        depth, opened = 0, [k]
        for j in range(k + 1, len(tokens)):
            u = tokens[j]
            if u.line != t.line or u.kind == "string":
                break
            if u.text == "<":
                opened.append(j)
            elif u.text in (">", ">>"):
                for _ in range(len(u.text)):
                    if opened:
                        brackets.add(opened.pop())
                brackets.add(j)
                if not opened:
                    break
            elif u.text in ("(", ")"):
                depth += 1 if u.text == "(" else -1
                if depth < 0:
                    break
            elif not (u.kind in ("ident", "number") or u.text in ("::", ",", "*", "&", "&&", "...")):
                break
            if u.text == "&&" and depth == 0:
                break
        else:
            continue
        if opened:  # no closing >: a comparison after all; undo this <'s marks
            brackets.difference_update(opened)
    return brackets


# ---------------------------------------------------------------------------------------
# Mutants

@dataclasses.dataclass
class Mutant:
    file: str       # relative to the tree
    line: int       # 1-based
    operator: str
    original: str   # the whole line, without its newline
    mutated: str
    id: str = ""

    def describe(self):
        return describe_change(self.original, self.mutated)

    def diff(self, lines):
        """Unified diff of the file, 3 lines of context."""
        after = list(lines)
        after[self.line - 1] = self.mutated
        return "".join(difflib.unified_diff(
            [l + "\n" for l in lines], [l + "\n" for l in after],
            "a/" + self.file, "b/" + self.file, n=3))


def describe_change(before, after):
    """The changed middle of a line: `a + b` -> `a - b`, trimmed to the differing tokens."""
    start = 0
    while start < min(len(before), len(after)) and before[start] == after[start]:
        start += 1
    end = 0
    while end < min(len(before), len(after)) - start and before[-1 - end] == after[-1 - end]:
        end += 1
    # Widen to whole tokens, so KH -> KW does not show as H -> W, nor != -> == as ! -> =.
    def kind(c):
        return "word" if c.isalnum() or c == "_" else "op" if c in "+-*/%<>=!&|^" else None

    def edge_kinds(i_before, i_after):  # the kinds of the changed text's edge characters
        return {kind(text[i]) for text, i in ((before, i_before), (after, i_after)) if 0 <= i < len(text)} - {None}

    while start > 0 and kind(before[start - 1]) in edge_kinds(start, start):
        start -= 1
    while end > 0 and kind(before[len(before) - end]) in edge_kinds(len(before) - end - 1, len(after) - end - 1):
        end -= 1
    old, new = before[start:len(before) - end].strip(), after[start:len(after) - end].strip()
    return f"`{old}` -> `{new}`" if old else f"+ `{new}`"


def mutants_of(path, text):
    """Every mutant of one file, in line order."""
    tokens = tokenize(text)
    skip = skipped_lines(text, tokens)
    lines = text.split("\n")
    templates = template_brackets(tokens)
    found, seen = [], set()

    def add(operator, line, col, old_len, new_text):
        if line in skip:
            return
        original = lines[line]
        mutated = original[:col] + new_text + original[col + old_len:]
        key = (line, mutated)
        if mutated == original or key in seen:
            return
        seen.add(key)
        found.append(Mutant(path, line + 1, operator, original, mutated))

    def at(k):
        return tokens[k] if 0 <= k < len(tokens) else None

    string_lines = {t.line for t in tokens if t.kind == "string" or t.text in ("string", "to_string")}

    def strings_on(line):
        return line in string_lines

    for k, t in enumerate(tokens):
        prev, nxt = at(k - 1), at(k + 1)
        same_line_next = nxt is not None and nxt.line == t.line
        if t.kind == "punct":
            binary = value_like(prev) and nxt is not None
            if t.text in ("+", "-") and binary and same_line_next:
                # A line building strings: - on std::string does not compile.
                if not strings_on(t.line) and nxt.text != "0":
                    add("arith", t.line, t.col, 1, SWAPS["arith"][t.text])
                # "+ 1" dropped, unless what follows binds tighter than + (x + 1 * y).
                after = at(k + 2)
                if nxt.text == "1" and not (after and after.line == t.line and after.text in ("*", "/", "%", "(", "[", ".", "::")):
                    start = t.col
                    while start > 0 and lines[t.line][start - 1] == " ":
                        start -= 1
                    add("plus-one", t.line, start, nxt.col + 1 - start, "")
            elif t.text in ("*", "/") and binary and same_line_next and not type_like(prev):
                if prev.text == "1" or nxt.text == "1" or nxt.text in (")", ",", ">", ";", "&", "=", "{"):
                    continue
                add("arith", t.line, t.col, 1, SWAPS["arith"][t.text])
            elif t.text == "+=":
                if not strings_on(t.line):  # appending to a std::string: -= does not compile
                    add("arith", t.line, t.col, 2, "-=")
                add("arith", t.line, t.col, 2, "=")
            elif t.text in SWAPS["compound"]:
                add("arith", t.line, t.col, 2, SWAPS["compound"][t.text])
            elif t.text in SWAPS["relational"]:
                if k in templates or (prev is not None and prev.text == "operator") or not value_like(prev):
                    continue
                add("relational", t.line, t.col, len(t.text), SWAPS["relational"][t.text])
            elif t.text in SWAPS["logical"]:
                if not value_like(prev) or type_like(prev) or k in templates:
                    continue
                add("logical", t.line, t.col, 2, SWAPS["logical"][t.text])
        elif t.kind == "number":
            m = INTEGER.fullmatch(t.text)
            if not m:
                continue
            digits, suffix = m.group(1), m.group(2)
            if digits == "0":
                add("literal", t.line, t.col, len(t.text), "1" + suffix)
            elif digits == "1":
                if prev is not None and prev.text in ("+", "-") and value_like(at(k - 2)):
                    continue  # x + 0 is "+ 1" dropped, listed already
                add("literal", t.line, t.col, len(t.text), "0" + suffix)
            else:
                add("literal", t.line, t.col, len(t.text), str(int(digits.replace("'", "")) + 1) + suffix)
        elif t.kind == "ident":
            if t.text in HW_SWAP:
                # Declaring the name (a parameter, a member, a local): renaming it there
                # changes nothing, or redeclares the other name.
                declarator = prev is not None and prev.text in ("*", "&", "&&") and at(k - 2) is not None and (
                    type_like(at(k - 2)) or at(k - 2).text == ">")
                declared = prev is not None and (type_like(prev) or declarator or
                                                 (prev.text == "," and nxt is not None and nxt.text in ("=", "{")))
                if not declared:
                    add("hw-swap", t.line, t.col, len(t.text), HW_SWAP[t.text])
            elif t.text in ("min", "max") and prev is not None and prev.text == "::" and at(k - 2) and at(k - 2).text == "std":
                add("minmax", t.line, t.col, 3, "max" if t.text == "min" else "min")
            elif t.text in ("true", "false"):
                add("bool", t.line, t.col, len(t.text), "false" if t.text == "true" else "true")
            elif t.text in ("continue", "break") and nxt is not None and nxt.text == ";":
                add("delete", t.line, t.col, nxt.col + 1 - t.col, ";")
            elif t.text == "for" and nxt is not None and nxt.text == "(":
                loop_bound(tokens, k, add)
    plus_equal_statements(tokens, lines, add)
    found.sort(key=lambda m: m.line)
    return found


LOWER_THAN_MINUS = {"<<", ">>", "<", "<=", ">", ">=", "==", "!=", "&", "^", "|", "&&", "||",
                    "?", ":", "=", "+=", "-=", "*=", "/=", ",", "<=>"}


def loop_bound(tokens, k, add):
    """for (init; i < n; ...): the bound n gets "- 1" for < and >=, "+ 1" for <= and >
    (the other sign is the relational mutant again)."""
    close = matching(tokens, k + 1)
    if close is None:
        return
    header = tokens[k + 2:close]
    semis = [j for j, t in enumerate(header) if t.text == ";"]
    if len(semis) != 2:
        return
    cond = header[semis[0] + 1:semis[1]]
    ops = [j for j, t in enumerate(cond) if t.text in ("<", "<=", ">", ">=")]
    if len(ops) != 1 or any(t.text in LOWER_THAN_MINUS for j, t in enumerate(cond) if j != ops[0]):
        return
    bound = cond[ops[0] + 1:]
    if not bound or bound[-1].line != cond[ops[0]].line:
        return
    sign = "-" if cond[ops[0]].text in ("<", ">=") else "+"
    last = bound[-1]
    add("loop-bound", last.line, last.col + len(last.text), 0, f" {sign} 1")


def plus_equal_statements(tokens, lines, add):
    """A statement "x += y;" alone on its line, or as the body of a for/if/while on the
    line of its header, becomes ";"."""
    by_line = {}
    for k, t in enumerate(tokens):
        by_line.setdefault(t.line, []).append(k)
    for line, ks in by_line.items():
        first = ks[0]
        if tokens[first].text in ("for", "if", "while") and first + 1 < len(tokens) and tokens[first + 1].text == "(":
            close = matching(tokens, first + 1)
            if close is None or tokens[close].line != line:
                continue
            body = [j for j in ks if j > close]
        else:
            before = tokens[first - 1] if first > 0 else None
            if before is not None and before.text not in (";", "{", "}", ")", ":", "else"):
                continue  # a continuation of an expression begun above
            body = ks
        if not body or tokens[body[-1]].text != ";":
            continue
        texts = [tokens[j].text for j in body]
        depth, top_level_plus_equal = 0, False
        for x in texts:
            depth += x in ("(", "[", "{") and 1 or x in (")", "]", "}") and -1 or 0
            top_level_plus_equal |= depth == 0 and x == "+="
        if depth != 0 or not top_level_plus_equal or texts.count(";") != 1 or texts[0] in KEYWORDS:
            continue
        start, end = tokens[body[0]].col, tokens[body[-1]].col + 1
        add("delete", line, start, end - start, ";")


def eligible(path, globs):
    if not (path.startswith(("impl/", "reference/")) and path.endswith((".cpp", ".hpp"))):
        return False
    return not globs or any(fnmatch.fnmatch(path, g) for g in globs)


def sample(candidates, n, seed):
    """n mutants spread over the files: the files in an order drawn from seed, one mutant
    of each file per round, drawn from those of the file not taken yet. candidates maps a
    file to its mutants; the same arguments give the same mutants."""
    rng = random.Random(seed)
    files = sorted(f for f in candidates if candidates[f])
    rng.shuffle(files)
    left = {f: list(candidates[f]) for f in files}
    chosen = []
    while len(chosen) < n and any(left.values()):
        for f in files:
            if len(chosen) == n:
                break
            if left[f]:
                chosen.append(left[f].pop(rng.randrange(len(left[f]))))
    for i, m in enumerate(chosen, 1):
        m.id = f"m{i:02d}"
    return chosen


# ---------------------------------------------------------------------------------------
# The scratch copy

def tree_files(root):
    """The tree's files as git sees them: tracked and untracked, less what .gitignore
    ignores (build/), and less files deleted but not yet committed. Outside a git
    checkout (or without git): every file but those under build/ and .git/."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             check=True, capture_output=True).stdout
        names = sorted({n.decode() for n in out.split(b"\0") if n})
    except (OSError, subprocess.CalledProcessError):
        names = []
        for top, dirs, files in os.walk(root):
            if top == root:
                dirs[:] = [d for d in dirs if d not in ("build", ".git")]
            names += [os.path.relpath(os.path.join(top, f), root) for f in files]
        names.sort()
    return [n for n in names if os.path.lexists(os.path.join(root, n))]


def sync(root, scratch):
    """Makes scratch hold the tree's files, copying only those whose bytes differ (with a
    new mtime, so the scratch build sees them change) and removing those the tree no longer
    has; scratch/build is its build directory and is kept."""
    wanted = tree_files(root)
    for name in wanted:
        src, dst = os.path.join(root, name), os.path.join(scratch, name)
        if os.path.islink(src):
            if not (os.path.islink(dst) and os.readlink(dst) == os.readlink(src)):
                if os.path.lexists(dst):
                    os.remove(dst)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                os.symlink(os.readlink(src), dst)
            continue
        with open(src, "rb") as f:
            data = f.read()
        if os.path.isfile(dst) and not os.path.islink(dst):
            with open(dst, "rb") as f:
                if f.read() == data:
                    continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.remove(dst)
        with open(dst, "wb") as f:
            f.write(data)
        shutil.copymode(src, dst)
    keep = set(wanted)
    for top, dirs, files in os.walk(scratch):
        rel_top = os.path.relpath(top, scratch)
        if rel_top == ".":
            dirs[:] = [d for d in dirs if d != "build"]
        for name in files:
            rel = os.path.normpath(os.path.join(rel_top, name))
            if rel not in keep:
                os.remove(os.path.join(top, name))


# ---------------------------------------------------------------------------------------
# Building and checking

@dataclasses.dataclass
class Stage:
    name: str
    argv: list
    summary: object  # (output, returncode) -> short text for the report


@dataclasses.dataclass
class Project:
    configure: list       # run once in the scratch copy
    build: list           # run after each mutant is applied
    build_dir: str        # relative to the tree: what build writes, snapshotted and restored
    stages: list
    timeout_floor: float  # seconds no stage's timeout is below, whatever its unmutated time


@dataclasses.dataclass
class Outcome:
    returncode: int
    output: str
    seconds: float
    timed_out: bool


def execute(argv, cwd, timeout=None):
    """Runs argv in its own process group; on timeout (or ^C) kills the whole group, so
    no test process outlives its stage."""
    start = time.monotonic()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    timed_out = False
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise
    return Outcome(p.returncode, out.decode("utf-8", "replace"), time.monotonic() - start, timed_out)


def run_summary(output, returncode):
    """`convconf run`'s closing line, or how it ended without one."""
    lines = re.findall(r"^\d+ passed, \d+ failed, \d+ skipped$", output, re.M)
    if lines:
        return lines[-1]
    return f"exit {returncode}" if returncode >= 0 else f"signal {-returncode}"


def ctest_failures(output):
    """The names of the tests ctest reports failed: its closing list (`  12 - name (Failed)`)
    or, where that is missing, its progress lines (`3/9 Test #12: name ....***Failed`)."""
    names = []
    section = output.split("The following tests FAILED:", 1)
    if len(section) == 2:
        names = re.findall(r"^\s*\d+ - (.+?) \([^()\n]*\)\s*$", section[1], re.M)
    if not names:
        names = re.findall(r"Test +#\d+: (\S+) \.*\s*\*\*\*", output)
    return list(dict.fromkeys(names))


def ctest_summary(output, returncode):
    names = ctest_failures(output)
    return " ".join(names) if names else f"exit {returncode}"


def build_failure(output):
    """Why a build failed: 'compile' or 'link' (the mutant is stillborn) or 'discovery'
    (the test program built but failed when gtest_discover_tests listed its tests: a
    mutant that breaks the program at start-up, killed)."""
    failed = re.findall(r"^FAILED: (.*)$", output, re.M)
    if any(re.search(r"\.o\b", f) for f in failed):
        return "compile"
    if "Error running test executable" in output:
        return "discovery"
    return "link"


CONVCONF = Project(
    configure=["cmake", "--preset", "release"],
    build=["cmake", "--build", "--preset", "release", "-j", "2"],
    stages=[
        # Every check of `convconf run`; --threads only shares them over 2 workers, the
        # results are the same for any N (convconf run --help).
        Stage("run", ["build/release/convconf", "run", "--threads", "2"], run_summary),
        Stage("ctest", ["ctest", "--preset", "release", "--stop-on-failure"], ctest_summary),
    ],
    build_dir="build/release",
    timeout_floor=20.0)


class BaselineError(Exception):
    pass


def prepare(project, scratch):
    """Configures and builds the unmutated scratch copy and times each stage on it;
    returns those times. Raises BaselineError if it does not build or a stage fails."""
    for what, argv in (("configure", project.configure), ("build", project.build)):
        r = execute(argv, scratch)
        if r.returncode != 0:
            raise BaselineError(f"the unmutated tree does not {what}:\n{tail(r.output)}")
    times = {}
    for stage in project.stages:
        r = execute(stage.argv, scratch)
        if r.returncode != 0:
            raise BaselineError(f"the unmutated tree fails {stage.name} ({stage.summary(r.output, r.returncode)}):\n"
                                f"{tail(r.output)}")
        times[stage.name] = r.seconds
    return times


def tail(text, n=30):
    return "\n".join(text.rstrip("\n").split("\n")[-n:])


def snapshot(build_dir, pristine):
    """Copies the built unmutated build directory (27 MB here) to pristine, mtimes kept."""
    shutil.rmtree(pristine, ignore_errors=True)
    shutil.copytree(build_dir, pristine, symlinks=True)


def restore(build_dir, pristine):
    """Puts the build directory back as it was unmutated: each file a mutant's build or
    checks changed gets the pristine copy's bytes and mtime, each new file goes. With the
    source's bytes and mtime put back too, ninja sees nothing to do, so the next mutant
    rebuilds only what it touches, not also what the previous one touched."""
    for top, dirs, files in os.walk(build_dir):
        for name in files:
            path = os.path.join(top, name)
            twin = os.path.join(pristine, os.path.relpath(path, build_dir))
            if not os.path.lexists(twin):
                os.remove(path)
                continue
            a, b = os.lstat(path), os.lstat(twin)
            if (a.st_mtime_ns, a.st_size) != (b.st_mtime_ns, b.st_size):
                os.remove(path)  # not in place: a running reader keeps its file
                shutil.copy2(twin, path, follow_symlinks=False)
    for top, dirs, files in os.walk(pristine):
        for name in files:
            twin = os.path.join(top, name)
            path = os.path.join(build_dir, os.path.relpath(twin, pristine))
            if not os.path.lexists(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                shutil.copy2(twin, path, follow_symlinks=False)


def check(project, scratch, pristine, mutant, timeouts):
    """One mutant's result (apply_and_check), its kill confirmed: the stage or the tests that
    killed it are run again on the unmutated tree, put back. Where they fail there too, the
    machine changed under the run (a test's environment broke: seen when a mutant replaced
    /dev/full with a file, and every later mutant "failed" the test that writes there), so
    the kill is no evidence: the mutant is void, counted neither killed nor survived."""
    result = apply_and_check(project, scratch, pristine, mutant, timeouts)
    stage = next((s for s in project.stages if s.name == result["killed_by"]), None)
    if result["status"] != "killed" or stage is None:  # a timeout or discovery kill stands
        return result
    argv = stage.argv
    if stage.name == "ctest":
        names = result.get("failed_tests") or []
        if names:
            argv = ["ctest", "--preset", "release", "-R", "^(" + "|".join(re.escape(n) for n in names) + ")$"]
    again = execute(argv, scratch, timeout=timeouts[stage.name])
    if again.returncode != 0 or again.timed_out:
        result.update(status="void", detail=f"the unmutated tree fails it too ({stage.summary(again.output, again.returncode)}): "
                                            "the environment changed; " + result["detail"],
                      log=result["log"] + "\n--- unmutated, again ---\n" + tail(again.output, 40))
    return result


def apply_and_check(project, scratch, pristine, mutant, timeouts):
    """Applies one mutant to the scratch copy, builds, runs the stages until one fails,
    then puts the source and the build directory back. Returns the mutant's result."""
    path = os.path.join(scratch, mutant.file)
    with open(path, "rb") as f:
        original = f.read()
    stat = os.stat(path)
    lines = original.decode().split("\n")
    if lines[mutant.line - 1] != mutant.original:
        raise RuntimeError(f"{mutant.file}:{mutant.line} in the scratch copy is not the line sampled")
    lines[mutant.line - 1] = mutant.mutated
    result = {"status": "survived", "killed_by": None, "detail": "", "seconds": {}, "log": ""}
    try:
        with open(path, "wb") as f:
            f.write("\n".join(lines).encode())
        b = execute(project.build, scratch)
        result["seconds"]["build"] = round(b.seconds, 1)
        if b.returncode != 0:
            if build_failure(b.output) == "discovery":
                result.update(status="killed", killed_by="discovery", detail="test discovery failed at build time",
                              log=tail(b.output, 40))
            else:
                result.update(status="stillborn", detail=first_error(b.output), log=tail(b.output, 40))
            return result
        for stage in project.stages:
            r = execute(stage.argv, scratch, timeout=timeouts[stage.name])
            result["seconds"][stage.name] = round(r.seconds, 1)
            if r.timed_out:
                result.update(status="killed", killed_by="timeout",
                              detail=f"{stage.name} over {timeouts[stage.name]:.3g} s", log=tail(r.output, 40))
                return result
            if r.returncode != 0:
                result.update(status="killed", killed_by=stage.name, detail=stage.summary(r.output, r.returncode),
                              log=tail(r.output, 40))
                result["failed_tests"] = ctest_failures(r.output) if stage.name == "ctest" else []
                return result
        return result
    finally:
        with open(path, "wb") as f:
            f.write(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        restore(os.path.join(scratch, project.build_dir), pristine)


def mutate(project, root, work, chosen, timeout_factor, keep, log):
    """The whole run on a tree: syncs the scratch copy work/tree, prepares it, checks each
    mutant. Returns (unmutated stage times, timeouts, results by id, preparing seconds).
    Removes work/tree and the pristine build unless keep."""
    scratch, pristine = os.path.join(work, "tree"), os.path.join(work, "pristine")
    try:
        os.makedirs(scratch, exist_ok=True)
        sync(root, scratch)
        log(f"scratch copy {scratch}: configuring, building, checking the unmutated tree")
        t0 = time.monotonic()
        base = prepare(project, scratch)
        snapshot(os.path.join(scratch, project.build_dir), pristine)
        prepare_seconds = time.monotonic() - t0
        timeouts = {s: max(timeout_factor * t, project.timeout_floor) for s, t in base.items()}
        log("unmutated: " + ", ".join(f"{s} {t:.1f} s (timeout {timeouts[s]:.3g} s)" for s, t in base.items())
            + f"; prepared in {prepare_seconds:.0f} s")
        results = {}
        for i, m in enumerate(chosen, 1):
            results[m.id] = r = check(project, scratch, pristine, m, timeouts)
            what = (r["killed_by"] or r["detail"]) if r["status"] != "survived" else ""
            if r["killed_by"] in ("run", "ctest", "timeout"):
                what += ": " + r["detail"]
            log(f"[{i}/{len(chosen)}] {m.id} {r['status']:<9} {sum(r['seconds'].values()):4.0f} s  "
                f"{m.file}:{m.line} {m.operator} {m.describe()}  {shorten(what, 70)}")
        return base, timeouts, results, prepare_seconds
    finally:
        shutil.rmtree(pristine, ignore_errors=True)
        if not keep:
            shutil.rmtree(scratch, ignore_errors=True)


def first_error(output):
    m = re.search(r"^\S+:\d+:\d+: error: (.*)$", output, re.M)
    return m.group(1)[:100] if m else "build failed"


# ---------------------------------------------------------------------------------------
# Reports

def table(mutants, results):
    rows = [("id", "status", "killed by", "secs", "where", "op", "mutation")]
    for m in mutants:
        r = results[m.id]
        killed_by = r["killed_by"] or ""
        if r["killed_by"] in ("ctest", "timeout", "run"):
            killed_by = f"{r['killed_by']}: {r['detail']}"
        if r["status"] == "stillborn":
            killed_by = r["detail"]
        rows.append((m.id, r["status"], shorten(killed_by, 44), f"{sum(r['seconds'].values()):.0f}",
                     f"{m.file}:{m.line}", m.operator, m.describe()))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[-1]
                     for row in rows)


def shorten(text, n):
    return text if len(text) <= n else text[:n - 3] + "..."


def score(results):
    counts = {s: sum(1 for r in results.values() if r["status"] == s)
              for s in ("killed", "survived", "stillborn", "void")}
    counts["timeout"] = sum(1 for r in results.values() if r["killed_by"] == "timeout")
    judged = counts["killed"] + counts["survived"]
    counts["score"] = round(counts["killed"] / judged, 4) if judged else None
    return counts


def score_line(s):
    ratio = "n/a" if s["score"] is None else f"{100 * s['score']:.0f}%"
    return (f"score {s['killed']}/{s['killed'] + s['survived']} = {ratio}  "
            f"(killed {s['killed']}, of which timeout {s['timeout']}; survived {s['survived']}; "
            f"stillborn {s['stillborn']}" + (f"; void {s['void']}: the environment changed, rerun them" if s["void"] else "")
            + ")")


def write_json(path, data):
    """Whole or not at all: a temporary file next to it, renamed over it."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------
# Command line

def parse_args(argv):
    doc = __doc__.split("\n\n", 2)
    p = argparse.ArgumentParser(
        prog="tools/dev mutate", formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="tools/dev mutate [N] [--seed S] [--files GLOB...] [--json FILE] [--keep] [--dry-run] [--timeout-factor F]",
        description=doc[0] + "\n\n" + doc[2])
    p.add_argument("count", metavar="N", nargs="?", default="10",
                   help="how many mutants (default 10)")
    p.add_argument("--seed", metavar="S", default="1", help="draws the mutants (default 1)")
    p.add_argument("--files", metavar="GLOB", nargs="+", default=[],
                   help="only files whose path from the top of the tree matches a GLOB "
                        "(fnmatch: * crosses /), e.g. 'impl/naive/*' 'reference/*.cpp'")
    p.add_argument("--json", metavar="FILE", default=None,
                   help="the JSON report (default build/mutate/report.json)")
    p.add_argument("--keep", action="store_true",
                   help="keep the scratch copy build/mutate/tree and its build for the next run")
    p.add_argument("--dry-run", action="store_true", help="list the mutants and their diffs, build nothing")
    p.add_argument("--timeout-factor", metavar="F", default="3",
                   help="a stage over F times its unmutated time is a timeout, killed (default 3)")
    args = p.parse_args(argv)
    args.count = whole(p, "N", args.count, 1)
    args.seed = whole(p, "--seed", args.seed, 0)
    text = args.timeout_factor
    try:
        args.timeout_factor = float(text)
        if not args.timeout_factor > 1:
            raise ValueError
    except ValueError:
        p.error(f"--timeout-factor: \"{text}\" is not a number > 1")
    return p, args


def whole(parser, name, text, least):
    if not re.fullmatch(r"[0-9]+", text) or int(text) < least:
        parser.error(f"{name}: \"{text}\" is not a whole number >= {least}")
    return int(text)


def generate(root, globs, n, seed):
    """(all candidates by file, the sampled mutants, each file's lines)."""
    candidates, sources = {}, {}
    for name in tree_files(root):
        if eligible(name, globs):
            with open(os.path.join(root, name), encoding="utf-8") as f:
                text = f.read()
            sources[name] = text.split("\n")
            candidates[name] = mutants_of(name, text)
    return candidates, sample(candidates, n, seed), sources


def main(argv):
    parser, args = parse_args(argv)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates, chosen, sources = generate(root, args.files, args.count, args.seed)
    if args.files and not candidates:
        parser.error("--files: no C++ file under impl/ or reference/ matches " + " ".join(args.files))
    total = sum(len(v) for v in candidates.values())
    print(f"{len(chosen)} of {total} mutants over {sum(1 for v in candidates.values() if v)} files, seed {args.seed}")
    if args.dry_run:
        for m in chosen:
            print(f"\n{m.id}  {m.file}:{m.line}  {m.operator}  {m.describe()}")
            print(m.diff(sources[m.file]), end="")
        return 0

    work = os.path.join(root, "build", "mutate")
    report = args.json or os.path.join(work, "report.json")
    os.makedirs(work, exist_ok=True)
    lock = open(os.path.join(work, "lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"tools/dev mutate: another run holds {work}/lock", file=sys.stderr)
        return 2
    started = time.monotonic()
    try:
        base, timeouts, results, prepare_seconds = mutate(
            CONVCONF, root, work, chosen, args.timeout_factor, args.keep, lambda text: print(text, flush=True))
    except BaselineError as e:
        print(f"tools/dev mutate: {e}", file=sys.stderr)
        return 1
    wall = time.monotonic() - started
    s = score(results)
    survivors = [m for m in chosen if results[m.id]["status"] == "survived"]
    mutant_seconds = [sum(r["seconds"].values()) for r in results.values()]
    print()
    print(table(chosen, results))
    print()
    print(score_line(s))
    print(f"wall {wall:.0f} s: preparing {prepare_seconds:.0f} s, mutants {sum(mutant_seconds):.0f} s "
          f"({sum(mutant_seconds) / max(1, len(mutant_seconds)):.0f} s each on average)")
    for m in survivors:
        print(f"\nsurvived {m.id}:")
        print(m.diff(sources[m.file]), end="")
    write_json(report, {
        "format": "convconf-mutate/1",
        "seed": args.seed, "requested": args.count, "files": args.files,
        "candidates": total,
        "unmutated_seconds": {k: round(v, 1) for k, v in base.items()},
        "timeouts_seconds": {k: round(v, 1) for k, v in timeouts.items()},
        "prepare_seconds": round(prepare_seconds, 1), "wall_seconds": round(wall, 1),
        "score": s,
        "mutants": [dict(id=m.id, file=m.file, line=m.line, operator=m.operator, original=m.original,
                         mutated=m.mutated, **results[m.id], diff=m.diff(sources[m.file])) for m in chosen],
    })
    print(f"\nreport: {os.path.relpath(report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
