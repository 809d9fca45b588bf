"""benchmarks/RESULTS.md, one section per benchmark: a script rewrites its own."""

from __future__ import annotations

from pathlib import Path

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
