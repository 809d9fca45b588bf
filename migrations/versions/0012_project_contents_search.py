"""projects found by what they contain: an index of dependency names and stack words

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

``project list --dependency NAME`` and ``--stack NAME`` (and ``dep:`` and
``stack:`` in the Projects screen's filter) find projects by a dependency's
name, in any case, without its version: ``fastapi>=0.110`` is found as
``fastapi``. The GIN index on ``projects.dependencies`` (revision 0001,
``jsonb_ops``) answers only whole entries in their exact case, so:

- PostgreSQL: an immutable function gives a dependencies list's names
  (``projdeck_dependency_names``, in lower case) and a GIN index on
  it answers ``projdeck_dependency_names(dependencies) @> ARRAY[name]``.
  The stack's recorded words are found through the GIN index on ``state``
  (revision 0001) with ``state @> {"tech_stack": [word]}``.
- SQLite, which cannot index the items of a JSON list: a table of
  ``(kind, term, status, project_id)`` rows, one per dependency name and per
  word of ``state.tech_stack``, filled from the projects here and kept in
  step by triggers on insert, on update of ``status``, ``dependencies`` or
  ``state``, and on delete. The project's status is copied so that the
  matches of a list (which always asks for some statuses) are counted from
  this table alone: 3 ms for 30,000 matches at 100,000 projects, where
  looking each one up in ``projects`` took 75 ms.

A dependency's name is the entry, spaces around it dropped, up to its first
white space, ``<``, ``>``, ``=``, ``!``, ``~``, ``^``, ``;``, ``[``, ``(``,
``,`` or ``@`` after the first character, with ASCII letters in lower case
(``store.project_search.dependency_name`` is the same rule in Python; a test
holds the three equal). The SQL is written out here, not taken from the
store, so that this revision builds the same schema whenever it runs.

A later revision that rebuilds ``projects`` on SQLite (Alembic's batch
mode copies it into a new table) drops these triggers with the old table
and must create them again.
"""

# The statements are put together from this module's own constants, never
# from input.
# ruff: noqa: S608

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "projdeck_dependency_names"
INDEX = "gin_projects_dependency_names"
TABLE = "project_search_terms"
TRIGGERS = ("insert", "update", "delete")

_POSTGRES_FUNCTION = f"""
CREATE FUNCTION {FUNCTION}(dependencies jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT ARRAY(
        SELECT name FROM (
            SELECT translate(
                substring(btrim(entry #>> '{{}}', ' ') FROM '^@?[^\\t\\n\\r <>=!~^;\\[(,@]*'),
                'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                'abcdefghijklmnopqrstuvwxyz'
            ) AS name
            FROM jsonb_array_elements(
                CASE WHEN jsonb_typeof(dependencies) = 'array' THEN dependencies ELSE '[]' END
            ) AS entry
            WHERE jsonb_typeof(entry) = 'string'
        ) AS names
        WHERE name <> ''
    )
$$
"""

# SQLite: where the name in ``v`` (an entry, spaces around it dropped) ends.
_ENDS = ["char(9)", "char(10)", "char(13)", "' '", *(f"'{c}'" for c in "<>=!~^;[(,")]
_CUT = ", ".join(
    [
        *(f"coalesce(nullif(instr(v, {end}), 0), length(v) + 1)" for end in _ENDS),
        "coalesce(nullif(instr(substr(v, 2), '@'), 0) + 1, length(v) + 1)",
    ]
)
_NAME = f"lower(substr(v, 1, min({_CUT}) - 1))"


def _json(value: str, kind: str) -> str:
    """``value`` if it holds valid JSON of ``kind`` (at the stack's path for
    ``state``), else NULL: ``json_each`` of NULL has no rows, where invalid
    JSON would fail the write."""
    path = ", '$.tech_stack'" if kind == "stack" else ""
    return (
        f"CASE WHEN json_valid({value}) THEN "
        f"CASE WHEN json_type({value}{path}) = 'array' THEN {value} END END"
    )


def _insert_terms(row: str, source: str = "") -> list[str]:
    """The statements adding the terms of ``row`` (``new`` in a trigger, or
    ``projects`` read ``FROM projects`` given as ``source``)."""
    dependencies = _json(f"{row}.dependencies", "dependency")
    state = _json(f"{row}.state", "stack")
    return [
        f"INSERT OR IGNORE INTO {TABLE} (kind, term, status, project_id) "
        f"SELECT 'dependency', name, status, id FROM ("
        f"SELECT {_NAME} AS name, status, id FROM ("
        f"SELECT trim(entry.value, ' ') AS v, {row}.status AS status, {row}.id AS id "
        f"FROM {source}json_each({dependencies}) AS entry WHERE entry.type = 'text')) "
        "WHERE name <> ''",
        f"INSERT OR IGNORE INTO {TABLE} (kind, term, status, project_id) "
        f"SELECT 'stack', word.value, {row}.status, {row}.id "
        f"FROM {source}json_each({state}, '$.tech_stack') AS word "
        "WHERE word.type = 'text' AND word.value <> ''",
    ]


def _trigger_body(*statements: str) -> str:
    return "BEGIN " + "".join(f"{statement}; " for statement in statements) + "END"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_POSTGRES_FUNCTION)
        op.execute(f"CREATE INDEX {INDEX} ON projects USING gin ({FUNCTION}(dependencies))")
        return
    op.execute(
        f"CREATE TABLE {TABLE} (kind VARCHAR(10) NOT NULL, term TEXT NOT NULL, "
        "status VARCHAR(20) NOT NULL, project_id CHAR(32) NOT NULL, "
        "PRIMARY KEY (kind, term, status, project_id)) WITHOUT ROWID"
    )
    op.execute(f"CREATE INDEX ix_{TABLE}_project_id ON {TABLE} (project_id)")
    for statement in _insert_terms("projects", "projects, "):
        op.execute(statement)
    forget = f"DELETE FROM {TABLE} WHERE project_id = old.id"
    op.execute(
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON projects "
        + _trigger_body(*_insert_terms("new"))
    )
    op.execute(
        f"CREATE TRIGGER {TABLE}_update "
        "AFTER UPDATE OF id, status, dependencies, state ON projects "
        + _trigger_body(forget, *_insert_terms("new"))
    )
    op.execute(f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON projects " + _trigger_body(forget))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
        op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}(jsonb)")
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{trigger}")
    op.execute(f"DROP TABLE IF EXISTS {TABLE}")
