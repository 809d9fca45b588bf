"""PostgreSQL URLs as people write them: libpq's parameters (sslmode,
application_name, options...) taken and passed on as asyncpg takes them,
anything else refused naming the parameter, never a traceback."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from store import pg_params
from store.config import normalize_url
from store.errors import ValidationError
from tests.cli import Projdeck
from tests.store_support import opened

SERVER = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sslmode=bogus", "sslmode 'bogus' is not one of disable, allow, prefer, require"),
        ("foo=1", "the parameter 'foo' is not one projdeck can pass to PostgreSQL"),
        ("sslmode=require&sslmode=disable", "the parameter 'sslmode' is given more than once"),
        ("options=--geqo%3Doff", "options: '--geqo=off' is not -c name=value"),
        ("options=-c%20nothing", "options: 'nothing' is not name=value"),
        ("connect_timeout=soon", "connect_timeout 'soon' is not a number of seconds"),
        ("connect_timeout=-1", "connect_timeout '-1' is not a number of seconds"),
        ("sslrootcert=/nonexistent/ca.pem&sslmode=verify-full", "the SSL files cannot be used"),
        ("sslmode=disable&sslcert=/x.pem", "sslmode=disable with certificates"),
    ],
)
def test_a_parameter_that_cannot_be_used_is_named(query: str, message: str) -> None:
    with pytest.raises(ValidationError) as refused:
        normalize_url(f"{SERVER}?{query}")
    assert refused.value.field == "database URL"
    assert message in refused.value.message


def test_libpq_parameters_become_asyncpgs_arguments() -> None:
    url = make_url(
        f"{SERVER}?sslmode=require&connect_timeout=7&application_name=deck"
        "&options=-c%20work_mem%3D5MB%20-cgeqo%3Doff"
    )
    assert pg_params.connect_args(url) == {
        "ssl": "require",
        "timeout": 7.0,
        "server_settings": {"application_name": "deck", "work_mem": "5MB", "geqo": "off"},
    }
    assert pg_params.connect_args(make_url(SERVER)) == {}


def test_the_cli_names_a_parameter_it_cannot_use() -> None:
    error = Projdeck(f"{SERVER}?sslmode=require&target_session_attrs=any").fails("project", "list")
    assert error.startswith("error: database URL: the parameter 'target_session_attrs'")


@pytest.mark.postgres
async def test_the_server_receives_what_the_url_asks(migrated_postgres_url: URL | None) -> None:
    if migrated_postgres_url is None:
        pytest.skip("PostgreSQL tests need PROJDECK_TEST_POSTGRES_URL")
    url = migrated_postgres_url.update_query_dict(
        {
            "sslmode": "disable",
            "application_name": "projdeck-url-test",
            "options": "-c work_mem=5MB",
        }
    )
    async with opened(url) as db, db.reading() as session:
        result = await session.execute(
            text(
                "SELECT current_setting('application_name'), current_setting('work_mem'), "
                "current_setting('statement_timeout')"
            )
        )
        # projdeck's own statement limit is kept beside what the URL asks.
        assert tuple(result.one()) == ("projdeck-url-test", "5MB", "30s")
