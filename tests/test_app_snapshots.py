"""What a person sees, pinned: every scene of ``tests.screenshots`` drawn
from the fixed demo data at a fixed size (``pytest --snapshot-update``
re-approves them after a deliberate change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import URL
from textual.pilot import Pilot

from tests.app_support import make_app
from tests.screenshots import SCENES, Scene, play

# The scenes of the screenshots, and two at 80x24 (#22): the footer still
# shows ? (Help) and q (Quit), and nothing overlaps.
SMALL_SCENES = [
    Scene("projects-80x24", (), (80, 24)),
    Scene("review-80x24", ("5", "enter", "n"), (80, 24)),
]
ALL_SCENES = [*SCENES, *SMALL_SCENES]


@pytest.mark.parametrize("scene", ALL_SCENES, ids=[scene.name for scene in ALL_SCENES])
def test_scene_looks_as_approved(
    scene: Scene, demo_url: URL, snap_compare: Callable[..., bool]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await play(pilot, scene)

    assert snap_compare(make_app(demo_url), terminal_size=scene.size, run_before=run_before)


def test_no_secret_value_is_drawn_in_any_picture() -> None:
    """The demo's secret values ("demo-<name>-<hex>") never reach a snapshot
    or a screenshot; their names do."""
    from pathlib import Path

    from store.demo_projects import PROJECTS

    root = Path(__file__).resolve().parent.parent
    pictures = [
        *(root / "screenshots").glob("*.svg"),
        *(root / "tests" / "__snapshots__").rglob("*.svg"),
    ]
    assert len(pictures) >= 2 * len(SCENES)
    names = [name for project in PROJECTS for name in project.secrets]
    drawn_names = set()
    for picture in pictures:
        text = picture.read_text(encoding="utf-8").replace("&#160;", " ")
        for name in names:
            assert f"demo-{name.lower()}-" not in text, f"{picture.name} shows a secret value"
            if name in text:
                drawn_names.add(name)
    assert drawn_names  # the secrets pane is among the pictures
