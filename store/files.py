"""Files on disk made to last: a folder's entries flushed after a file in it
was replaced (the key file, a published output)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def sync_folder(folder: Path) -> None:
    """Flush ``folder``'s entries, so that a rename in it survives a crash;
    where the system cannot (no directory handles), nothing is done: the
    file itself is already written."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
