"""Environment files as ``secret import`` reads them and ``secret export
--dotenv`` writes them: python-dotenv reads back every value written, and a
file is refused naming the line of what cannot be imported."""

from __future__ import annotations

import io

import pytest
from dotenv import dotenv_values
from hypothesis import given
from hypothesis import strategies as st

from store import dotenv
from store.errors import ValidationError
from store.services import secrets

AWKWARD = {
    "NEWLINES": "first\nsecond\r\nthird\rfourth\n",
    "QUOTES": "double \" single ' back ` both \"'",
    "HASH": "# not a comment #",
    "DOLLARS": "$HOME ${HOME} $ ${UNSET:-default}",
    "BACKSLASHES": "C:\\new\\table \\n is not a newline \\",
    "UNICODE": "héllo ✓ 日本語 😀 \u202e reversed",
    "SPACES": "  kept on both sides  ",
    "CONTROLS": "\t\x1b[31m\x00\v\f\a\b",
    "EQUALS": "a=b=c",
}


def _read_back(text: str) -> dict[str, str | None]:
    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


def test_written_lines_read_back_the_same_values_with_python_dotenv() -> None:
    text = "".join(dotenv.line(name, value) + "\n" for name, value in AWKWARD.items())
    assert _read_back(text) == AWKWARD
    assert {entry.name: entry.value.reveal() for entry in dotenv.parse(text)} == AWKWARD


@given(st.text(min_size=1))
def test_any_text_survives_the_round_trip(value: str) -> None:
    assert _read_back(dotenv.line("VALUE", value)) == {"VALUE": value}


def test_files_as_people_write_them_are_read_as_python_dotenv_reads_them() -> None:
    text = (
        "\ufeff# the project's keys\n"
        "\n"
        "export API_TOKEN=abc123   # trailing comment\n"
        "DB_URL='postgres://u:p@h/db'\n"
        'MULTI="one\n'
        'two"\n'
        "EMPTY_LOOKING=' '\n"
    )
    entries = dotenv.parse(text)
    assert [(entry.name, entry.label) for entry in entries] == [
        ("API_TOKEN", "line 3"),
        ("DB_URL", "line 4"),
        ("MULTI", "line 5"),
        ("EMPTY_LOOKING", "line 7"),
    ]
    assert {entry.name: entry.value.reveal() for entry in entries} == _read_back(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A=1\n\nB\n", "line 3: B has no value (no '='); write B=value"),
        ("A=1\r\n# c\r\nA=2\r\n", "line 3: A is given twice (first on line 1)"),
        ('A=1\nB="not closed\n', "line 2: is not NAME=value (quotes not closed, or no name)"),
        ("# only a comment\n\n", "dotenv: holds no NAME=value lines"),
        ("", "dotenv: holds no NAME=value lines"),
    ],
)
def test_unreadable_files_are_refused_naming_the_line(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        dotenv.parse(text)
    assert refused.value.message == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GOOD=1\nlower=2\n", "line 2: key name: 'lower' is not an environment-variable name"),
        ("GOOD=1\nEMPTY=\n", "line 2: value: must not be empty"),
        ("'WITH SPACE'=x\n", "line 1: key name: 'WITH SPACE' is not"),
        ("A" * 101 + "=x\n", "line 1: key name: is 101 characters long"),
    ],
)
def test_names_and_values_are_checked_as_secret_set_checks_them(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        secrets.secrets_from_dotenv(text)
    assert refused.value.message.startswith(message)


def test_messages_never_quote_a_value() -> None:
    canary = "canary-" + "x" * 70_000
    with pytest.raises(ValidationError) as refused:
        secrets.secrets_from_dotenv(f"BIG={canary}\n")
    assert "canary" not in refused.value.message
    assert refused.value.message.startswith("line 1: value: is 70007 bytes")


def test_a_file_of_more_names_than_one_import_takes_is_refused() -> None:
    text = "".join(f"K{number}=v\n" for number in range(secrets.MAX_IMPORT + 1))
    with pytest.raises(ValidationError, match="more than 1,000 names; split the file"):
        secrets.secrets_from_dotenv(text)
