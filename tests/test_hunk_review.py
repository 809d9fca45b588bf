"""Review hunk by hunk on both backends: hunks numbered across files,
decisions with reasons, comments on lines, approval in part applying only
the accepted hunks (to the stored codebase and, on a linked project, as the
commit), decisions that no longer hold when the diff changes, and the
feedback an agent reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.engine import Database
from store.errors import InvalidTransition, ValidationError
from store.models import CommentSide, HunkVerdict, ModificationStatus
from store.repositories.audit import AuditFilter, AuditRepository
from store.services import agents, hunk_review, projects
from store.services import modifications as service
from tests.git_support import git, linked_billing, make_repo

# Two hunks in app.py (far apart), one in lib.py, a new file: four hunks.
APP = "".join(f"line {n}\n" for n in range(1, 31))
APP_CHANGED = APP.replace("line 2\n", "line two\n").replace("line 28\n", "line 28b\n")
CODEBASE = {"app.py": APP, "lib.py": "def f():\n    return 1\n"}
CHANGE: dict[str, str | None] = {
    "app.py": APP_CHANGED,
    "lib.py": "def f():\n    return 2\n",
    "new.md": "# New\n",
}


async def proposed(database: Database, codebase: dict[str, str] | None = None) -> str:
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(
            name="billing", type="api", owner_id="alice", codebase=codebase or CODEBASE
        ),
    )
    return await propose(database)


async def propose(database: Database) -> str:
    created = await service.propose_modification(
        database,
        "billing",
        service.ModificationProposal(request="Tidy", modified_files=dict(CHANGE)),
        actor="agent-7",
    )
    return str(created.id)


async def events(database: Database, event_type: str) -> list[dict[str, object]]:
    async with database.reading() as session:
        rows = await AuditRepository(session).list(AuditFilter(event_type=event_type), limit=20)
    return [dict(row.details) for row in rows]


async def test_hunks_are_numbered_across_files_in_path_order(database: Database) -> None:
    ref = await proposed(database)

    review = await hunk_review.modification_hunks(database, ref)

    assert [(item.number, item.path, item.hunk.header) for item in review.hunks] == [
        (1, "app.py", "@@ -1,5 +1,5 @@"),
        (2, "app.py", "@@ -25,6 +25,6 @@"),
        (3, "lib.py", "@@ -1,2 +1,2 @@"),
        (4, "new.md", "@@ -0,0 +1 @@"),
    ]
    assert {file.path: review.file_state(file.path) for file in review.files} == dict.fromkeys(
        ["app.py", "lib.py", "new.md"], "undecided"
    )


async def test_decisions_show_per_file_and_are_audited(database: Database) -> None:
    ref = await proposed(database)

    await hunk_review.decide_hunks(
        database, ref, verdict=HunkVerdict.ACCEPTED, numbers=[1], actor="rita"
    )
    review = await hunk_review.decide_hunks(
        database,
        ref,
        verdict=HunkVerdict.REJECTED,
        paths=["lib.py"],
        reason="keep returning 1",
        actor="rita",
    )

    assert [item.verdict for item in review.hunks] == [
        HunkVerdict.ACCEPTED,
        None,
        HunkVerdict.REJECTED,
        None,
    ]
    assert review.hunks[2].decision is not None
    assert review.hunks[2].decision.reason == "keep returning 1"
    assert review.file_state("app.py") == "partly accepted"
    assert review.file_state("lib.py") == "rejected"
    assert review.file_state("new.md") == "undecided"
    decided = await events(database, "modification.hunks_decided")
    assert {"hunks": [3], "verdict": "rejected", "reason": "keep returning 1"}.items() <= {
        **decided[0]
    }.items()
    undone = await hunk_review.decide_hunks(database, ref, verdict=None, numbers=[1])
    assert undone.hunks[0].verdict is None


@pytest.mark.parametrize(
    ("numbers", "paths", "field", "message"),
    [
        ([5], [], "hunks", "5 is not a hunk of modification"),
        ([0], [], "hunks", "which has hunks 1 to 4"),
        ([], ["other.py"], "file", "'other.py' is not a file of modification"),
        ([], [], "hunks", "name at least one hunk or file"),
    ],
)
async def test_a_hunk_or_file_it_does_not_have_is_named(
    database: Database, numbers: list[int], paths: list[str], field: str, message: str
) -> None:
    ref = await proposed(database)
    with pytest.raises(ValidationError) as refused:
        await hunk_review.decide_hunks(
            database, ref, verdict=HunkVerdict.ACCEPTED, numbers=numbers, paths=paths
        )
    assert refused.value.field == field
    assert message in refused.value.message


async def test_only_a_rejection_carries_a_reason(database: Database) -> None:
    ref = await proposed(database)
    with pytest.raises(ValidationError, match="only a rejection carries a reason"):
        await hunk_review.decide_hunks(
            database, ref, verdict=HunkVerdict.ACCEPTED, numbers=[1], reason="fine"
        )


async def test_approving_in_part_applies_only_the_accepted_hunks(database: Database) -> None:
    ref = await proposed(database)
    await hunk_review.decide_hunks(
        database, ref, verdict=HunkVerdict.REJECTED, numbers=[2], reason="not this one"
    )

    approved = await hunk_review.approve_in_part(
        database, ref, numbers=[1, 4], comment="half of it", actor="rita"
    )

    assert approved.status == ModificationStatus.APPROVED
    assert approved.proposed_files == CHANGE
    assert approved.modified_files == {
        "app.py": APP.replace("line 2\n", "line two\n"),
        "new.md": "# New\n",
    }
    review = await hunk_review.modification_hunks(database, ref)
    assert review.in_part
    assert [item.verdict for item in review.hunks] == [
        HunkVerdict.ACCEPTED,
        HunkVerdict.REJECTED,
        HunkVerdict.REJECTED,
        HunkVerdict.ACCEPTED,
    ]
    # The reason given before the verdict stays; the rest are rejected without one.
    assert [item.decision.reason for item in review.hunks if item.decision] == [
        None,
        "not this one",
        None,
        None,
    ]
    [row] = await events(database, "modification.approved")
    assert row["in_part"] is True
    assert row["accepted"] == [1, 4]
    assert row["rejected"] == [2, 3]

    applied = await service.apply_modification(database, ref, actor="rita")

    assert applied.status == ModificationStatus.APPLIED
    codebase = (await projects.get_project(database, "billing")).codebase
    assert codebase == {
        "app.py": APP.replace("line 2\n", "line two\n"),
        "lib.py": "def f():\n    return 1\n",
        "new.md": "# New\n",
    }


async def test_a_file_left_out_of_a_partial_approval_may_move_before_the_apply(
    database: Database,
) -> None:
    ref = await proposed(database)
    await hunk_review.approve_in_part(database, ref, numbers=[1, 2, 4])
    # lib.py, whose only hunk was turned down, changes in the codebase: the
    # apply does not touch it, so it has nothing to conflict with.
    moved = {**CODEBASE, "lib.py": "def f():\n    return 0\n"}
    await projects.update_project(database, "billing", {"codebase": moved})

    applied = await service.apply_modification(database, ref)

    assert applied.status == ModificationStatus.APPLIED, applied.failure_reason
    codebase = (await projects.get_project(database, "billing")).codebase
    assert codebase == {**moved, "app.py": APP_CHANGED, "new.md": "# New\n"}


async def test_approving_the_hunks_accepted_in_the_review(database: Database) -> None:
    ref = await proposed(database)
    await hunk_review.decide_hunks(
        database, ref, verdict=HunkVerdict.ACCEPTED, paths=["lib.py"], actor="rita"
    )

    approved = await hunk_review.approve_in_part(database, ref, actor="rita")

    assert approved.modified_files == {"lib.py": "def f():\n    return 2\n"}


async def test_approving_every_hunk_is_a_whole_approval(database: Database) -> None:
    ref = await proposed(database)

    approved = await hunk_review.approve_in_part(database, ref, numbers=[1, 2, 3, 4])

    assert approved.proposed_files is None
    assert approved.modified_files == CHANGE


async def test_approving_no_hunk_is_refused(database: Database) -> None:
    ref = await proposed(database)
    with pytest.raises(ValidationError, match="no hunk is accepted"):
        await hunk_review.approve_in_part(database, ref)
    assert (await hunk_review.modification_hunks(database, ref)).modification.status == "pending"


async def test_a_codebase_that_moved_since_the_proposal_refuses_a_partial_approval(
    database: Database,
) -> None:
    ref = await proposed(database)
    await hunk_review.decide_hunks(database, ref, verdict=HunkVerdict.ACCEPTED, numbers=[1, 2])
    moved = APP.replace("line 15\n", "line fifteen\n")
    await projects.update_project(database, "billing", {"codebase": {**CODEBASE, "app.py": moved}})

    review = await hunk_review.modification_hunks(database, ref)
    # The diff changed under the second decision: a hunk (putting line 15
    # back) now stands before the one it was made on, so it no longer holds;
    # the first hunk is what it was, and so is its decision.
    assert [item.hunk.header for item in review.hunks[:3]] == [
        "@@ -1,5 +1,5 @@",
        "@@ -12,7 +12,7 @@",
        "@@ -25,6 +25,6 @@",
    ]
    assert [item.outdated for item in review.hunks[:3]] == [False, True, False]
    assert [item.verdict for item in review.hunks[:3]] == [HunkVerdict.ACCEPTED, None, None]
    with pytest.raises(
        ValidationError, match=r"app\.py changed in the codebase since the proposal"
    ):
        await hunk_review.approve_in_part(database, ref, numbers=[1])
    after = await hunk_review.modification_hunks(database, ref)
    assert after.modification.status == ModificationStatus.PENDING
    assert after.modification.proposed_files is None


async def test_hunks_are_decided_only_while_pending(database: Database) -> None:
    ref = await proposed(database)
    await service.reject_modification(database, ref, comment="no")
    with pytest.raises(InvalidTransition):
        await hunk_review.decide_hunks(database, ref, verdict=HunkVerdict.ACCEPTED, numbers=[1])
    with pytest.raises(InvalidTransition):
        await hunk_review.approve_in_part(database, ref, numbers=[1])


async def test_comments_name_their_line_and_feedback_gathers_everything(
    database: Database,
) -> None:
    ref = await proposed(database)
    await hunk_review.add_comment(
        database, ref, path="app.py", line=2, text="Spell numbers out everywhere", actor="rita"
    )
    await hunk_review.add_comment(
        database, ref, path="lib.py", line=2, text="Why 1?", side=CommentSide.OLD, actor="rita"
    )
    await hunk_review.decide_hunks(
        database, ref, verdict=HunkVerdict.REJECTED, numbers=[3], reason="keep 1", actor="rita"
    )
    await hunk_review.approve_in_part(database, ref, numbers=[1, 2, 4], actor="rita")

    given = (await hunk_review.feedback(database, ref)).as_dict()

    assert given["verdict"] == "approved in part"
    assert given["reviewed_by"] == "rita"
    assert [(h["number"], h["file"], h["decision"], h["reason"]) for h in given["hunks"]] == [
        (1, "app.py", "accepted", None),
        (2, "app.py", "accepted", None),
        (3, "lib.py", "rejected", "keep 1"),
        (4, "new.md", "accepted", None),
    ]
    assert [
        (c["file"], c["line"], c["side"], c["line_text"], c["text"]) for c in given["comments"]
    ] == [
        ("app.py", 2, "new", "line two", "Spell numbers out everywhere"),
        ("lib.py", 2, "old", "    return 1", "Why 1?"),
    ]
    assert len(await events(database, "modification.commented")) == 2


@pytest.mark.parametrize(
    ("path", "line", "side", "field", "message"),
    [
        ("app.py", 31, CommentSide.NEW, "line", "its proposed version has 30 lines"),
        ("app.py", 0, CommentSide.NEW, "line", "0 is not a line of 'app.py'"),
        ("new.md", 1, CommentSide.OLD, "line", "its version before has 0 lines"),
        ("gone.py", 1, CommentSide.NEW, "file", "'gone.py' is not a file of modification"),
    ],
)
async def test_a_comment_on_a_line_that_is_not_there_is_refused(
    database: Database, path: str, line: int, side: CommentSide, field: str, message: str
) -> None:
    ref = await proposed(database)
    with pytest.raises(ValidationError) as refused:
        await hunk_review.add_comment(database, ref, path=path, line=line, text="x", side=side)
    assert refused.value.field == field
    assert message in refused.value.message


async def test_a_linked_project_commits_only_the_accepted_hunks(
    database: Database, tmp_path: Path
) -> None:
    repository = make_repo(tmp_path / "repo", CODEBASE)
    await linked_billing(database, repository)
    ref = await propose(database)
    await hunk_review.approve_in_part(database, ref, numbers=[2, 3], actor="rita")

    applied = await service.apply_modification(database, ref, actor="rita")

    assert applied.status == ModificationStatus.APPLIED
    assert git(repository, "show", "--format=", "--name-only", "HEAD").split() == [
        "app.py",
        "lib.py",
    ]
    assert (repository / "app.py").read_text() == APP.replace("line 28\n", "line 28b\n")
    assert (repository / "lib.py").read_text() == "def f():\n    return 2\n"
    assert not (repository / "new.md").exists()


async def test_the_agent_hears_the_verdict_in_its_conversation(database: Database) -> None:
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(name="billing", type="api", owner_id="alice", codebase=CODEBASE),
    )
    chat = await agents.start_conversation(database, "billing", title="Tidy up")
    run = await agents.start_run(
        database, "billing", agent="agent-7", task="Tidy", conversation_ref=str(chat.id)
    )
    created = await service.propose_modification(
        database,
        "billing",
        service.ModificationProposal(request="Tidy", modified_files=dict(CHANGE)),
        run_ref=str(run.id),
        actor="agent-7",
    )
    ref = str(created.id)
    await hunk_review.decide_hunks(
        database, ref, verdict=HunkVerdict.REJECTED, numbers=[3], reason="keep 1"
    )
    await hunk_review.approve_in_part(database, ref, numbers=[1, 2, 4], actor="rita")

    [message] = (await agents.list_messages(database, str(chat.id))).items
    assert message.role == "user"
    assert message.intent == "review"
    assert message.content.startswith(
        f"Review of modification {ref} (Tidy): approved in part by rita.\nHunks:\n"
    )
    assert "- #3 lib.py @@ -1,2 +1,2 @@: rejected: keep 1" in message.content
    [row] = await events(database, "modification.approved")
    assert row["feedback_to_conversation"] == str(chat.id)

    # A modification without a run, or whose conversation is closed, tells no one.
    other = await propose(database)
    await service.reject_modification(database, other, comment="no")
    assert (await agents.get_conversation(database, str(chat.id))).messages == 1


async def revise(database: Database, ref: str, files: dict[str, str | None] | None = None) -> str:
    created = await service.propose_modification(
        database,
        "billing",
        service.ModificationProposal(request="Tidy, again", modified_files=files or dict(CHANGE)),
        revises=ref,
        actor="agent-7",
    )
    return str(created.id)


async def test_a_rejected_or_partly_approved_modification_is_revised(database: Database) -> None:
    first = await proposed(database)
    await service.reject_modification(database, first, comment="split it")

    second = await revise(database, first)

    review = await hunk_review.modification_hunks(database, second)
    assert (review.modification.revision, str(review.modification.revises_id)) == (2, first)
    row = (await events(database, "modification.proposed"))[0]  # newest first
    assert (row["revises"], row["revision"]) == (first, 2)
    await hunk_review.approve_in_part(database, second, numbers=[1])
    third = await revise(database, second)
    assert (await hunk_review.modification_hunks(database, third)).modification.revision == 3


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("pending", "is pending; only a rejected or partly approved modification is revised"),
        ("approved", "is approved; only a rejected or partly approved modification is revised"),
        ("revised", "is already revised by"),
    ],
)
async def test_what_cannot_be_revised_is_named(
    database: Database, setup: str, message: str
) -> None:
    first = await proposed(database)
    if setup == "approved":
        await service.approve_modification(database, first)
    if setup == "revised":
        await service.reject_modification(database, first, comment="no")
        await revise(database, first)
    with pytest.raises(ValidationError) as refused:
        await revise(database, first)
    assert refused.value.field == "revises"
    assert message in refused.value.message


async def test_a_revision_of_another_projects_modification_is_refused(
    database: Database,
) -> None:
    first = await proposed(database)
    await service.reject_modification(database, first, comment="no")
    await projects.create_project_with_settings(
        database,
        projects.ProjectCreate(name="other", type="api", owner_id="alice", codebase=CODEBASE),
    )
    with pytest.raises(ValidationError, match="is a modification of another project"):
        await service.propose_modification(
            database,
            "other",
            service.ModificationProposal(request="Tidy", modified_files=dict(CHANGE)),
            revises=first,
        )
    with pytest.raises(ValidationError) as refused:
        await revise(database, "zz")
    assert refused.value.field == "revises"


async def test_since_the_last_review_shows_what_the_revision_changed(database: Database) -> None:
    first = await proposed(database)
    await hunk_review.add_comment(database, first, path="app.py", line=2, text="ok")
    await hunk_review.add_comment(database, first, path="app.py", line=28, text="why b?")
    await hunk_review.add_comment(database, first, path="lib.py", line=2, text="1 or 2?")
    await service.reject_modification(database, first, comment="redo")
    # The revision keeps hunk 1, drops the change at line 28, adds a line
    # before line 2, and leaves lib.py alone; new.md is as before.
    moved = "line 1\nline one and a half\n" + APP_CHANGED.split("\n", 1)[1]
    second = await revise(
        database,
        first,
        {"app.py": moved.replace("line 28b\n", "line 28\n"), "new.md": "# New\n"},
    )

    since = await hunk_review.since_last_review(database, second)

    assert since is not None
    assert str(since.earlier.id) == first
    assert {change.path: (change.added, change.removed) for change in since.files} == {
        "app.py": (2, 1),
        "lib.py": (1, 1),
    }
    lib = next(change for change in since.files if change.path == "lib.py")
    assert (lib.before, lib.after) == ("def f():\n    return 2\n", "def f():\n    return 1\n")
    carried = {(note.comment.path, note.comment.body): note.line for note in since.comments}
    # "line two" moved down one line; "line 28b" is gone; lib.py's line 2 now
    # reads "return 1", not "return 2" as commented.
    assert carried == {("app.py", "ok"): 3, ("app.py", "why b?"): None, ("lib.py", "1 or 2?"): None}
    assert await hunk_review.since_last_review(database, first) is None


async def test_hunks_decided_as_seen_hold_only_while_they_are_what_was_seen(
    database: Database,
) -> None:
    ref = await proposed(database)
    seen = (await hunk_review.modification_hunks(database, ref)).hunks

    assert (
        await hunk_review.decide_seen_hunks(
            database, ref, seen[:2], verdict=HunkVerdict.ACCEPTED, actor="rita"
        )
        == 2
    )

    review = await hunk_review.modification_hunks(database, ref)
    assert [item.verdict for item in review.hunks] == [HunkVerdict.ACCEPTED] * 2 + [None] * 2
    # The codebase moves under the second hunk: what was seen of it is gone.
    moved = APP.replace("line 27\n", "line twenty-seven\n")
    await projects.update_project(database, "billing", {"codebase": {**CODEBASE, "app.py": moved}})
    review = await hunk_review.modification_hunks(database, ref)
    assert [item.outdated for item in review.hunks[:2]] == [False, True]
    with pytest.raises(InvalidTransition):
        await service.reject_modification(database, ref, comment="no")
        await hunk_review.decide_seen_hunks(database, ref, seen[:1], verdict=None)


async def test_a_reopened_partial_approval_is_reviewed_against_what_the_agent_proposed(
    database: Database,
) -> None:
    ref = await proposed(database)
    await hunk_review.approve_in_part(database, ref, numbers=[3])
    # lib.py moves in the codebase: the apply fails, and reopening it puts it back.
    await projects.update_project(
        database, "billing", {"codebase": {**CODEBASE, "lib.py": "def f():\n    return 0\n"}}
    )
    assert (await service.apply_modification(database, ref)).status == ModificationStatus.FAILED
    await service.reopen_modification(database, ref)

    review = await hunk_review.modification_hunks(database, ref)
    assert len(review.hunks) == 4  # the agent's hunks, not the part taken before
    approved = await hunk_review.approve_in_part(database, ref, numbers=[1, 2, 3, 4])

    assert approved.proposed_files is None
    assert approved.modified_files == CHANGE


async def test_the_agents_file_modes_come_back_with_the_whole_change(
    database: Database, tmp_path: Path
) -> None:
    repository = make_repo(tmp_path / "repo", CODEBASE)
    await linked_billing(database, repository)
    created = await service.propose_modification(
        database,
        "billing",
        service.ModificationProposal(
            request="Tidy", modified_files=dict(CHANGE), file_modes={"new.md": 0o100755}
        ),
        actor="agent-7",
    )
    ref = str(created.id)
    # Taken in part without the executable file, which is then not written...
    await hunk_review.approve_in_part(database, ref, numbers=[3])
    git(repository, "commit", "-q", "--allow-empty", "-m", "elsewhere")
    (repository / "lib.py").write_text("def f():\n    return 0\n")
    git(repository, "commit", "-q", "-am", "lib.py moves")
    failed = await service.apply_modification(database, ref)
    assert failed.status == ModificationStatus.FAILED
    assert "new.md" not in git(repository, "ls-tree", "--name-only", "main")
    # ... and after a reopen the whole change is approved: its mode is back.
    await service.reopen_modification(database, ref)
    whole = await hunk_review.approve_in_part(database, ref, numbers=[1, 2, 3, 4])
    assert whole.file_modes == {"new.md": 0o100755}
