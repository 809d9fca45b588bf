"""Smoke test of projdeck as users install it: run by .ci/run with the Python
of a fresh virtualenv that holds only the built wheel, from a folder outside
the checkout, with a home of its own (so every default path is new).

It seeds the templates, creates a project from one, proposes, approves and
applies a change, fills a second database with the demo, and opens the app
(on the default database and with --demo) in a pseudo-terminal, as a person
would, then quits it with q."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PROJDECK = str(BIN / "projdeck")


def run(*args: str, env: dict[str, str]) -> str:
    print("$ projdeck", " ".join(args), flush=True)
    done = subprocess.run(
        [PROJDECK, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if done.returncode != 0:
        sys.exit(f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done.stdout


def _screen_text(output: bytes) -> bytes:
    """What the app drew, without the escape sequences that draw it."""
    return re.sub(rb"\x1b\[[0-9;?]*[ -/]*[@-~]", b"", output)


def refused(*args: str, env: dict[str, str], saying: str) -> None:
    print("$ projdeck", " ".join(args), "(refused)", flush=True)
    done = subprocess.run(
        [PROJDECK, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 1 or saying not in done.stderr or "Traceback" in done.stderr:
        sys.exit(f"exit {done.returncode}, expected 1 saying {saying!r}:\n{done.stderr}")


def open_app(*args: str, env: dict[str, str], expect: str, timeout: float = 120) -> None:
    """Run the app in a pseudo-terminal until ``expect`` is on its screen,
    then press q and check it exits 0."""
    print("$ projdeck", " ".join(args), "(in a terminal, then q)", flush=True)
    pid, fd = pty.fork()
    if pid == 0:  # the child: becomes the app
        os.execve(PROJDECK, [PROJDECK, *args], {**env, "TERM": "xterm-256color"})
    seen = b""
    deadline = time.monotonic() + timeout
    try:
        # What the screen shows, without the escape sequences that draw it.
        while expect.encode() not in (screen := _screen_text(seen)):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                sys.exit(
                    f"the app did not show {expect!r} in {timeout} s; it showed:\n"
                    + screen[-3000:].decode(errors="replace")
                )
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(fd, 65536)
                except OSError:
                    break
        os.write(fd, b"q")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if ready:
                try:
                    if not os.read(fd, 65536):
                        break
                except OSError:
                    break
            finished, status = os.waitpid(pid, os.WNOHANG)
            if finished:
                break
        else:
            os.kill(pid, signal.SIGKILL)
            sys.exit("the app did not quit within 60 s of q")
        if not finished:
            _, status = os.waitpid(pid, 0)
    finally:
        os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the app exited {os.waitstatus_to_exitcode(status)}")


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="projdeck-smoke-"))
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PROJDECK_", "XDG_", "PYTHON"))
    }
    env.update(HOME=str(home), PROJDECK_ACTOR="smoke")
    os.chdir(home)

    print(run("--version", env=env).strip())
    run("db", "upgrade", env=env)
    run("template", "seed", env=env)
    templates = json.loads(run("template", "list", "--json", env=env))
    assert templates["total"] >= 8, templates

    created = json.loads(
        run(
            "project",
            "create",
            "--template",
            "static-site",
            "--var",
            "project_name=smoke-site",
            "--var",
            "site_title=Smoke",
            "--name",
            "smoke-site",
            "--owner",
            "ci",
            "--json",
            env=env,
        )
    )
    shown = json.loads(run("project", "show", created["id"], "--codebase", "--json", env=env))
    assert "index.html" in json.dumps(shown), shown

    change = home / "index.html"
    change.write_text("<h1>changed by the smoke test</h1>\n", encoding="utf-8")
    proposed = json.loads(
        run(
            "mod",
            "propose",
            "smoke-site",
            "--request",
            "Change the page",
            "--file",
            f"index.html={change}",
            # An agent asks and the person approves: nobody approves their own.
            "--requested-by",
            "smoke-agent",
            "--json",
            env=env,
        )
    )
    run("mod", "approve", proposed["id"], "--comment", "fine", env=env)
    run("mod", "apply", proposed["id"], env=env)
    assert json.loads(run("mod", "show", proposed["id"], "--json", env=env))["status"] == "applied"

    run("--db-url", f"sqlite:///{home / 'demo.db'}", "demo", env=env)
    demo = json.loads(
        run("--db-url", f"sqlite:///{home / 'demo.db'}", "project", "list", "--json", env=env)
    )
    assert demo["total"] >= 10, demo

    # Installed without the postgres extra: a PostgreSQL URL says what to install.
    refused(
        "--db-url",
        "postgresql://postgres@127.0.0.1:5432/test",
        "project",
        "list",
        env=env,
        saying="pip install 'projdeck[postgres]'",
    )

    open_app(env=env, expect="smoke-site")
    open_app("--demo", env=env, expect="Projects")
    shutil.rmtree(home)
    print("smoke test of the installed wheel: ok")


if __name__ == "__main__":
    main()
