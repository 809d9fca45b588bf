"""What a person sees, pinned: every scene of ``tui.screenshots`` drawn
from the fixed demo data at a fixed size (``pytest --snapshot-update``
re-approves them after a deliberate change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.engine import URL
from textual.pilot import Pilot

from tests.app_support import demo_database_file, demo_url, make_app
from tui.screenshots import SCENES, Scene, play

__all__ = ["demo_database_file", "demo_url"]


@pytest.mark.parametrize("scene", SCENES, ids=[scene.name for scene in SCENES])
def test_scene_looks_as_approved(
    scene: Scene, demo_url: URL, snap_compare: Callable[..., bool]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await play(pilot, scene)

    assert snap_compare(make_app(demo_url), terminal_size=scene.size, run_before=run_before)
