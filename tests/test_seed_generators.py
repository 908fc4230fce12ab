"""Every domain's landing-data generator (domains/*/seed.py) keeps the same contract:
`generate(landing_dir, scale, seed) -> {table: rows}`, deterministic, scalable, atomic files.
Plus the brokerage generator's own promises (valid LEIs, referential integrity)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from mesh_platform.cli.workspace import load_module

ROOT = Path(__file__).resolve().parent.parent
GENERATORS = sorted(ROOT.glob("domains/*/seed.py"))
SMALL = 0.002


@pytest.fixture(params=GENERATORS, ids=[p.parent.name for p in GENERATORS])
def generator(request):
    return load_module(request.param, f"seed_under_test_{request.param.parent.name}")


def _tables(landing: Path) -> dict[str, object]:
    return {p.stem: pq.read_table(p) for p in sorted(landing.glob("*.parquet"))}


def test_contract_deterministic_and_atomic(generator, tmp_path):
    counts = generator.generate(tmp_path / "a" / "landing", scale=SMALL, seed=7)
    assert counts and all(isinstance(n, int) and n > 0 for n in counts.values())
    first = _tables(tmp_path / "a" / "landing")
    assert {name: t.num_rows for name, t in first.items()} == counts
    assert not list((tmp_path / "a" / "landing").glob("*.tmp"))
    assert generator.generate(tmp_path / "b", scale=SMALL, seed=7) == counts
    again = _tables(tmp_path / "b")
    for name in counts:
        assert again[name].equals(first[name]), name
    generator.generate(tmp_path / "c", scale=SMALL, seed=8)
    other = _tables(tmp_path / "c")
    assert any(not other[name].equals(first[name]) for name in counts)


def test_scales(generator, tmp_path):
    small = generator.generate(tmp_path / "s", scale=0.005, seed=1)
    large = generator.generate(tmp_path / "l", scale=0.05, seed=1)
    assert sum(large.values()) > 3 * sum(small.values())
    with pytest.raises(ValueError):
        generator.generate(tmp_path / "z", scale=0, seed=1)


# --------------------------------------------------------------------------------------
# brokerage
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def brokerage(tmp_path_factory):
    module = load_module(ROOT / "domains/brokerage/seed.py", "brokerage_seed_under_test")
    landing = tmp_path_factory.mktemp("brokerage")
    counts = module.generate(landing, scale=0.01, seed=42)
    return module, landing, counts


def test_brokerage_sizes(brokerage):
    _, _, counts = brokerage
    assert counts == {"legal_entities": 200, "properties": 100, "lease_contracts": 1000}


def test_leis_are_valid_iso_17442(brokerage):
    module, landing, _ = brokerage
    leis = pq.read_table(landing / "legal_entities.parquet")["lei"].to_pylist()
    assert len(set(leis)) == len(leis)
    assert all(module.is_valid_lei(lei) for lei in leis)
    assert leis[0][4:6] == "00"  # ISO 17442: characters 5-6 are reserved '00'
    # The check digits catch a single changed character.
    broken = leis[0][:10] + ("A" if leis[0][10] != "A" else "B") + leis[0][11:]
    assert not module.is_valid_lei(broken)
    assert module.is_valid_lei("5493001KJTIIGC8Y1R12")  # a real LEI (Bloomberg Finance L.P.)


def test_brokerage_referential_integrity(brokerage):
    _, landing, _ = brokerage
    q = lambda sql: duckdb.sql(sql.replace("$", str(landing) + "/")).fetchall()[0][0]  # noqa: E731
    assert (
        q(
            "select count(*) from '$lease_contracts.parquet' l anti join '$legal_entities.parquet' e "
            "on l.tenant_lei = e.lei"
        )
        == 0
    )
    assert (
        q("select count(*) from '$lease_contracts.parquet' l anti join '$properties.parquet' p using (property_id)")
        == 0
    )
    assert (
        q(
            "select count(*) from '$legal_entities.parquet' c anti join '$legal_entities.parquet' p "
            "on c.parent_lei = p.lei where c.parent_lei is not null"
        )
        == 0
    )
    assert q("select count(*) from '$legal_entities.parquet' where parent_lei = lei") == 0
    assert q("select count(*) from '$legal_entities.parquet' where parent_lei is not null") > 0
    # Leases start on the first and end on the last day of a month, after they start.
    assert (
        q(
            "select count(*) from '$lease_contracts.parquet' where day(start_date) <> 1 "
            "or end_date <> last_day(end_date) or end_date <= start_date"
        )
        == 0
    )
    assert q("select count(*) from '$lease_contracts.parquet' where monthly_rent <= 0") == 0
    assert q("select count(distinct currency) from '$lease_contracts.parquet'") >= 3
    today = dt.date.today()
    active = q(
        f"select count(*) from '$lease_contracts.parquet' where start_date <= '{today}' and end_date >= '{today}'"
    )
    assert active > 50  # enough current tenants to rate
