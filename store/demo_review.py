"""The demo's review by hunks: an agent's change that a reviewer took apart
hunk by hunk, turned down with reasons and line comments, and the agent's
second revision that answers them (what "changes since the last review"
shows). Filled by ``store.demo.fill_demo`` after the other modifications."""

from __future__ import annotations

from store.engine import Database
from store.models import CommentSide, HunkVerdict, Modification
from store.services import hunk_review
from store.services import modifications as mod_service
from store.services import projects as project_service

PROJECT = "Billing API"
REQUEST = "Reject malformed invoice ids before the lookup"
AGENT = "claude-code"
REVIEWER = "alice"

_IDS_FIRST = '''"""Invoice ids: "inv_" and eight lower-case letters or digits."""

import re

INVOICE_ID = re.compile(r"inv_[0-9a-z]{8}")


def is_invoice_id(value: str) -> bool:
    return INVOICE_ID.match(value) is not None
'''
_IDS_SECOND = _IDS_FIRST.replace("INVOICE_ID.match(value)", "INVOICE_ID.fullmatch(value)")

_TESTS_FIRST = """from billing.ids import is_invoice_id


def test_a_well_formed_id() -> None:
    assert is_invoice_id("inv_0a1b2c3d")


def test_a_malformed_id() -> None:
    assert not is_invoice_id("0a1b2c3d")
"""
_TESTS_SECOND = (
    _TESTS_FIRST
    + """

def test_trailing_text_is_malformed() -> None:
    assert not is_invoice_id("inv_0a1b2c3d-extra")
"""
)

_GUARD = """    if not is_invoice_id(invoice_id):
        raise HTTPException(status_code={status}, detail="no such invoice")
"""


def _invoices(current: str, status: int) -> str:
    """The stored billing/invoices.py with the guard in its handler."""
    head = "def get_invoice(invoice_id: str) -> dict[str, object]:\n"
    changed = current.replace(
        "from fastapi import APIRouter\n",
        "from fastapi import APIRouter, HTTPException\n\nfrom billing.ids import is_invoice_id\n",
    )
    return changed.replace(head, head + _GUARD.format(status=status))


async def _propose(
    db: Database, invoices: str, *, revision: int, revises: str | None = None
) -> Modification:
    """The agent's change: its first revision, or the second, which answers
    the review of the first."""
    first = revision == 1
    return await mod_service.propose_modification(
        db,
        PROJECT,
        mod_service.ModificationProposal(
            request=REQUEST,
            requested_by=AGENT,
            modified_files={
                "billing/ids.py": _IDS_FIRST if first else _IDS_SECOND,
                "billing/invoices.py": _invoices(invoices, 400 if first else 404),
                "tests/test_ids.py": _TESTS_FIRST if first else _TESTS_SECOND,
            },
            impact_analysis={
                "risk": "low",
                "summary": f"{REQUEST} (3 files)" + ("." if first else ", revised."),
            },
            test_results={"passed": 31 if first else 32, "failed": 0, "skipped": 0},
        ),
        revises=revises,
        actor=AGENT,
    )


async def add_reviewed_revision(db: Database) -> int:
    """Propose, review and revise the demo's change; returns how many
    modifications it added (two: the rejected revision and its successor)."""
    config = await project_service.get_project_full_config(db, PROJECT)
    invoices = str(config.project.codebase["billing/invoices.py"])
    first = await _propose(db, invoices, revision=1)
    ref = str(first.id)
    await hunk_review.decide_hunks(
        db,
        ref,
        verdict=HunkVerdict.ACCEPTED,
        paths=["billing/invoices.py", "tests/test_ids.py"],
        actor=REVIEWER,
    )
    await hunk_review.decide_hunks(
        db,
        ref,
        verdict=HunkVerdict.REJECTED,
        paths=["billing/ids.py"],
        reason="match() lets 'inv_0a1b2c3d-extra' through: use fullmatch().",
        actor=REVIEWER,
    )
    guard = (
        _invoices(invoices, 400)
        .splitlines()
        .index('        raise HTTPException(status_code=400, detail="no such invoice")')
    )
    await hunk_review.add_comment(
        db,
        ref,
        path="billing/invoices.py",
        line=guard + 1,
        text="Unknown ids are a 404 everywhere else in this API; say 404 here too.",
        side=CommentSide.NEW,
        actor=REVIEWER,
    )
    await hunk_review.add_comment(
        db,
        ref,
        path="tests/test_ids.py",
        line=1,
        text="Good: the rule is tested without starting the app.",
        actor=REVIEWER,
    )
    await mod_service.reject_modification(
        db, ref, comment="Close: two fixes, see the comments.", actor=REVIEWER
    )
    await _propose(db, invoices, revision=2, revises=ref)
    return 2
