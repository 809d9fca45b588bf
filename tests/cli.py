"""Running the installed ``projdeck`` console script in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL

SCRIPT = Path(sys.executable).with_name("projdeck")


class Projdeck:
    """The CLI bound to one database, as a script or an agent would run it."""

    # Run in the child before the command (a subclass limits its memory).
    preexec_fn: Callable[[], None] | None = None

    def __init__(self, url: URL | str, **env: str) -> None:
        self.url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
        self.env = {**os.environ, "PROJDECK_ACTOR": "cli-test", **env}
        self.env.pop("PROJDECK_DATABASE_URL", None)

    def run(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), "--db-url", self.url, *args],
            capture_output=True,
            text=True,
            input=input,
            env=self.env,
            timeout=60,
            check=False,
            preexec_fn=self.preexec_fn,
        )

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
