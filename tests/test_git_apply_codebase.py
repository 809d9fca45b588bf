"""The stored codebase of a linked project follows an apply made on the
commit it was synced from: the database writes just the changed files into
it (SQLite's json_patch, PostgreSQL's jsonb operators), so what it holds
afterwards must be exactly the commit's files, whatever their names."""

from __future__ import annotations

from pathlib import Path

from store.engine import Database
from store.models import ModificationStatus
from store.services import modifications as service
from store.services import projects as project_service
from tests.git_support import git, linked_billing, make_repo, tree_files

# Names a JSON path would read as syntax: quotes, dots, dollars, brackets,
# a key that looks like an array index, and letters beyond ASCII.
NAMES = [
    'quote"d.txt',
    "dots.in.name.cfg",
    "$.root.md",
    "list[0].txt",
    "src/0",
    "données/résumé.md",
    "docs/ünïcode/ß.txt",
]
FILES = {name: f"original {index}\n" for index, name in enumerate(NAMES)} | {
    "README.md": "# Billing\n",
    "src/keep.py": "KEEP = 1\n",
    "src/gone.py": "GONE = 1\n",
}


async def test_the_codebase_holds_the_applied_commits_files(
    database: Database, tmp_path: Path
) -> None:
    repository = make_repo(tmp_path / "repo", FILES)
    await linked_billing(database, repository)
    change: dict[str, str | None] = {name: f"changed {name}\n" for name in NAMES[::2]}
    change |= {"src/gone.py": None, "new/nested/file.txt": "new\n", 'new/"odd".json': "{}\n"}
    proposed = await service.propose_modification(
        database,
        "billing",
        service.ModificationProposal(request="Touch odd names", modified_files=change),
        actor="agent",
    )
    await service.approve_modification(database, str(proposed.id), actor="rita")

    applied = await service.apply_modification(database, str(proposed.id), actor="rita")

    assert applied.status == ModificationStatus.APPLIED
    config = await project_service.get_project_full_config(database, "billing")
    assert config.project.snapshot_commit == applied.applied_commit
    assert config.project.codebase == tree_files(repository)
    assert "src/gone.py" not in config.project.codebase
    assert config.project.codebase["src/keep.py"] == "KEEP = 1\n"
    assert config.project.version == 3  # created, synced, applied
    # What git holds is what was written, and the checkout followed.
    assert git(repository, "status", "--porcelain") == ""
