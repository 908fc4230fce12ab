"""Tests for the checkout domain's deterministic landing-data generator (domains/checkout/seed.py)."""

from __future__ import annotations

import datetime as dt
import pathlib
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from sample_days import YESTERDAY

from mesh_platform.importing import import_file

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEED_PY = ROOT / "domains" / "checkout" / "seed.py"
TABLES = ("web_sales", "items", "customer_consents")
SCALE = 0.01
N_CUSTOMERS = max(50, int(100_000 * SCALE))


seed_mod = import_file(SEED_PY, "checkout_seed")  # `domains` is not a package


def _read(landing: pathlib.Path) -> dict[str, pa.Table]:
    return {name: pq.read_table(landing / f"{name}.parquet") for name in TABLES}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> tuple[pathlib.Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("ck") / "landing" / "checkout"  # does not exist yet
    counts = seed_mod.generate(out, scale=SCALE, seed=42)
    return out, counts


@pytest.fixture(scope="module")
def tables(landing) -> dict[str, pa.Table]:
    return _read(landing[0])


# --------------------------------------------------------------------------------------
# Files, determinism, sizes
# --------------------------------------------------------------------------------------
def test_writes_all_files_atomically_and_returns_counts(landing, tables):
    out, counts = landing
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    assert not list(out.glob("*.tmp"))
    assert counts == {name: tables[name].num_rows for name in TABLES}


def test_same_seed_is_deterministic(landing, tables, tmp_path):
    counts = seed_mod.generate(tmp_path, scale=SCALE, seed=42)
    assert counts == landing[1]
    again = _read(tmp_path)
    for name in TABLES:
        assert again[name].equals(tables[name]), name


def test_different_seed_differs(tables, tmp_path):
    seed_mod.generate(tmp_path, scale=SCALE, seed=43)
    other = _read(tmp_path)
    assert not other["web_sales"].equals(tables["web_sales"])
    assert not other["customer_consents"].equals(tables["customer_consents"])


def test_row_counts_scale(landing):
    counts = landing[1]
    assert 8_000 <= counts["web_sales"] <= 12_000  # ~10k lines at scale 0.01 (+-20%)
    assert counts["items"] == 200
    # ~80% of 1000 customers have an analytics consent, some have marketing too.
    assert 700 <= counts["customer_consents"] <= 1_600


def test_row_counts_grow_with_scale(tmp_path):
    counts = seed_mod.generate(tmp_path, scale=0.002, seed=1)
    assert 1_600 <= counts["web_sales"] <= 2_400
    assert counts["items"] == 200


def test_schemas(tables):
    ws = tables["web_sales"].schema
    assert ws.field("ws_order_number").type == pa.int64()
    assert ws.field("ws_line_number").type == pa.int32()
    assert ws.field("ws_item_sk").type == pa.int64()
    assert ws.field("ws_bill_customer_sk").type == pa.int64()
    assert ws.field("ws_ship_customer_sk").type == pa.int64()
    assert ws.field("ws_sold_date").type == pa.date32()
    assert ws.field("ws_sold_time").type == pa.int32()
    assert ws.field("ws_ship_date").type == pa.date32()
    assert ws.field("ws_quantity").type == pa.int32()
    assert ws.field("ws_list_price").type == pa.decimal128(10, 2)
    assert ws.field("ws_sales_price").type == pa.decimal128(10, 2)
    assert ws.field("ws_ext_sales_price").type == pa.decimal128(12, 2)
    assert ws.field("ws_net_paid").type == pa.decimal128(12, 2)

    it = tables["items"].schema
    assert it.names == ["i_item_sk", "i_item_id", "i_item_name", "i_category", "i_current_price"]
    assert it.field("i_current_price").type == pa.decimal128(10, 2)

    cc = tables["customer_consents"].schema
    assert cc.names == ["customer_sk", "purpose", "granted_at", "revoked_at"]
    assert cc.field("granted_at").type == pa.timestamp("us")
    assert cc.field("revoked_at").type == pa.timestamp("us")


# --------------------------------------------------------------------------------------
# web_sales
# --------------------------------------------------------------------------------------
def test_order_lines_share_order_attributes(tables):
    ws = tables["web_sales"]
    per_order = ws.group_by("ws_order_number").aggregate(
        [
            ("ws_bill_customer_sk", "count_distinct"),
            ("ws_ship_customer_sk", "count_distinct"),
            ("ws_sold_date", "count_distinct"),
            ("ws_sold_time", "count_distinct"),
            ("ws_line_number", "count"),
            ("ws_line_number", "min"),
            ("ws_line_number", "max"),
        ]
    )
    for col in (
        "ws_bill_customer_sk_count_distinct",
        "ws_ship_customer_sk_count_distinct",
        "ws_sold_date_count_distinct",
        "ws_sold_time_count_distinct",
        "ws_line_number_min",
    ):
        assert pc.all(pc.equal(per_order[col], 1)).as_py(), col
    # line numbers are exactly 1..n, with 1..9 lines per order, averaging ~5
    assert per_order["ws_line_number_max"].equals(per_order["ws_line_number_count"].cast(pa.int32()))
    n_lines = per_order["ws_line_number_count"]
    assert pc.min(n_lines).as_py() >= 1 and pc.max(n_lines).as_py() <= 9
    assert 4.5 <= pc.mean(n_lines).as_py() <= 5.5


def test_order_line_keys_unique(tables):
    ws = tables["web_sales"]
    keys = ws.group_by(["ws_order_number", "ws_line_number"]).aggregate([])
    assert keys.num_rows == ws.num_rows


def test_amounts_are_exact(tables):
    ws = tables["web_sales"]
    qty = ws["ws_quantity"].to_pylist()
    lst = ws["ws_list_price"].to_pylist()
    sale = ws["ws_sales_price"].to_pylist()
    ext = ws["ws_ext_sales_price"].to_pylist()
    net = ws["ws_net_paid"].to_pylist()
    for q, lp, sp, e, n in zip(qty, lst, sale, ext, net):
        assert 1 <= q <= 10
        assert e == q * sp
        assert n == e
        assert Decimal("0") < sp <= lp
        assert sp >= lp * Decimal("0.70") - Decimal("0.01")  # discount at most 30%


def test_dates_and_times(tables):
    ws = tables["web_sales"]
    sold = ws["ws_sold_date"]
    assert pc.min(sold).as_py() >= seed_mod.PERIOD_START
    assert pc.max(sold).as_py() == YESTERDAY  # a live shop: its history ends yesterday
    lag = pc.days_between(sold, ws["ws_ship_date"])
    assert pc.min(lag).as_py() >= 1 and pc.max(lag).as_py() <= 30
    t = ws["ws_sold_time"]
    assert pc.min(t).as_py() >= 0 and pc.max(t).as_py() < 86_400


def test_foreign_keys_and_ship_to_other(tables):
    ws, items = tables["web_sales"], tables["items"]
    assert pc.all(pc.is_in(ws["ws_item_sk"], value_set=items["i_item_sk"])).as_py()
    for col in ("ws_bill_customer_sk", "ws_ship_customer_sk"):
        assert pc.min(ws[col]).as_py() >= 1 and pc.max(ws[col]).as_py() <= N_CUSTOMERS
    orders = ws.filter(pc.equal(ws["ws_line_number"], 1))
    differs = pc.sum(pc.not_equal(orders["ws_bill_customer_sk"], orders["ws_ship_customer_sk"])).as_py()
    assert 0.05 <= differs / orders.num_rows <= 0.15


def test_items(tables):
    items = tables["items"]
    assert pc.count_distinct(items["i_item_sk"]).as_py() == items.num_rows
    assert pc.count_distinct(items["i_item_id"]).as_py() == items.num_rows
    assert 8 <= pc.count_distinct(items["i_category"]).as_py() <= 12
    assert pc.all(pc.greater(items["i_current_price"], pa.scalar(Decimal("0"), pa.decimal128(10, 2)))).as_py()


# --------------------------------------------------------------------------------------
# customer_consents
# --------------------------------------------------------------------------------------
def test_analytics_consent_fraction(tables):
    cc = tables["customer_consents"]
    analytics = cc.filter(pc.equal(cc["purpose"], "analytics"))
    frac = pc.count_distinct(analytics["customer_sk"]).as_py() / N_CUSTOMERS
    assert 0.75 <= frac <= 0.85
    revoked = analytics["revoked_at"].null_count
    revoked_frac = 1 - revoked / analytics.num_rows  # share with a revocation
    assert 0.05 <= revoked_frac <= 0.15


def test_purposes_and_marketing_trap(tables):
    cc = tables["customer_consents"]
    assert set(cc["purpose"].to_pylist()) == {"analytics", "marketing"}
    analytics = set(cc.filter(pc.equal(cc["purpose"], "analytics"))["customer_sk"].to_pylist())
    marketing = set(cc.filter(pc.equal(cc["purpose"], "marketing"))["customer_sk"].to_pylist())
    assert marketing - analytics, "some customers should have only a marketing consent"


def test_at_most_one_row_per_customer_and_purpose(tables):
    cc = tables["customer_consents"]
    assert cc.group_by(["customer_sk", "purpose"]).aggregate([]).num_rows == cc.num_rows
    assert pc.min(cc["customer_sk"]).as_py() >= 1 and pc.max(cc["customer_sk"]).as_py() <= N_CUSTOMERS


def test_revoked_after_granted_within_period(tables):
    cc = tables["customer_consents"]
    assert cc["granted_at"].null_count == 0
    revoked = cc.filter(pc.is_valid(cc["revoked_at"]))
    assert revoked.num_rows > 0
    assert pc.all(pc.greater(revoked["revoked_at"], revoked["granted_at"])).as_py()
    assert pc.min(revoked["revoked_at"]).as_py() >= dt.datetime.combine(seed_mod.PERIOD_START, dt.time())
    assert pc.max(revoked["revoked_at"]).as_py() <= dt.datetime.combine(YESTERDAY, dt.time(23, 59, 59))


def test_grants_before_and_during_period(tables):
    cc = tables["customer_consents"]
    analytics = cc.filter(pc.equal(cc["purpose"], "analytics"))
    start = pa.scalar(dt.datetime.combine(seed_mod.PERIOD_START, dt.time()), pa.timestamp("us"))
    during = pc.sum(pc.greater_equal(analytics["granted_at"], start)).as_py()
    assert 0 < during < analytics.num_rows / 2  # many before the shop opened, some during the period


# --------------------------------------------------------------------------------------
# A live shop: the history ends the day before "today" (injectable)
# --------------------------------------------------------------------------------------
def test_history_ends_the_day_before_an_injected_today(tmp_path, monkeypatch):
    today = dt.date(2026, 3, 15)
    counts = seed_mod.generate(tmp_path / "a", scale=0.002, seed=5, today=today)
    a = _read(tmp_path / "a")
    sold = a["web_sales"]["ws_sold_date"]
    assert pc.max(sold).as_py() == dt.date(2026, 3, 14) and pc.min(sold).as_py() >= seed_mod.PERIOD_START
    # the same `today` through MESH_TODAY gives the same files
    monkeypatch.setenv("MESH_TODAY", "2026-03-15")
    assert seed_mod.generate(tmp_path / "b", scale=0.002, seed=5) == counts
    assert all(_read(tmp_path / "b")[name].equals(a[name]) for name in TABLES)
    # the newest day's orders are billed to a customer whose analytics consent is active then
    ws, cc = a["web_sales"], a["customer_consents"]
    newest = ws.filter(pc.equal(sold, pa.scalar(dt.date(2026, 3, 14), pa.date32())))
    active = cc.filter(pc.and_(pc.equal(cc["purpose"], "analytics"), pc.is_null(cc["revoked_at"])))
    assert newest.num_rows and set(newest["ws_bill_customer_sk"].to_pylist()) <= set(active["customer_sk"].to_pylist())
    assert pc.max(active["granted_at"]).as_py() < dt.datetime(2026, 3, 14)
    with pytest.raises(ValueError, match="at least 60 days after the shop opened"):
        seed_mod.generate(tmp_path / "c", scale=0.002, seed=5, today=seed_mod.PERIOD_START)
