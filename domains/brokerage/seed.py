"""Deterministic operational-data generator for the brokerage domain (commercial real estate).

Writes three landing Parquet files:

* ``legal_entities.parquet``   -- tenants and their parent companies, identified by LEI
                                  (ISO 17442: 4-char LOU prefix, '00', 12 entity characters,
                                  2 check digits by ISO 7064 MOD 97-10)
* ``properties.parquet``       -- buildings with city and country
* ``lease_contracts.parquet``  -- leases: tenant LEI, property, start (first of a month),
                                  end (last of a month), lease type, monthly rent, currency

Scale 1 is about 100,000 leases, 20,000 legal entities and 10,000 properties; leases start
between 2016-01 and 2026-12 and run 1 to 10 years. Everything comes from
``numpy.random.default_rng(seed)``, so the output is identical for a given ``(scale, seed)``.
Rents are integer cents written as exact ``decimal128(12, 2)``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import re

import numpy as np
import pyarrow as pa

from mesh_platform.seeding import decimal_from_cents, write_parquet_atomically

LEASES_AT_SCALE_1 = 100_000
ENTITIES_AT_SCALE_1 = 20_000
PROPERTIES_AT_SCALE_1 = 10_000

FIRST_START = (2016, 1)  # first lease start month
N_START_MONTHS = 11 * 12  # 2016-01 .. 2026-12
TERMS_MONTHS = np.array([12, 24, 36, 60, 84, 120])
TERM_WEIGHTS = np.array([0.10, 0.15, 0.25, 0.25, 0.15, 0.10])
P_GROUP_PARENT = 0.12  # share of entities that are ultimate parents of a group
P_HAS_PARENT = 0.45  # share of the other entities that belong to a group

LOU_PREFIXES = np.array(["5493", "2138", "9695", "5299", "7245", "8156", "3912", "6354", "8945", "2549"])
_ALNUM = np.array(list("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))

COUNTRIES = np.array(["DE", "FR", "GB", "NL", "ES", "IT", "CH", "LU", "BE", "US"])
_COUNTRY_WEIGHTS = np.array([0.20, 0.20, 0.15, 0.08, 0.08, 0.08, 0.06, 0.05, 0.05, 0.05])
_LEGAL_FORM = {
    "DE": "GmbH",
    "FR": "SAS",
    "GB": "Ltd",
    "NL": "B.V.",
    "ES": "S.L.",
    "IT": "S.p.A.",
    "CH": "AG",
    "LU": "S.a r.l.",
    "BE": "NV",
    "US": "Inc.",
}
_NAME_A = np.array(
    [
        "Northwind",
        "Bluepeak",
        "Silverline",
        "Ironbridge",
        "Greenfield",
        "Redstone",
        "Brightwater",
        "Oakridge",
        "Westgate",
        "Eastlake",
        "Highmoor",
        "Starling",
    ]
)
_NAME_B = np.array(
    [
        "Logistics",
        "Capital",
        "Retail",
        "Consulting",
        "Pharma",
        "Software",
        "Foods",
        "Energy",
        "Media",
        "Insurance",
        "Engineering",
        "Textiles",
    ]
)

CITIES = np.array(
    [
        ("Paris", "FR", "EUR", 540),
        ("Lyon", "FR", "EUR", 260),
        ("Berlin", "DE", "EUR", 330),
        ("Munich", "DE", "EUR", 380),
        ("Frankfurt", "DE", "EUR", 360),
        ("London", "GB", "GBP", 620),
        ("Manchester", "GB", "GBP", 250),
        ("Amsterdam", "NL", "EUR", 400),
        ("Madrid", "ES", "EUR", 290),
        ("Milan", "IT", "EUR", 350),
        ("Zurich", "CH", "CHF", 580),
        ("Luxembourg", "LU", "EUR", 440),
        ("Brussels", "BE", "EUR", 270),
    ],
    dtype=object,
)  # city, country, currency, median yearly rent per m2 (currency units)
_CITY_WEIGHTS = np.array([0.16, 0.06, 0.11, 0.08, 0.08, 0.13, 0.04, 0.07, 0.06, 0.06, 0.05, 0.05, 0.05])
PROPERTY_TYPES = np.array(["office", "retail", "logistics", "mixed_use"])
_PROPERTY_TYPE_WEIGHTS = np.array([0.55, 0.20, 0.15, 0.10])
LEASE_TYPES = np.array(["gross", "net", "triple_net", "turnover"])
_LEASE_TYPE_WEIGHTS = np.array([0.35, 0.30, 0.25, 0.10])
_STREETS = np.array(
    [
        "Main Street",
        "Station Road",
        "Harbour Quay",
        "Market Square",
        "Park Avenue",
        "Kingsway",
        "Riverside",
        "Cathedral Close",
        "Exchange Place",
        "Canal Walk",
    ]
)


# --------------------------------------------------------------------------------------
# LEI (ISO 17442)
# --------------------------------------------------------------------------------------
def lei_check_digits(base18: str) -> str:
    """ISO 7064 MOD 97-10 check digits for the first 18 characters of an LEI."""
    digits = "".join(str(int(c, 36)) for c in base18 + "00")
    return f"{98 - int(digits) % 97:02d}"


def is_valid_lei(lei: str) -> bool:
    """Format (18 upper-case alphanumerics, 2 digits) and MOD 97-10 check digits."""
    if not re.fullmatch(r"[A-Z0-9]{18}[0-9]{2}", lei or ""):
        return False
    return int("".join(str(int(c, 36)) for c in lei)) % 97 == 1


def _leis(rng: np.random.Generator, n: int) -> list[str]:
    prefixes = LOU_PREFIXES[rng.integers(0, len(LOU_PREFIXES), n)]
    chars = _ALNUM[rng.integers(0, len(_ALNUM), (n, 12))]
    out, seen = [], set()
    for prefix, row in zip(prefixes.tolist(), chars.tolist()):
        base = prefix + "00" + "".join(row)
        lei = base + lei_check_digits(base)
        if lei in seen:  # 36^12 entity codes: practically never, but stay unique
            raise RuntimeError("LEI collision; use another seed")
        seen.add(lei)
        out.append(lei)
    return out


def _sizes(scale: float) -> tuple[int, int, int]:
    if scale <= 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    n_leases = max(100, int(round(LEASES_AT_SCALE_1 * scale)))
    n_entities = max(60, int(round(ENTITIES_AT_SCALE_1 * scale)))
    n_properties = max(40, int(round(PROPERTIES_AT_SCALE_1 * scale)))
    return n_leases, n_entities, n_properties


def _month_start(index: np.ndarray) -> np.ndarray:
    """Month index (0 = FIRST_START) -> days since epoch of the month's first day."""
    years = FIRST_START[0] + (FIRST_START[1] - 1 + index) // 12
    months = (FIRST_START[1] - 1 + index) % 12 + 1
    return np.array(
        [(dt.date(int(y), int(m), 1) - dt.date(1970, 1, 1)).days for y, m in zip(years.tolist(), months.tolist())],
        dtype=np.int32,
    )


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------
def _legal_entities(rng: np.random.Generator, n: int) -> tuple[pa.Table, np.ndarray]:
    leis = np.array(_leis(rng, n), dtype=object)
    country = COUNTRIES[rng.choice(len(COUNTRIES), n, p=_COUNTRY_WEIGHTS)]
    a = _NAME_A[rng.integers(0, len(_NAME_A), n)]
    b = _NAME_B[rng.integers(0, len(_NAME_B), n)]
    names = [
        f"{x} {y} {i + 1} {_LEGAL_FORM[c]}" for i, (x, y, c) in enumerate(zip(a.tolist(), b.tolist(), country.tolist()))
    ]
    n_parents = max(3, int(round(P_GROUP_PARENT * n)))
    is_parent = rng.permutation(n) < n_parents
    parent_idx = np.flatnonzero(is_parent)
    has_parent = (~is_parent) & (rng.random(n) < P_HAS_PARENT)
    parent_of = parent_idx[rng.integers(0, len(parent_idx), n)]
    parent_lei = [leis[p] if h else None for p, h in zip(parent_of.tolist(), has_parent.tolist())]
    table = pa.table(
        {
            "lei": pa.array(leis.tolist(), pa.string()),
            "legal_name": pa.array(names, pa.string()),
            "country": pa.array(country.tolist(), pa.string()),
            "parent_lei": pa.array(parent_lei, pa.string()),
        }
    )
    return table, leis


def _properties(rng: np.random.Generator, n: int) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    city_idx = rng.choice(len(CITIES), n, p=_CITY_WEIGHTS)
    city = CITIES[city_idx]
    ptype = PROPERTY_TYPES[rng.choice(len(PROPERTY_TYPES), n, p=_PROPERTY_TYPE_WEIGHTS)]
    area = np.round(rng.lognormal(np.log(1500), 0.8, n)).astype(np.int32).clip(80, 60_000)
    street = _STREETS[rng.integers(0, len(_STREETS), n)]
    number = rng.integers(1, 200, n)
    ids = [f"PROP-{i:06d}" for i in range(1, n + 1)]
    table = pa.table(
        {
            "property_id": pa.array(ids, pa.string()),
            "property_name": pa.array([f"{no} {s}" for no, s in zip(number.tolist(), street.tolist())], pa.string()),
            "city": pa.array(city[:, 0].tolist(), pa.string()),
            "country": pa.array(city[:, 1].tolist(), pa.string()),
            "property_type": pa.array(ptype.tolist(), pa.string()),
            "floor_area_sqm": pa.array(area, pa.int32()),
        }
    )
    return table, city_idx, area


def _lease_contracts(
    rng: np.random.Generator, n: int, leis: np.ndarray, city_idx: np.ndarray, area: np.ndarray
) -> pa.Table:
    n_entities, n_properties = len(leis), len(city_idx)
    # A few tenants hold many leases (retail chains), most hold one or two: Zipf-like weights.
    weights = 1.0 / np.arange(1, n_entities + 1) ** 0.8
    tenant = rng.permutation(n_entities)[rng.choice(n_entities, n, p=weights / weights.sum())]
    prop = rng.integers(0, n_properties, n)
    start_month = rng.integers(0, N_START_MONTHS, n)
    term = TERMS_MONTHS[rng.choice(len(TERMS_MONTHS), n, p=TERM_WEIGHTS)]
    start = _month_start(start_month)
    end = _month_start(start_month + term) - 1  # last day of the final month
    leased_share = rng.uniform(0.05, 0.6, n)  # a lease takes part of a building
    sqm = np.maximum(50, np.round(area[prop] * leased_share))
    yearly_per_sqm = CITIES[city_idx[prop], 3].astype(np.float64) * rng.lognormal(0.0, 0.25, n)
    monthly_cents = np.round(sqm * yearly_per_sqm * 100 / 12.0).astype(np.int64)
    currency = CITIES[city_idx[prop], 2]
    lease_type = LEASE_TYPES[rng.choice(len(LEASE_TYPES), n, p=_LEASE_TYPE_WEIGHTS)]
    order = np.lexsort((tenant, start))
    return pa.table(
        {
            "lease_id": pa.array([f"LSE-{i:07d}" for i in range(1, n + 1)], pa.string()),
            "tenant_lei": pa.array(leis[tenant[order]].tolist(), pa.string()),
            "property_id": pa.array([f"PROP-{p + 1:06d}" for p in prop[order].tolist()], pa.string()),
            "start_date": pa.array(start[order], pa.int32()).cast(pa.date32()),
            "end_date": pa.array(end[order], pa.int32()).cast(pa.date32()),
            "lease_type": pa.array(lease_type[order].tolist(), pa.string()),
            "monthly_rent": decimal_from_cents(monthly_cents[order], 12),
            "currency": pa.array(currency[order].tolist(), pa.string()),
        }
    )


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------
def generate(landing_dir: pathlib.Path, scale: float = 0.01, seed: int = 42) -> dict[str, int]:
    """Write the brokerage domain's landing Parquet files into landing_dir; return row counts."""
    landing_dir = pathlib.Path(landing_dir)
    landing_dir.mkdir(parents=True, exist_ok=True)
    n_leases, n_entities, n_properties = _sizes(scale)
    rng = np.random.default_rng(seed)
    entities, leis = _legal_entities(rng, n_entities)
    properties, city_idx, area = _properties(rng, n_properties)
    leases = _lease_contracts(rng, n_leases, leis, city_idx, area)
    counts: dict[str, int] = {}
    for name, table in (("legal_entities", entities), ("properties", properties), ("lease_contracts", leases)):
        write_parquet_atomically(table, landing_dir, name)
        counts[name] = table.num_rows
    return counts


def _main(argv: list[str] | None = None) -> None:
    default_out = pathlib.Path(os.environ.get("MESH_DATA_DIR", "data")) / "landing" / "brokerage"
    parser = argparse.ArgumentParser(description="Generate brokerage landing Parquet files.")
    parser.add_argument("--out", type=pathlib.Path, default=default_out)
    parser.add_argument("--scale", type=float, default=0.01, help="1.0 ~= 100k leases (default 0.01)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    for name, n in generate(args.out, scale=args.scale, seed=args.seed).items():
        print(f"{name}: {n} rows -> {args.out / (name + '.parquet')}")


if __name__ == "__main__":
    _main()
