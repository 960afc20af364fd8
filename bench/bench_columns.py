"""bench_columns -- the columns of the benchmark table: how each one turns a
benchmark program into a command, and whether it is available at all.

A column is one way of running a program:
  interp   build/bin/lisp X.scm                  (the reference interpreter)
  image    lineiform snapshot X.scm -o X.img, then lineiform run X.img
  c        build/bench/c/X                        (bench/c/X.c at -O2)
  lua5.4, luajit   bench/lua/X.lua
  guile    prelude + X.scm compiled ahead with compile-file, then loaded
  chez     prelude + X.scm compiled ahead with compile-script, then run

Inputs: a Context (paths, environment, timeout).  Outputs: per column,
`probe()` -> None or the reason it is unavailable (decided at run time,
never assumed), and `prepare(prog)` -> a Prepared (argv plus what preparing
cost: snapshot or compile time, image size) or a Skip (this program cannot
run in this column, with the reason).

Invariants:
  1. Work files (images, compiled peer programs, private copies of the
     interpreter and lineiform) go under ctx.work, the metadata database
     under <build>/bench/; never into the source tree.
  2. A missing tool or a missing per-language version of a program is a
     Skip, not an error: the table says n/a and why.
  3. Preparing never checks output; the timed runs do (bench_measure).
"""

import glob
import os
import shutil

from bench_measure import spawn, spawn_retrying


class Context:
    """Paths and limits.  The metadata database lives in <build>/bench/ so
    that analyzing an unchanged interpreter is a cache hit across runs."""

    def __init__(self, src, build, work, timeout, prepare_timeout):
        self.src = src
        self.build = build
        self.work = work
        self.timeout = timeout
        self.prepare_timeout = prepare_timeout
        self.env = dict(os.environ)
        self.env["LINEIFORM_DB"] = os.path.join(build, "bench", "metadata.db")
        self.env["GUILE_AUTO_COMPILE"] = "0"
        self.interp = self._private_copy(os.path.join(build, "bin", "lisp"))
        self.cli = self._private_copy(os.path.join(build, "lineiform"))
        # The CLI's helper programs (lineiform-snapshot, ...) are found next
        # to it, so they are copied along.
        for helper in sorted(glob.glob(os.path.join(build, "lineiform-*"))):
            self._private_copy(helper)

    def _private_copy(self, path):
        """A copy of a built program in the work directory, so that a
        rebuild of the shared build directory during a run cannot mix two
        builds (an image is tied to its interpreter's build-id).  Returns
        the original path when it does not exist."""
        if not os.access(path, os.X_OK):
            return path
        copy = os.path.join(self.workdir("bin"), os.path.basename(path))
        shutil.copy2(path, copy)
        return copy

    def workdir(self, *parts):
        path = os.path.join(self.work, *parts)
        os.makedirs(path, exist_ok=True)
        return path


class Program:
    """A benchmark: name, Scheme source, expected stdout bytes, and where
    its C executable and Lua version are (each may not exist)."""

    def __init__(self, name, scm, expected, c_exe, lua):
        self.name = name
        self.scm = scm
        self.expected = expected
        self.c_exe = c_exe
        self.lua = lua


class Prepared:
    def __init__(self, cmd, info=None):
        self.cmd = cmd
        self.info = info or {}


class Skip(Exception):
    """This program cannot run in this column; str() is the reason."""


class PrepareFailed(Exception):
    """Preparing failed in a way that means a wrong result (a peer rejected
    a program that must be portable)."""


def _tool_version(ctx, argv, use_stderr=False):
    try:
        status, _, out, err, _, _ = spawn(argv, ctx.env, 20)
    except OSError:
        return None
    text = (err if use_stderr or not out.strip() else out)
    text = text.decode("utf-8", "replace").strip()
    if not text:
        return None
    line = text.splitlines()[0]
    for noise in ("  Copyright", " -- Copyright"):
        line = line.split(noise)[0]
    return line.strip()


def _run_prepare_step(ctx, argv, what):
    """Run a preparation command; raise PrepareFailed with its last stderr
    line on failure; return (wall seconds, stdout text)."""
    status, timed_out, out, err, wall, _ = spawn_retrying(
        argv, ctx.env, ctx.prepare_timeout)
    if timed_out:
        raise PrepareFailed("%s timed out after %g s" % (what, ctx.prepare_timeout))
    if os.waitstatus_to_exitcode(status) != 0:
        msg = (err or out).decode("utf-8", "replace").strip().splitlines()
        raise PrepareFailed("%s failed: %s" % (
            what, msg[-1][:160] if msg else "exit status %d" %
            os.waitstatus_to_exitcode(status)))
    return wall, out.decode("utf-8", "replace")


def _scheme_string(path):
    return '"' + path.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _with_prelude(ctx, column, prog):
    """prelude + program text written to work/<column>/<name>.scm."""
    prelude = os.path.join(ctx.src, "bench", "peers", column + ".scm")
    out = os.path.join(ctx.workdir(column), prog.name + ".scm")
    with open(prelude, "rb") as f:
        text = f.read()
    with open(prog.scm, "rb") as f:
        text += b"\n" + f.read()
    with open(out, "wb") as f:
        f.write(text)
    return out


class Interp:
    name = "interp"
    label = "interpreter"

    def __init__(self, ctx):
        self.ctx = ctx
        self.exe = ctx.interp

    def probe(self):
        if not os.access(self.exe, os.X_OK):
            return "n/a (interpreter not built: %s)" % self.exe
        return None

    def version(self):
        return None  # the interpreter is identified by its sha256

    def prepare(self, prog):
        return Prepared([self.exe, prog.scm])


class Image:
    """lineiform images.  Availability is probed by analyzing the
    interpreter and snapshotting the empty program."""
    name = "image"
    label = "image"

    def __init__(self, ctx, startup_scm):
        self.ctx = ctx
        self.cli = ctx.cli
        self.interp = ctx.interp
        self.startup_scm = startup_scm
        self.analyze_seconds = None
        self.snapshots = {}

    def probe(self):
        if not os.access(self.cli, os.X_OK) or not os.access(self.interp, os.X_OK):
            return "n/a (images not available: lineiform or the interpreter not built)"
        try:
            self.analyze_seconds, _ = _run_prepare_step(
                self.ctx, [self.cli, "analyze", self.interp], "lineiform analyze")
            self.prepare_path(self.startup_scm, "empty")
        except (PrepareFailed, OSError) as exc:
            return "n/a (images not available: %s)" % exc
        return None

    def version(self):
        return _tool_version(self.ctx, [self.cli, "--version"])

    def prepare_path(self, scm, name):
        if scm in self.snapshots:
            return self.snapshots[scm]
        img = os.path.join(self.ctx.workdir("images"), name + ".img")
        if os.path.exists(img):
            os.unlink(img)
        secs, summary = _run_prepare_step(
            self.ctx, [self.cli, "snapshot", scm, "-o", img, "--interp",
                       self.interp], "lineiform snapshot")
        if not os.path.isfile(img):
            raise PrepareFailed("lineiform snapshot exited 0 but wrote no image")
        self.snapshots[scm] = Prepared(
            [self.cli, "run", img], {"snapshot_seconds": round(secs, 6),
                                     "image_bytes": os.path.getsize(img),
                                     "snapshot_summary": summary.strip()})
        return self.snapshots[scm]

    def prepare(self, prog):
        try:
            return self.prepare_path(prog.scm, prog.name)
        except PrepareFailed as exc:
            # A snapshot that fails leaves the program without an image;
            # only an image that runs and prints a wrong result is wrong.
            raise Skip("n/a (%s)" % exc)


class Native:
    name = "c"
    label = "C -O2"

    def __init__(self, ctx):
        self.ctx = ctx
        self.dir = os.path.join(ctx.build, "bench", "c")

    def probe(self):
        if not os.path.isdir(self.dir):
            return "n/a (C programs not built: %s)" % self.dir
        return None

    def version(self):
        cc = os.environ.get("BENCH_CC", "cc")
        return _tool_version(self.ctx, [cc, "--version"])

    def prepare(self, prog):
        if not os.access(prog.c_exe, os.X_OK):
            raise Skip("n/a (no C version of %s)" % prog.name)
        return Prepared([prog.c_exe])


class Lua:
    def __init__(self, ctx, exe):
        self.ctx = ctx
        self.name = self.label = exe

    def probe(self):
        if not shutil.which(self.name):
            return "n/a (%s not installed)" % self.name
        return None

    def version(self):
        return _tool_version(self.ctx, [self.name, "-v"], use_stderr=False)

    def prepare(self, prog):
        if not os.path.isfile(prog.lua):
            raise Skip("n/a (no Lua version of %s)" % prog.name)
        return Prepared([self.name, prog.lua])


class Guile:
    name = label = "guile"

    def __init__(self, ctx):
        self.ctx = ctx

    def probe(self):
        return None if shutil.which("guile") else "n/a (guile not installed)"

    def version(self):
        return _tool_version(self.ctx, ["guile", "--version"])

    def prepare(self, prog):
        src = _with_prelude(self.ctx, "guile", prog)
        obj = src[:-len(".scm")] + ".go"
        code = ("(use-modules (system base compile)) (compile-file %s "
                "#:output-file %s)" % (_scheme_string(src), _scheme_string(obj)))
        secs, _ = _run_prepare_step(self.ctx, ["guile", "-q", "-c", code],
                                 "guile compile-file")
        load = "(load-compiled %s)" % _scheme_string(obj)
        return Prepared(["guile", "-q", "-c", load],
                        {"compile_seconds": round(secs, 6)})


class Chez:
    name = label = "chez"

    def __init__(self, ctx):
        self.ctx = ctx
        self.exe = shutil.which("chezscheme") or shutil.which("scheme")

    def probe(self):
        return None if self.exe else "n/a (chezscheme not installed)"

    def version(self):
        v = _tool_version(self.ctx, [self.exe, "--version"], use_stderr=True)
        return "Chez Scheme " + v if v else None

    def prepare(self, prog):
        src = _with_prelude(self.ctx, "chez", prog)
        obj = src[:-len(".scm")] + ".so"
        script = os.path.join(self.ctx.workdir("chez"), prog.name + ".compile.ss")
        with open(script, "w") as f:
            f.write("(compile-script %s %s)\n" % (_scheme_string(src),
                                                  _scheme_string(obj)))
        secs, _ = _run_prepare_step(self.ctx, [self.exe, "-q", "--script", script],
                                 "chez compile-script")
        return Prepared([self.exe, "--script", obj],
                        {"compile_seconds": round(secs, 6)})


def all_columns(ctx, startup_scm):
    """Every column, in table order."""
    return [Interp(ctx), Image(ctx, startup_scm), Native(ctx),
            Lua(ctx, "lua5.4"), Lua(ctx, "luajit"), Guile(ctx), Chez(ctx)]
