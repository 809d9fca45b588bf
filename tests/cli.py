"""Running the ``projdeck`` CLI as a script or an agent would run it.

``Projdeck.run`` calls the console script's entry point (``tui.cli:main``)
in this process by default, because starting the installed script costs
0.5-2 s of interpreter start-up and imports per call, and the CLI tests
make hundreds of calls: run in a subprocess they took most of CI's time.
The call replays what a child process on pipes would see, so what the
tests read is what the script prints:

- ``sys.argv`` is the script's (``--db-url URL`` first), ``os.environ`` is
  exactly ``self.env`` (``PROJDECK_ACTOR`` included), and both are put back
  after the call, as are the working directory, the warning filters and the
  root logger;
- stdin, stdout and stderr (and ``sys.__std*__``, which the app's terminal
  check and ``shutil.get_terminal_size`` read) are byte pipes with the
  encodings and error handlers a child would have, none a terminal
  (``isatty()`` false; no input is an empty stdin, like /dev/null); the
  output is decoded as ``subprocess.run(text=True)`` decodes it;
- warnings are filtered and printed on stderr, and logging reaches stderr,
  as in a fresh interpreter (not pytest's capture);
- the exit code is that of ``SystemExit`` (click's 2 for usage errors, the
  commands' 1), and an exception that escapes is printed on stderr as
  Python prints it (a traceback, exit 1), so ``ok`` and ``fails`` still
  fail on it;
- the call runs in a thread of its own, so the CLI's ``asyncio.run`` works
  when a test's event loop is running (async tests call ``cli.ok``).

A test must use a real subprocess of the installed script (``Projdeck(url,
in_subprocess=True)``, or a subclass setting ``in_subprocess = True``; a
subclass with ``preexec_fn`` gets one automatically) when it needs a
process: a resource limit set in the child (``preexec_fn``), a signal or a
kill, a terminal or a reader that closes the pipe early, start-up or import
behaviour, the installed script itself, or a command that must not share
this process's memory or state. Tests that build their own command line
from ``SCRIPT`` run it in a subprocess as before."""

from __future__ import annotations

import io
import json
import locale
import logging
import os
import subprocess
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.engine import URL

SCRIPT = Path(sys.executable).with_name("projdeck")
TIMEOUT = 60


class Projdeck:
    """The CLI bound to one database, as a script or an agent would run it."""

    # Run in the child before the command (a subclass limits its memory);
    # setting it makes every call a subprocess.
    preexec_fn: Callable[[], None] | None = None
    # Run the installed script in a subprocess instead of in this process.
    in_subprocess: bool = False

    def __init__(self, url: URL | str, *, in_subprocess: bool | None = None, **env: str) -> None:
        self.url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        self.env = {**os.environ, "PROJDECK_ACTOR": "cli-test", **env}
        self.env.pop("PROJDECK_DATABASE_URL", None)
        if in_subprocess is not None:
            self.in_subprocess = in_subprocess

    @property
    def uses_subprocess(self) -> bool:
        return self.in_subprocess or self.preexec_fn is not None

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        argv = [str(SCRIPT), "--db-url", self.url, *args]
        if self.uses_subprocess:
            return subprocess.run(
                argv,
                capture_output=True,
                text=True,
                input=input,
                env=self.env,
                timeout=TIMEOUT,
                check=False,
                preexec_fn=self.preexec_fn,
            )
        return run_in_process(argv, env=self.env, input=input)

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.returncode == 0, f"{args}: exit {result.returncode}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result.stdout

    def json(self, *args: str, input: str | None = None) -> Any:
        return json.loads(self.ok(*args, "--json", input=input))

    def fails(self, *args: str, code: int = 1, input: str | None = None) -> str:
        result = self.run(*args, input=input)
        assert result.returncode == code, (
            f"{args}: exit {result.returncode}\n{result.stdout}{result.stderr}"
        )
        assert "Traceback" not in result.stderr
        return result.stderr


# -- in this process, as a child on pipes would run ---------------------------------

# In-process runs share sys.std* and os.environ: one at a time.
_ONE_AT_A_TIME = threading.Lock()

# What the child's stdio encodings depend on.
_ENCODING_ENV = ("LC_ALL", "LC_CTYPE", "LANG", "PYTHONIOENCODING", "PYTHONUTF8")
_PROBE = (
    "import json, sys; print(json.dumps([[s.encoding, s.errors] "
    "for s in (sys.stdin, sys.stdout, sys.stderr)]))"
)
_encodings: dict[tuple[str | None, ...], list[tuple[str, str]]] = {}


def _child_encodings(env: Mapping[str, str]) -> list[tuple[str, str]]:
    """The encoding and error handler of stdin, stdout and stderr of a child
    started on pipes with ``env`` (asked of one child, once per locale)."""
    key = tuple(env.get(name) for name in _ENCODING_ENV)
    if key not in _encodings:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE],
            capture_output=True,
            text=True,
            input="",
            env=dict(env),
            timeout=TIMEOUT,
            check=True,
        )
        _encodings[key] = [(encoding, errors) for encoding, errors in json.loads(probe.stdout)]
    return _encodings[key]


def _parent_encoding() -> str:
    """The encoding ``subprocess.run(text=True)`` writes input and reads
    output with."""
    return "utf-8" if sys.flags.utf8_mode else locale.getencoding()


class _Pipe(io.BytesIO):
    """One end of a pipe: what was written, kept if the command closes it."""

    kept = b""

    def close(self) -> None:
        if not self.closed:
            self.kept = self.getvalue()
        super().close()

    def data(self) -> bytes:
        return self.kept if self.closed else self.getvalue()


@dataclass
class _Stdio:
    stdin: io.TextIOWrapper
    stdout: io.TextIOWrapper
    stderr: io.TextIOWrapper
    out: _Pipe
    err: _Pipe

    @classmethod
    def for_child(cls, env: Mapping[str, str], input: str | None) -> _Stdio:
        (in_enc, in_err), (out_enc, out_err), (err_enc, err_err) = _child_encodings(env)
        data = (input or "").encode(_parent_encoding())
        out, err = _Pipe(), _Pipe()
        # As Python makes them on pipes: no newline translation, stderr
        # line-buffered.
        return cls(
            stdin=io.TextIOWrapper(io.BytesIO(data), encoding=in_enc, errors=in_err, newline="\n"),
            stdout=io.TextIOWrapper(out, encoding=out_enc, errors=out_err, newline="\n"),
            stderr=io.TextIOWrapper(
                err, encoding=err_enc, errors=err_err, newline="\n", line_buffering=True
            ),
            out=out,
            err=err,
        )


_STREAMS = ("stdin", "stdout", "stderr", "__stdin__", "__stdout__", "__stderr__")


@contextmanager
def _as_a_child(argv: Sequence[str], env: Mapping[str, str], stdio: _Stdio) -> Iterator[None]:
    """This process's argv, environment, stdio, warning filters and root
    logger made those of a fresh child for the time of one call."""
    saved_environ = dict(os.environ)
    saved_argv = sys.argv
    saved_streams = {name: getattr(sys, name) for name in _STREAMS}
    saved_cwd = os.getcwd()
    root = logging.getLogger()
    saved_logging = (root.handlers[:], root.level)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = list(argv)
    for name in _STREAMS:
        setattr(sys, name, getattr(stdio, name.strip("_")))
    # A fresh interpreter's root logger: no handlers (logging's last resort
    # prints warnings on stderr), level WARNING.
    root.handlers = []
    root.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # A fresh interpreter's filters (not pytest's), and warnings
            # printed on stderr (not recorded by pytest).
            warnings.resetwarnings()
            warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
            for category in (
                DeprecationWarning,
                PendingDeprecationWarning,
                ImportWarning,
                ResourceWarning,
            ):
                warnings.filterwarnings("ignore", category=category, append=True)
            warnings.showwarning = _print_warning
            yield
    finally:
        root.handlers, level = saved_logging
        root.setLevel(level)
        if os.getcwd() != saved_cwd:
            os.chdir(saved_cwd)
        for name, stream in saved_streams.items():
            setattr(sys, name, stream)
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_environ)


def _print_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    (file or sys.stderr).write(warnings.formatwarning(message, category, filename, lineno, line))


def _exit_status(code: object) -> int:
    """The exit status ``sys.exit(code)`` gives a process."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _entry_point() -> int:
    """What the console script does (``sys.exit(main())``) and what the
    interpreter does after it: the exit status, an escaping exception
    printed, stdout and stderr flushed."""
    from tui.cli import main

    try:
        main()
        status = 0
    except SystemExit as exit:
        status = _exit_status(exit.code)
    except KeyboardInterrupt:
        traceback.print_exc()
        status = -2  # Python ends itself with SIGINT
    except BaseException:
        traceback.print_exc()
        status = 1
    try:
        # main() may have replaced sys.stdout (it wraps it in VisibleOutput).
        sys.stdout.flush()
    except Exception:
        print("Exception ignored on flushing sys.stdout:", file=sys.stderr)
        traceback.print_exc()
        status = 120
    try:
        sys.stderr.flush()
    except Exception:
        status = 120
    return status


def run_in_process(
    argv: Sequence[str], *, env: Mapping[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``argv`` (the script's path first) run by the console script's entry
    point in this process, as ``subprocess.run(argv, env=env, input=input,
    capture_output=True, text=True)`` would run the script."""
    stdio = _Stdio.for_child(env, input)
    outcome: list[int] = []
    escaped: list[BaseException] = []

    def call() -> None:
        try:
            outcome.append(_entry_point())
            # What is still buffered in the streams main() replaced reaches
            # the pipes when the interpreter closes them.
            for stream in (stdio.stdout, stdio.stderr):
                if not stream.closed:
                    stream.flush()
        except BaseException as error:  # pragma: no cover - a bug of this module
            escaped.append(error)

    thread = threading.Thread(target=call, name="projdeck-in-process", daemon=True)
    with _ONE_AT_A_TIME, _as_a_child(argv, env, stdio):
        thread.start()
        thread.join(TIMEOUT)
    if thread.is_alive():
        raise subprocess.TimeoutExpired(list(argv), TIMEOUT)
    if escaped:
        raise escaped[0]
    encoding = _parent_encoding()

    def text(pipe: _Pipe) -> str:
        # As subprocess.run(text=True) reads a pipe: universal newlines.
        return pipe.data().decode(encoding).replace("\r\n", "\n").replace("\r", "\n")

    return subprocess.CompletedProcess(list(argv), outcome[0], text(stdio.out), text(stdio.err))
