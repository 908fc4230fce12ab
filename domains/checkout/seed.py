"""Deterministic operational-data generator for the checkout domain.

Writes three landing Parquet files (web-shop style, modelled on TPC-DS ``web_sales``):

* ``web_sales.parquet``          -- order lines (scale 1 ~= 1,000,000 lines from 2022-01-01 to yesterday)
* ``items.parquet``              -- item catalogue
* ``customer_consents.parquet``  -- consent register (purposes 'analytics' and 'marketing')

The shop is live: its order history runs from ``PERIOD_START`` to yesterday (``today`` is
injectable, or ``MESH_TODAY``), and the newest day always has a consented order, so the
output port's newest ``sold_date`` is yesterday. Everything is derived from
``numpy.random.default_rng(seed)`` with vectorised numpy operations, so the output is
identical for a given ``(scale, seed, today)``.  Monetary values are
produced as integer cents and written as exact ``decimal128`` columns.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401  (pa.compute)

from mesh_platform.seeding import decimal_from_cents, history_end, write_parquet_atomically

# --------------------------------------------------------------------------------------
# Calendar constants
# --------------------------------------------------------------------------------------
_EPOCH = dt.date(1970, 1, 1)
# The shop opened on PERIOD_START (the descriptor's partitions start there too); its history
# ends yesterday. A fixed start keeps the sample's days (and the tests' partitions) at about
# five years now; it grows by a day a day.
PERIOD_START = dt.date(2022, 1, 1)
CONSENT_HISTORY_START = dt.date(2015, 1, 1)  # earliest consent grant
_US_PER_SEC = 1_000_000
_SEC_PER_DAY = 86_400
_HISTORY_START_US = (CONSENT_HISTORY_START - _EPOCH).days * _SEC_PER_DAY * _US_PER_SEC


@dataclass(frozen=True)
class Period:
    """The order history: PERIOD_START .. end (inclusive; yesterday for a live shop)."""

    start: dt.date
    end: dt.date

    @property
    def start_day(self) -> int:  # days since epoch
        return (self.start - _EPOCH).days

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def start_us(self) -> int:
        return self.start_day * _SEC_PER_DAY * _US_PER_SEC

    @property
    def end_us(self) -> int:  # the last second of the last day
        return (self.start_day + self.n_days) * _SEC_PER_DAY * _US_PER_SEC - _US_PER_SEC


def period(today: dt.date | None = None) -> Period:
    end = history_end(today)
    if end < PERIOD_START + dt.timedelta(days=60):
        raise ValueError(
            f"today ({end + dt.timedelta(days=1)}) must be at least 60 days after the shop opened ({PERIOD_START})"
        )
    return Period(PERIOD_START, end)


# --------------------------------------------------------------------------------------
# Tunables
# --------------------------------------------------------------------------------------
LINES_AT_SCALE_1 = 1_000_000
CUSTOMERS_AT_SCALE_1 = 100_000
ITEMS_AT_SCALE_1 = 10_000
MAX_LINES_PER_ORDER = 9  # lines per order uniform in 1..9 -> mean 5
P_SHIP_TO_OTHER = 0.10  # share of orders shipped to a different customer
P_ANALYTICS_CONSENT = 0.82  # share of customers with an 'analytics' consent
P_GRANTED_BEFORE_PERIOD = 0.88  # ...of which granted before PERIOD_START
P_ANALYTICS_REVOKED = 0.10  # ...of which revoked later
P_MARKETING_CONSENT = 0.35  # independent of analytics (a trap for a wrong filter)
P_MARKETING_REVOKED = 0.15
MAX_DISCOUNT_PCT = 30

CATEGORIES = np.array(
    [
        "Books",
        "Electronics",
        "Home",
        "Sports",
        "Toys",
        "Clothing",
        "Beauty",
        "Garden",
        "Grocery",
        "Music",
    ]
)
# Median unit price per category, in currency units.
_CATEGORY_MEDIAN_PRICE = np.array([15.0, 120.0, 40.0, 35.0, 25.0, 30.0, 18.0, 28.0, 6.0, 14.0])
_CATEGORY_NOUNS = {
    "Books": ["Novel", "Cookbook", "Atlas", "Biography", "Anthology", "Guide"],
    "Electronics": ["Headphones", "Charger", "Speaker", "Camera", "Monitor", "Router"],
    "Home": ["Lamp", "Cushion", "Rug", "Vase", "Blanket", "Mirror"],
    "Sports": ["Racket", "Yoga Mat", "Football", "Helmet", "Dumbbell", "Bottle"],
    "Toys": ["Puzzle", "Robot", "Doll", "Kite", "Blocks", "Board Game"],
    "Clothing": ["Jacket", "T-Shirt", "Scarf", "Sneakers", "Jeans", "Hat"],
    "Beauty": ["Serum", "Lipstick", "Shampoo", "Perfume", "Face Cream", "Brush"],
    "Garden": ["Hose", "Planter", "Shears", "Seeds", "Lantern", "Trowel"],
    "Grocery": ["Coffee", "Tea", "Olive Oil", "Chocolate", "Pasta", "Honey"],
    "Music": ["Vinyl", "Guitar Strings", "Songbook", "Ukulele", "Drumsticks", "CD"],
}
_ADJECTIVES = np.array(
    ["Classic", "Deluxe", "Compact", "Premium", "Eco", "Vintage", "Smart", "Essential", "Pro", "Mini"]
)


def _sizes(scale: float) -> tuple[int, int, int]:
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    n_lines_target = max(1, int(round(LINES_AT_SCALE_1 * scale)))
    n_customers = max(50, int(CUSTOMERS_AT_SCALE_1 * scale))
    n_items = max(200, int(ITEMS_AT_SCALE_1 * min(scale, 1.0)))
    return n_lines_target, n_customers, n_items


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
def _items(rng: np.random.Generator, n_items: int) -> tuple[pa.Table, np.ndarray]:
    sk = np.arange(1, n_items + 1, dtype=np.int64)
    cat_idx = rng.integers(0, len(CATEGORIES), n_items)
    # Log-normal prices around the category median, ending in .99 (or .49 for cheap items).
    raw = _CATEGORY_MEDIAN_PRICE[cat_idx] * rng.lognormal(0.0, 0.6, n_items)
    whole = np.clip(np.floor(raw), 0, 4_999).astype(np.int64)
    cents = whole * 100 + np.where(whole == 0, 49, 99)
    adj = rng.integers(0, len(_ADJECTIVES), n_items)
    noun_pick = rng.integers(0, 6, n_items)

    cats = CATEGORIES[cat_idx]
    # Catalogue is small (<= 10k rows): building strings in Python is fine here.
    item_id = [f"ITEM-{i:06d}" for i in sk.tolist()]
    item_name = [
        f"{_ADJECTIVES[a]} {_CATEGORY_NOUNS[c][n]}" for a, c, n in zip(adj.tolist(), cats.tolist(), noun_pick.tolist())
    ]
    table = pa.table(
        {
            "i_item_sk": pa.array(sk, pa.int64()),
            "i_item_id": pa.array(item_id, pa.string()),
            "i_item_name": pa.array(item_name, pa.string()),
            "i_category": pa.array(cats.tolist(), pa.string()),
            "i_current_price": decimal_from_cents(cents, 10),
        }
    )
    return table, cents


def _web_sales(
    rng: np.random.Generator,
    n_lines_target: int,
    n_customers: int,
    item_price_cents: np.ndarray,
    span: Period,
) -> pa.Table:
    n_items = item_price_cents.shape[0]
    n_orders = max(1, int(round(n_lines_target / ((1 + MAX_LINES_PER_ORDER) / 2))))

    # ---- order level -------------------------------------------------------------
    lines_per_order = rng.integers(1, MAX_LINES_PER_ORDER + 1, n_orders)
    sold_day = rng.integers(0, span.n_days, n_orders)
    sold_time = rng.integers(0, _SEC_PER_DAY, n_orders)
    # Order numbers increase with time of sale.
    order_perm = np.lexsort((sold_time, sold_day))
    sold_day = sold_day[order_perm]
    sold_time = sold_time[order_perm]
    order_number = np.arange(1, n_orders + 1, dtype=np.int64)

    bill_customer = rng.integers(1, n_customers + 1, n_orders, dtype=np.int64)
    ship_other = rng.random(n_orders) < P_SHIP_TO_OTHER
    offset = rng.integers(1, n_customers, n_orders, dtype=np.int64)  # never 0 -> a different customer
    ship_customer = np.where(ship_other, (bill_customer - 1 + offset) % n_customers + 1, bill_customer)
    ship_lag = rng.integers(1, 31, n_orders)

    # ---- line level --------------------------------------------------------------
    n_lines = int(lines_per_order.sum())
    order_idx = np.repeat(np.arange(n_orders), lines_per_order)
    order_start = np.cumsum(lines_per_order) - lines_per_order
    line_number = (np.arange(n_lines) - order_start[order_idx] + 1).astype(np.int32)

    item_sk = rng.integers(1, n_items + 1, n_lines, dtype=np.int64)
    quantity = rng.integers(1, 11, n_lines).astype(np.int32)
    list_cents = item_price_cents[item_sk - 1]
    discount_pct = rng.integers(0, MAX_DISCOUNT_PCT + 1, n_lines)
    sales_cents = list_cents - (list_cents * discount_pct) // 100  # 0..30% off, <= list
    ext_cents = sales_cents * quantity.astype(np.int64)  # exact: qty * unit price

    sold_date_days = (span.start_day + sold_day).astype(np.int32)
    ship_date_days = (sold_date_days + ship_lag.astype(np.int32)).astype(np.int32)

    return pa.table(
        {
            "ws_order_number": pa.array(order_number[order_idx], pa.int64()),
            "ws_line_number": pa.array(line_number, pa.int32()),
            "ws_item_sk": pa.array(item_sk, pa.int64()),
            "ws_bill_customer_sk": pa.array(bill_customer[order_idx], pa.int64()),
            "ws_ship_customer_sk": pa.array(ship_customer[order_idx], pa.int64()),
            "ws_sold_date": pa.array(sold_date_days[order_idx], pa.int32()).cast(pa.date32()),
            "ws_sold_time": pa.array(sold_time[order_idx].astype(np.int32), pa.int32()),
            "ws_ship_date": pa.array(ship_date_days[order_idx], pa.int32()).cast(pa.date32()),
            "ws_quantity": pa.array(quantity, pa.int32()),
            "ws_list_price": decimal_from_cents(list_cents, 10),
            "ws_sales_price": decimal_from_cents(sales_cents, 10),
            "ws_ext_sales_price": decimal_from_cents(ext_cents, 12),
            "ws_net_paid": decimal_from_cents(ext_cents, 12),
        }
    )


def _consents_for(
    rng: np.random.Generator,
    n_customers: int,
    p_consent: float,
    p_before: float,
    p_revoked: float,
    early_skew: float,
    span: Period,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return (customer_sk, granted_us, revoked_us, revoked_mask) for one purpose."""
    # Exact shares (random choice of *which* customers) keep small scales close to target.
    has = rng.permutation(n_customers) < int(round(p_consent * n_customers))
    customer_sk = np.arange(1, n_customers + 1, dtype=np.int64)[has]
    n = customer_sk.shape[0]

    before = rng.random(n) < p_before
    # Granted before the period: uniform over the consent history (2015..2020), whole seconds.
    hist_secs = (span.start_us - _HISTORY_START_US) // _US_PER_SEC
    granted_before = _HISTORY_START_US + rng.integers(0, hist_secs, n) * _US_PER_SEC
    # Granted during the period: skewed towards its start (Beta(1, early_skew)),
    # never in the last 30 days so a later revocation still fits inside the period.
    period_secs = (span.end_us - span.start_us) // _US_PER_SEC - 30 * _SEC_PER_DAY
    frac = rng.beta(1.0, early_skew, n)
    granted_during = span.start_us + (frac * period_secs).astype(np.int64) * _US_PER_SEC
    granted = np.where(before, granted_before, granted_during)

    revoked_mask = rng.permutation(n) < int(round(p_revoked * n))
    # Revocation strictly after the grant and inside the period (up to its last second).
    lo = np.maximum(granted, span.start_us)
    span_secs = (span.end_us - lo) // _US_PER_SEC
    revoked = lo + (1 + np.floor(rng.random(n) * span_secs).astype(np.int64)) * _US_PER_SEC
    revoked = np.minimum(revoked, span.end_us)
    return customer_sk, granted, revoked, revoked_mask


def _customer_consents(rng: np.random.Generator, n_customers: int, span: Period) -> pa.Table:
    a_sk, a_granted, a_revoked, a_mask = _consents_for(
        rng, n_customers, P_ANALYTICS_CONSENT, P_GRANTED_BEFORE_PERIOD, P_ANALYTICS_REVOKED, 4.0, span
    )
    m_sk, m_granted, m_revoked, m_mask = _consents_for(
        rng, n_customers, P_MARKETING_CONSENT, 0.5, P_MARKETING_REVOKED, 1.0, span
    )
    customer_sk = np.concatenate([a_sk, m_sk])
    purpose = np.concatenate([np.zeros(a_sk.shape[0], dtype=np.int8), np.ones(m_sk.shape[0], dtype=np.int8)])
    granted = np.concatenate([a_granted, m_granted])
    revoked = np.concatenate([a_revoked, m_revoked])
    revoked_mask = np.concatenate([a_mask, m_mask])

    order = np.lexsort((purpose, customer_sk))  # by customer, then purpose
    purpose_names = pa.array(["analytics", "marketing"], pa.string())
    return pa.table(
        {
            "customer_sk": pa.array(customer_sk[order], pa.int64()),
            "purpose": purpose_names.take(pa.array(purpose[order].astype(np.int32))),
            "granted_at": pa.array(granted[order], pa.timestamp("us")),
            "revoked_at": pa.array(revoked[order], pa.timestamp("us"), mask=~revoked_mask[order]),
        }
    )


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def _newest_order_on_the_last_day(web_sales: pa.Table, consents: pa.Table, span: Period) -> pa.Table:
    """A live shop sold something yesterday: the newest order moves to the period's last day,
    billed to (and shipped to) a customer whose analytics consent is still active, so the
    consented output port's newest day is yesterday at any scale."""
    analytics = consents.filter(
        pa.compute.and_(pa.compute.equal(consents["purpose"], "analytics"), pa.compute.is_null(consents["revoked_at"]))
    )
    customer = analytics["customer_sk"][0]
    orders = web_sales["ws_order_number"].to_numpy()
    newest = orders == orders.max()
    sold = web_sales["ws_sold_date"].cast(pa.int32()).to_numpy().copy()
    shipped = web_sales["ws_ship_date"].cast(pa.int32()).to_numpy().copy()
    last_day = span.start_day + span.n_days - 1
    shipped[newest] += last_day - sold[newest]
    sold[newest] = last_day
    columns = {
        "ws_sold_date": pa.array(sold, pa.int32()).cast(pa.date32()),
        "ws_ship_date": pa.array(shipped, pa.int32()).cast(pa.date32()),
        "ws_bill_customer_sk": pa.array(
            np.where(newest, customer.as_py(), web_sales["ws_bill_customer_sk"].to_numpy()), pa.int64()
        ),
        "ws_ship_customer_sk": pa.array(
            np.where(newest, customer.as_py(), web_sales["ws_ship_customer_sk"].to_numpy()), pa.int64()
        ),
    }
    for name, column in columns.items():
        web_sales = web_sales.set_column(web_sales.schema.get_field_index(name), name, column)
    return web_sales


def generate(
    landing_dir: pathlib.Path, scale: float = 0.01, seed: int = 42, today: dt.date | None = None
) -> dict[str, int]:
    """Write the checkout domain's landing Parquet files into landing_dir; return row counts per table.
    The history ends the day before `today` (default: UTC today, or MESH_TODAY)."""
    landing_dir = pathlib.Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    n_lines_target, n_customers, n_items = _sizes(scale)
    span = period(today)
    rng = np.random.default_rng(seed)

    items, item_price_cents = _items(rng, n_items)
    web_sales = _web_sales(rng, n_lines_target, n_customers, item_price_cents, span)
    consents = _customer_consents(rng, n_customers, span)
    web_sales = _newest_order_on_the_last_day(web_sales, consents, span)

    counts: dict[str, int] = {}
    for name, table in (
        ("items", items),
        ("web_sales", web_sales),
        ("customer_consents", consents),
    ):
        write_parquet_atomically(table, landing_dir, name)
        counts[name] = table.num_rows
    return counts


def _main(argv: list[str] | None = None) -> None:
    default_out = pathlib.Path(os.environ.get("MESH_DATA_DIR", "data")) / "landing" / "checkout"
    parser = argparse.ArgumentParser(description="Generate checkout landing Parquet files.")
    parser.add_argument("--out", type=pathlib.Path, default=default_out, help=f"landing dir (default {default_out})")
    parser.add_argument("--scale", type=float, default=0.01, help="1.0 ~= 1M order lines (default 0.01)")
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = parser.parse_args(argv)
    counts = generate(args.out, scale=args.scale, seed=args.seed)
    for name, n in counts.items():
        print(f"{name}: {n} rows -> {args.out / (name + '.parquet')}")


if __name__ == "__main__":
    _main()
