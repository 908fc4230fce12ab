"""The one switch between DuckDB and BigQuery (publishing/target.py), and the target-neutral
declaration of a Python table (publishing/staged_append.py); the BigQuery side runs for real
in tests/test_bigquery_emulator.py."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa
import pytest

from mesh_platform.publishing import target as targets
from mesh_platform.publishing.bigquery_append import bigquery_type
from mesh_platform.publishing.staged_append import staged_append

ROWS = pa.table(
    {"day": [dt.date(2024, 1, 1), dt.date(2024, 1, 1)], "id": ["a", "b"], "score": [1.5, None]},
    schema=pa.schema(
        [pa.field("day", pa.date32(), nullable=False), pa.field("id", pa.string()), pa.field("score", pa.float64())]
    ),
)


@pytest.mark.parametrize(
    "value, expected", [("prod", targets.BigQueryTarget), ("dev", targets.DuckDBTarget), (None, targets.DuckDBTarget)]
)
def test_mesh_target_picks_the_storage(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("MESH_TARGET", raising=False)
    else:
        monkeypatch.setenv("MESH_TARGET", value)
    assert type(targets.current()) is expected


def test_a_bigquery_target_reports_a_producer_unpublished_by_its_view(monkeypatch):
    """The input-port check asks for the producer's published view, not a file."""
    from google.api_core.exceptions import NotFound

    from mesh_platform.mesh.address import PortAddress

    monkeypatch.setenv("MESH_BQ_PROJECT", "p")
    asked = []

    class Client:
        def get_table(self, table_id):
            asked.append(table_id)
            raise NotFound(table_id)

    target = targets.BigQueryTarget(_client=Client())
    address = PortAddress.parse("shop.orders.orders")
    assert target.is_published(address) is False
    assert asked == ["p.shop_published.orders"] and target.location(address) == "p.shop_published.orders"


def test_the_table_is_declared_by_the_rows(tmp_path):
    database = tmp_path / "w.duckdb"
    assert (
        staged_append(
            database, ROWS, schema="s", table="t", run_id="r1", primary_key=["day", "id"], replace_on=["day"]
        ).rows
        == 2
    )
    with duckdb.connect(str(database)) as con:
        columns = con.execute(
            "select column_name, data_type, is_nullable from information_schema.columns "
            "where table_name = 't' order by ordinal_position"
        ).fetchall()
        assert columns == [
            ("day", "DATE", "NO"),
            ("id", "VARCHAR", "NO"),
            ("score", "DOUBLE", "YES"),
            ("loaded_at", "TIMESTAMP", "NO"),
            ("run_id", "VARCHAR", "NO"),
        ]
        assert con.execute(
            "select constraint_column_names from duckdb_constraints() "
            "where table_name = 't' and constraint_type = 'PRIMARY KEY'"
        ).fetchall() == [(["day", "id"],)]
    # the same day again replaces that day's rows; another day is kept beside them
    staged_append(database, ROWS, schema="s", table="t", run_id="r2", primary_key=["day", "id"], replace_on=["day"])
    later = ROWS.set_column(0, ROWS.schema.field(0), pa.array([dt.date(2024, 1, 2)] * 2, pa.date32()))
    staged_append(database, later, schema="s", table="t", run_id="r3", primary_key=["day", "id"], replace_on=["day"])
    with duckdb.connect(str(database)) as con:
        assert con.execute("select day, run_id, count(*) from s.t group by all order by 1").fetchall() == [
            (dt.date(2024, 1, 1), "r2", 2),
            (dt.date(2024, 1, 2), "r3", 2),
        ]
        assert con.execute("select count(*) from duckdb_tables() where table_name like '%staging%'").fetchall() == [
            (0,)
        ]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"primary_key": ["day", "nope"]}, "primary_key names columns the rows do not have: nope"),
        ({"replace_on": ["when"]}, "replace_on names columns the rows do not have: when"),
    ],
    ids=["primary key", "replace_on"],
)
def test_a_declaration_naming_unknown_columns_is_refused(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        staged_append(tmp_path / "w.duckdb", ROWS, schema="s", table="t", run_id="r", label="d.p.t", **kwargs)
    assert not (tmp_path / "w.duckdb").exists()


def test_rows_may_not_bring_the_platforms_stamps(tmp_path):
    rows = ROWS.append_column("run_id", pa.array(["x", "y"]))
    with pytest.raises(ValueError, match="run_id is written by the platform"):
        staged_append(tmp_path / "w.duckdb", rows, schema="s", table="t", run_id="r")


@pytest.mark.parametrize(
    "arrow_type, expected",
    [
        (pa.int32(), "INT64"),
        (pa.float32(), "FLOAT64"),
        (pa.bool_(), "BOOL"),
        (pa.string(), "STRING"),
        (pa.date32(), "DATE"),
        (pa.timestamp("us"), "DATETIME"),
        (pa.timestamp("us", tz="UTC"), "TIMESTAMP"),
        (pa.decimal128(10, 2), "NUMERIC"),
        (pa.decimal256(60, 20), "BIGNUMERIC"),
        (pa.binary(), "BYTES"),
    ],
)
def test_bigquery_column_types_follow_the_rows(arrow_type, expected):
    assert bigquery_type(arrow_type) == expected


def test_a_column_bigquery_cannot_hold_is_refused():
    with pytest.raises(TypeError, match="no BigQuery column type"):
        bigquery_type(pa.list_(pa.int64()))
