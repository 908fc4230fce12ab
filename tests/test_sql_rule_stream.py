"""A sql rule that names the checked relation once reads the stream of its rows (no copy); one
that reads it twice gets a copy, and so does a rule DuckDB scans twice despite one name. The
streaming sandbox is as closed as the copying one."""

from __future__ import annotations

import duckdb
import pytest
from test_sql_rule_sandbox import file_table  # noqa: F401 - the fixture

from mesh_platform.contracts import sql_sandbox
from mesh_platform.contracts.sql_sandbox import Sandbox, SqlRuleError, reads_once, run_rule


@pytest.fixture
def sandboxes(monkeypatch) -> list[bool]:
    """Whether each sandbox opened streamed (True) or copied (False)."""
    opened = []
    original = Sandbox.__init__

    def spy(self, table, columns=None, *, stream=False):
        opened.append(stream)
        original(self, table, columns, stream=stream)

    monkeypatch.setattr(Sandbox, "__init__", spy)
    return opened


def test_a_rule_naming_the_relation_once_streams(file_table, sandboxes):  # noqa: F811
    assert run_rule(file_table, 'SELECT count(*) FROM mesh_checked AS "t" WHERE v > 100', columns={"v"}) == [(19,)]
    # a CTE named twice is materialised by DuckDB: one scan of the stream still serves it
    query = "WITH c AS (SELECT v FROM mesh_checked) SELECT count(*) FROM c a JOIN c b ON a.v = b.v"
    assert run_rule(file_table, query, columns={"v"}) == [(30,)]
    assert sandboxes == [True, True]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT count(*) FROM mesh_checked a JOIN mesh_checked b ON a.v = b.v + 10", 29),
        ("SELECT count(*) FROM mesh_checked WHERE v > (SELECT avg(v) FROM mesh_checked)", 15),
        ("SELECT count(*) FROM (SELECT v FROM mesh_checked UNION ALL SELECT v FROM mesh_checked)", 60),
    ],
)
def test_a_rule_reading_the_relation_twice_reads_a_copy(file_table, sandboxes, query, expected):  # noqa: F811
    assert not reads_once(query)
    assert run_rule(file_table, query, columns={"v"}) == [(expected,)]
    assert sandboxes == [False]


def test_a_second_scan_of_the_stream_falls_back_to_the_copy(file_table, sandboxes, monkeypatch):  # noqa: F811
    """Should DuckDB scan the stream twice where the query names it once, it says so (a stream
    is read once) and the rule runs again on a copy: never a count over a half-read stream."""
    monkeypatch.setattr(sql_sandbox, "reads_once", lambda query: True)
    query = "SELECT count(*) FROM mesh_checked a JOIN mesh_checked b ON a.v = b.v + 10"
    assert run_rule(file_table, query, columns={"v"}) == [(29,)]
    assert sandboxes == [True, False]


def test_the_streaming_sandbox_holds_no_table_and_no_path(file_table):  # noqa: F811
    with Sandbox(file_table, {"v"}, stream=True) as sandbox:
        con = sandbox.con
        ((paths, tables, views),) = con.execute(
            "SELECT current_setting('allowed_paths'), (SELECT count(*) FROM duckdb_tables()), "
            "(SELECT list(view_name) FROM duckdb_views() WHERE NOT internal)"
        ).fetchall()
        assert paths == [] and tables == 0 and views == ["mesh_checked"]
        for query in ("SET enable_external_access = true", "SET python_enable_replacements = true"):
            with pytest.raises(duckdb.Error):
                con.execute(query)
        assert con.execute("SELECT count(*), max(v) FROM mesh_checked").fetchall() == [(30, 290)]


def test_a_streamed_rule_is_still_stopped_by_the_time_limit(file_table):  # noqa: F811
    query = "SELECT count(*) FROM mesh_checked, range(3000000000) r WHERE r.range % 7 = hash(r.range) % 5"
    assert reads_once(query)
    with pytest.raises(SqlRuleError, match="longer than 0.5 s"):
        run_rule(file_table, query, timeout=0.5, columns={"v"})
