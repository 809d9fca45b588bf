"""The app, at start, records as applied a modification that a process
committed on its linked branch but stopped before the database knew."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from store import vcs
from store.engine import Database
from store.models import ModificationStatus
from store.services import modifications as service
from store.services import review as review_service
from tests.app_support import running_app, wait_until
from tests.git_support import head, linked_billing, make_repo


async def test_the_app_records_at_start_a_commit_the_database_missed(
    database: Database, database_url: URL, tmp_path: Path
) -> None:
    repository = make_repo(tmp_path / "repo", {"taxes.py": "TAX = 0.2\n"})
    await linked_billing(database, repository)
    proposal = service.ModificationProposal(
        request="Tax three", modified_files={"taxes.py": "TAX = 0.3\n"}
    )
    created = await service.propose_modification(database, "billing", proposal, actor="agent-7")
    await service.approve_modification(database, str(created.id))
    made = vcs.commit_change(
        repository,
        branch="main",
        base=head(repository),
        change=vcs.Change(files={"taxes.py": "TAX = 0.3\n"}),
        message=vcs.commit_message("Tax three", modification_id=str(created.id), reviewer="r"),
        author=vcs.Identity("Agent Smith", "agent@example.org"),
    )
    async with running_app(database_url) as (app, pilot):
        await wait_until(
            pilot,
            lambda: any(n.title == "Repositories reconciled" for n in app._notifications),
            10.0,
        )
        [told] = [n for n in app._notifications if n.title == "Repositories reconciled"]
        assert str(told.message).startswith("1 modification found committed")
    detail = await review_service.get_modification(database, str(created.id))
    assert detail.modification.status == ModificationStatus.APPLIED
    assert detail.modification.applied_commit == made.commit
