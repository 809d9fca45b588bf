"""benchmarks/RESULTS.md, one section per benchmark: a script rewrites its own
(its command line read by ``arguments``, its section printed and written by
``publish``); and what a script's run needs around its measurement (a
``scratch`` folder, the load ``measured`` under)."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(section: str, lines: list[str], path: Path = RESULTS) -> None:
    """Put ``lines`` (starting with the ``section`` heading) in RESULTS.md in
    place of that section (or before the findings, the first time), the
    blank line before the next section kept."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    block = "\n".join(lines) + "\n"
    if section in text:
        start = text.index(section)
        end = text.find("\n## ", start + len(section))
        text = text[:start] + block + ("\n" + text[end + 1 :] if end != -1 else "")
    elif "## Findings" in text:
        at = text.index("## Findings")
        text = text[:at] + block + "\n" + text[at:]
    else:
        text = text + "\n" + block
    path.write_text(text, encoding="utf-8")


def arguments(
    parser: argparse.ArgumentParser | str, argv: Sequence[str] | None, **defaults: int | str
) -> argparse.Namespace:
    """A benchmark script's command line: its own options, then ``--output``
    (the RESULTS.md its section is written to). ``parser`` holds the
    script's options, or is the script's module, whose options are then
    ``defaults``: ``rounds=5`` is ``--rounds`` taking a number, 5 unless given."""
    if isinstance(parser, str):
        parser = argparse.ArgumentParser(prog=f"python -m {parser}")
        for name, default in defaults.items():
            parser.add_argument(f"--{name}", type=type(default), default=default)
    parser.add_argument("--output", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def publish(section: str, lines: list[str], output: Path, name: str) -> None:
    """Print a script's section and write it in place in ``output``."""
    print("\n".join(lines))
    write_section(section, lines, output)
    print(f"wrote the {name} section of {output}")


def script(
    module: str,
    section: str,
    name: str,
    run: Callable[..., dict[str, Any]],
    render: Callable[[dict[str, Any]], list[str]],
    **defaults: int,
) -> Callable[[Sequence[str] | None], None]:
    """The ``main`` of a script whose ``run`` takes only its options
    (``defaults``, as for ``arguments``): run it, then ``publish`` its section."""

    def main(argv: Sequence[str] | None = None) -> None:
        args = arguments(module, argv, **defaults)
        result = run(**{option: getattr(args, option) for option in defaults})
        publish(section, render(result), args.output, name)

    return main


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary folder for one run, the master key file in it and the
    actor ``bench`` in the environment, which is as it was afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix) as work:
        folder = Path(work)
        saved = dict(os.environ)
        os.environ["PROJDECK_KEY_FILE"] = str(folder / "keys.json")
        os.environ["PROJDECK_ACTOR"] = "bench"
        try:
            yield folder
        finally:
            os.environ.clear()
            os.environ.update(saved)


def measured(work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The figures ``work`` gives, with the load average before and after it
    and the date."""
    load_before = os.getloadavg()[0]
    result = work()
    result["load"] = [load_before, os.getloadavg()[0]]
    result["date"] = f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    return result
