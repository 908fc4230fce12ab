"""Seeded fuzz test: mutated domain.yaml files, descriptors and contracts either load or fail
with a SpecError whose every problem names its file (and a line when one exists); any other
exception is a bug. The mutator is seeded, so a failure reproduces: the assertion prints the
seed, the kind and the mutated text."""

from __future__ import annotations

import functools
import os
import random
import shutil
import string
from pathlib import Path

import pytest
import yaml

from mesh_platform.mesh.domain import load_domain
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.product import validate_product
from mesh_platform.specs.yaml_source import load_yaml

ROOT = Path(__file__).resolve().parents[1]
# Fixed so a failure reproduces; MESH_FUZZ_SEED explores other runs (e.g. in a loop, by hand).
SEED = int(os.environ.get("MESH_FUZZ_SEED", "20261121"))
DOCUMENTS_PER_KIND = {"domain": 1200, "descriptor": 800, "contract": 300}

# Values that broke the loader before, or sit at a boundary of YAML, Python or a validator.
NASTY_SCALARS = [
    "",
    "~",
    "null",
    "0",
    "-1",
    "1e400",
    "-1e400",
    "1" + "0" * 30,
    ".inf",
    "-.inf",
    ".nan",
    "0x1F",
    "0o17",
    "1_000",
    "true",
    "no",
    "on",
    "2024-13-45",
    "2024-02-30T25:61:00Z",
    "P99999999999999999999D",
    "PT",
    "P1Y",
    "'0 5 L * *'",
    "'0 5 30 2 *'",
    "'* * * * * *'",
    "../../etc",
    "/etc",
    "'~/x'",
    "'C:\\\\x'",
    "!!python/name:os.system",
    "!custom x",
    "!!int 'abc'",
    "!!binary aGk=",
    "&a x",
    "*a",
    "*nowhere",
    "[",
    "]",
    "{",
    "}",
    "'unclosed",
    '"unclosed',
    "|",
    ">",
    "? [a, b]",
    "<<: {x: 1}",
    "{a: 1}",
    "[1, 2]",
    "[[[[[[[[[[]]]]]]]]]]",
    "x" * 300,
    "Europe/" + "A" * 2000,
    "Mars/Olympus_Mons",
    "UTC",
    "'\\t'",
    '"\\u0000"',
    '"\\uD800"',
    "é",
    "😀",
    "%",
    "@x",
    "`x`",
    "- a",
    ": x",
    "#",
]
NASTY_VALUES = [
    None,
    True,
    0,
    -1,
    10**30,
    1e308,
    float("inf"),
    float("nan"),
    "",
    "x" * 5000,
    [],
    {},
    [[[[]]]],
    {"a": {"b": {"c": None}}},
    ["a", 1, None],
    "0 5 L * *",
    "../../etc",
    "/etc",
    "Europe/" + "A" * 2000,
    "team:x",
    "a@b.c",
    "P99999999D",
]
RAW_BYTES = [b"\xff", b"\xfe\xff", b"\xc3", b"\x00", b"\x07", b"\x1b[31m", b"\xef\xbb\xbf", b"\r", b"\t", b"\x85"]


def _files(kind: str) -> list[Path]:
    pattern = {
        "domain": "*/domain.yaml",
        "descriptor": "*/products/*/dataproduct.yaml",
        "contract": "*/products/*/contracts/*.odcs.yaml",
    }[kind]
    return sorted((ROOT / "domains").glob(pattern))


def _text_mutation(rng: random.Random, text: str) -> bytes:
    lines = text.splitlines(keepends=True) or ["\n"]
    i = rng.randrange(len(lines))
    op = rng.randrange(9)
    if op == 0:
        del lines[i]
    elif op == 1:
        lines.insert(i, lines[rng.randrange(len(lines))])
    elif op == 2:
        j = rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == 3:  # change indentation
        lines[i] = " " * rng.choice([0, 1, 2, 3, 4, 6, 8]) + lines[i].lstrip(" ")
    elif op == 4:  # replace a value with a nasty scalar
        key, sep, _ = lines[i].partition(": ")
        lines[i] = (key + sep if sep else lines[i].rstrip("\n") + " ") + rng.choice(NASTY_SCALARS) + "\n"
    elif op == 5:  # insert random characters
        pos = rng.randrange(len(lines[i]) + 1)
        noise = "".join(rng.choice(string.printable + "é😀&*!|>{}[]:-?#") for _ in range(rng.randint(1, 4)))
        lines[i] = lines[i][:pos] + noise + lines[i][pos:]
    elif op == 6:  # truncate
        cut = rng.randrange(len(text) + 1)
        return text[:cut].encode()
    elif op == 7:  # insert a nasty line at the current indentation
        indent = len(lines[i]) - len(lines[i].lstrip(" "))
        lines.insert(i, " " * indent + rng.choice(["x: ", "- ", "? ", "", "<<: "]) + rng.choice(NASTY_SCALARS) + "\n")
    else:  # raw bytes
        raw = "".join(lines).encode()
        pos = rng.randrange(len(raw) + 1)
        return raw[:pos] + rng.choice(RAW_BYTES) + raw[pos:]
    return "".join(lines).encode()


def _paths(data, prefix=()):
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _paths(value, (*prefix, i))


def _tree_mutation(rng: random.Random, text: str) -> bytes:
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    paths = [p for p in _paths(data) if p]
    path = rng.choice(paths)
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    op = rng.randrange(3)
    if op == 0:
        parent[path[-1]] = rng.choice(NASTY_VALUES)
    elif op == 1:
        del parent[path[-1]]
    else:  # wrap the value in a list or a mapping
        parent[path[-1]] = rng.choice([[parent[path[-1]]], {"value": parent[path[-1]]}])
    return yaml.dump(
        data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False, allow_unicode=True
    ).encode()


def _load(kind: str, file: Path) -> None:
    if kind == "domain":
        load_domain(file.parent)
    elif kind == "descriptor":
        validate_product(load_yaml(file))
    else:
        load_contract(file)


@functools.cache
def _mutants(kind: str, seed: int) -> tuple:
    """The seeded mutants of one kind (made once per run: the count test reads them too)."""
    return tuple(_make_mutants(kind, seed))


def _make_mutants(kind: str, seed: int):
    rng = random.Random(f"{seed}-{kind}")
    sources = [(f, f.read_text()) for f in _files(kind)]
    for n in range(DOCUMENTS_PER_KIND[kind]):
        source, text = rng.choice(sources)
        for _ in range(rng.choice([1, 1, 2, 3])):
            mutate = _tree_mutation if rng.random() < 0.35 else _text_mutation
            try:
                raw = mutate(rng, text)
            except (yaml.YAMLError, ValueError, IndexError):  # an earlier mutation broke the text
                raw = _text_mutation(rng, text)
            text = raw.decode("utf-8", errors="replace")
        yield n, source, raw


@pytest.mark.parametrize("kind", list(DOCUMENTS_PER_KIND))
def test_mutated_documents_load_or_fail_with_file_and_line(kind, tmp_path):
    folder = tmp_path / ("risk" if kind == "domain" else "doc")  # a domain file must match its folder
    folder.mkdir()
    outcomes = {"loaded": 0, "refused": 0}
    for n, source, raw in _mutants(kind, SEED):
        name = "domain.yaml" if kind == "domain" else source.name
        if kind == "domain":
            raw = raw.replace(b"name: " + source.parent.name.encode(), b"name: risk", 1)
        file = folder / name
        file.write_bytes(raw)
        try:
            _load(kind, file)
        except SpecError as exc:
            assert exc.problems, f"#{n} ({kind} from {source}): a SpecError without problems"
            for problem in exc.problems:
                assert problem.file == file, f"#{n}: {problem}"
                assert len(str(problem)) < 2000, f"#{n}: message too long: {str(problem)[:200]}..."
            outcomes["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - the point: any other exception is a bug
            pytest.fail(
                f"#{n} ({kind} mutated from {source.relative_to(ROOT)}, seed {SEED}) raised "
                f"{type(exc).__name__}: {exc}\n--- document ---\n{raw[:3000]!r}"
            )
        else:
            outcomes["loaded"] += 1
    # The mutator must exercise both paths, or it is not testing the validation.
    assert outcomes["refused"] > DOCUMENTS_PER_KIND[kind] // 4, outcomes
    assert outcomes["loaded"] > 0, outcomes


def test_the_fuzz_run_covers_at_least_5000_distinct_documents():
    """Counted from the generators themselves (a mutation that changes nothing, or repeats an
    earlier one, does not count): the documents the fuzz tests above and below really feed."""
    random_docs = {(kind, raw) for kind in DOCUMENTS_PER_KIND for _, _, raw in _mutants(kind, SEED)}
    targeted = {(case.kind, case.text) for case in _targeted_cases(SEED)}
    assert len(random_docs) + len(targeted) >= 5000, (len(random_docs), len(targeted))
    assert len(targeted) >= 2500, len(targeted)


def test_shipped_files_load_unmutated(tmp_path):
    for kind in DOCUMENTS_PER_KIND:
        for file in _files(kind):
            if kind == "domain":
                target = tmp_path / file.parent.name
                target.mkdir()
                shutil.copy(file, target / "domain.yaml")
                file = target / "domain.yaml"
            _load(kind, file)


# --- targeted: one field set to a value of a known class, with an oracle ---------------------------
#
# Each case sets one field of a shipped file to a value from a class the platform must refuse
# (or accept): thresholds, percentages, retention, bounds, key positions, column names, physical
# types, notice periods, dates, crons, identifiers and cross-domain references (input-port
# sources, agreement ports, replacedBy). The oracle below is written from the rules, not from the
# implementation: a value it calls bad must be refused with a problem at that field's file and
# line (no accepted-but-wrong); one it calls good must load; nothing may raise anything else.

import calendar  # noqa: E402
import datetime as _dt  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

CHECKOUT = ROOT / "domains" / "checkout" / "products" / "web_orders_with_consent"
CONTRACT_BASE = CHECKOUT / "contracts" / "web_orders_with_consent.odcs.yaml"
DESCRIPTOR_BASE = CHECKOUT / "dataproduct.yaml"
CONSUMER_BASE = ROOT / "domains" / "recommendations" / "products" / "articles_bought_together" / "dataproduct.yaml"
AGREEMENT_BASE = ROOT / "domains" / "risk" / "agreements" / "entity_ratings__current_tenants.yaml"
TARGETED = {"contract": 300, "descriptor": 1300, "consumer": 900, "agreement": 700}
_SNAKE = re.compile(r"[a-z][a-z0-9_]*")
_ID_CHARS = string.ascii_letters + string.digits + "_-."
_HOSTILE_INSERTS = ["/", "..", "../", " ", "\t", "\n", "\x07", "\x1b", "\\", "/etc/", "\u2028"]


@dataclass(frozen=True)
class Case:
    kind: str  # contract | descriptor | consumer | agreement
    text: str  # the mutated document
    path: tuple  # the field set
    field: str  # how a problem names it
    bad: bool | None  # must be refused at path / must load / no claim (only: no traceback)
    what: str


def _finite_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _number(rng: random.Random) -> Any:
    return rng.choice(
        [
            rng.randint(-1000, 1000),
            rng.uniform(-200, 200),
            10 ** rng.randint(0, 15),
            -(10 ** rng.randint(0, 15)),
            0,
            float("nan"),
            float("inf"),
            -float("inf"),
            rng.choice([True, "5", None, [1], "x"]),
        ]
    )


def _identifier(rng: random.Random) -> tuple[str, bool]:
    """A safe identifier (good) or one with a path, whitespace or control character in it (bad)."""
    good = rng.choice(string.ascii_letters + string.digits) + "".join(
        rng.choice(_ID_CHARS.replace(".", "")) + ("." if rng.random() < 0.1 else "") for _ in range(rng.randint(0, 20))
    )
    if rng.random() < 0.4:
        return good, False
    pos = rng.randrange(len(good) + 1)
    if rng.random() < 0.8:
        return good[:pos] + rng.choice(_HOSTILE_INSERTS) + good[pos:], True
    return rng.choice(
        ["../../../../outside/PWNED", "/" + good, "-" + good, "." + good, good + "/..", good + "x" * 200, ""]
    ), True


def _address(rng: random.Random) -> tuple[str, bool]:
    """A cross-domain reference '<domain>.<product>.<port>': well formed (good) or not (bad)."""
    parts = ["".join(rng.choice(string.ascii_lowercase + "_") for _ in range(rng.randint(1, 8))) for _ in range(3)]
    parts = [rng.choice(string.ascii_lowercase) + p for p in parts]
    if rng.random() < 0.4:
        return ".".join(parts), False
    i = rng.randrange(3)
    parts[i] = rng.choice(["..", "a/b", "", "A", "a b", "/etc", "a\x07", "1a", parts[i] + "."])
    if rng.random() < 0.3:
        return rng.choice([".".join(parts[:2]), ".".join(parts) + ".x", "../../x.y.z"]), True
    return ".".join(parts), True


def _date(rng: random.Random) -> tuple[str, bool]:
    year, month, day = rng.choice([1, 1969, 1970, 2026, 2100, 2101, 2999]), rng.randint(1, 13), rng.randint(1, 31)
    text = f"{year:04d}-{month:02d}-{day:02d}"
    valid = month <= 12 and day <= calendar.monthrange(year, min(month, 12))[1]
    return text, not (valid and _dt.date(1970, 1, 1) <= _dt.date(year, month, day) <= _dt.date(2100, 12, 31))


def _period(rng: random.Random) -> tuple[str, bool]:
    if rng.random() < 0.15:
        return rng.choice(["3 months", "-P1M", "P", "PT1H", "P1.5M", "1M", "P-3D", ""]), True
    y, m, d = (rng.choice([0, 0, rng.randint(0, 12), rng.randint(0, 9999)]) for _ in range(3))
    text = "P" + (f"{y}Y" if y else "") + (f"{m}M" if m else "") + (f"{d}D" if d or not (y or m) else "")
    return text, y * 365 + m * 30 + d > 3660


def _cron(rng: random.Random) -> tuple[str, bool]:
    day, month = rng.randint(1, 31), rng.randint(1, 12)
    longest = 29 if month == 2 else calendar.monthrange(2025, month)[1]
    return f"0 5 {day} {month} *", day > longest


def _between(rng: random.Random) -> tuple[Any, bool]:
    value = rng.choice([[_number(rng), _number(rng)], [rng.randint(0, 50), rng.randint(0, 50)], [1], [1, 2, 3], "1-2"])
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(_finite_number(v) and v >= 0 for v in value)
        and value[0] <= value[1]
    )
    return value, not ok


PHYSICAL_GOOD = [
    "varchar",
    "integer",
    "bigint",
    "decimal(10,2)",
    "date",
    "timestamp",
    "boolean",
    "double",
    "STRING",
    "INT64",
    "NUMERIC",
    "text",
]
PHYSICAL_BAD = ["integr", "decimal(99999,2)", "[a, b]", "table", "x" * 50, "varchar(", "a b c"]


def _index(items: list, **match: Any) -> int:
    return next(i for i, item in enumerate(items) if all(item.get(k) == v for k, v in match.items()))


def _contract_slots(doc: dict) -> list[tuple[tuple, Callable[[random.Random], tuple[Any, bool | None]]]]:
    props = doc["schema"][0]["properties"]
    p = {prop["name"]: i for i, prop in enumerate(props)}
    sla = {prop["property"]: i for i, prop in enumerate(doc["slaProperties"])}
    custom = {prop["property"]: i for i, prop in enumerate(doc["customProperties"])}
    category = props[p["item_category"]]["quality"]
    percent = _index(category, unit="percent")
    q = doc["schema"][0]["quality"]
    rows = _index(q, metric="rowCount")
    names = [prop["name"] for prop in props]

    def count(rng):
        v = _number(rng)
        return v, not (_finite_number(v) and v >= 0)

    def pct(rng):
        v = (
            rng.uniform(-50, 200)
            if rng.random() < 0.7
            else rng.choice([rng.randint(-10, 150), float("nan"), float("inf"), 100, 0])
        )
        return v, not (_finite_number(v) and 0 <= v <= 100)

    def retention(rng):
        v = rng.choice([_number(rng), rng.randint(1, 150), 10 ** rng.uniform(-3, 12)])
        return v, not (_finite_number(v) and 0 < v * 365 <= 36_600)

    def minimum(rng):
        v = _number(rng)
        return v, None if isinstance(v, (bool, str, list)) or v is None else not _finite_number(v)

    def maximum(rng):  # line_number has minimum 1
        v = rng.choice([rng.randint(-5, 5), rng.uniform(-5, 5), float("nan"), 10**9])
        return v, not (_finite_number(v) and v >= 1)

    def pk_position(rng):
        k = rng.randint(-1, 4)
        return k, (k == 1) if k > 0 else None  # order_line_id holds position 1

    def column_name(rng):
        if rng.random() < 0.5:
            # a name used earlier: the later of two equal columns is the one reported
            return rng.choice(names[: p["sold_at"]]), True
        return "c_" + "".join(rng.choice(string.ascii_lowercase) for _ in range(6)), False

    def physical(rng):
        good = rng.random() < 0.5
        return rng.choice(PHYSICAL_GOOD if good else PHYSICAL_BAD), not good

    base = ("schema", 0, "properties")
    return [
        (("schema", 0, "quality", rows, "mustBeGreaterThan"), count),
        (("schema", 0, "quality", rows, "mustBeBetween"), _between),
        ((*base, p["item_category"], "quality", percent, "mustBeLessThan"), pct),
        (("slaProperties", sla["retention"], "value"), retention),
        (("slaProperties", sla["frequency"], "schedule"), _cron),
        ((*base, p["line_number"], "logicalTypeOptions", "minimum"), minimum),
        ((*base, p["line_number"], "logicalTypeOptions", "maximum"), maximum),
        ((*base, p["order_number"], "primaryKeyPosition"), pk_position),
        ((*base, p["sold_at"], "name"), column_name),
        ((*base, p["quantity"], "physicalType"), physical),
        (("customProperties", custom["noticePeriod"], "value"), _period),
        (("customProperties", custom["sunsetDate"], "value"), _date),
        (("customProperties", custom["deprecatedOn"], "value"), _date),
        (("id",), _identifier),
        (("version",), _identifier),
        (("schema", 0, "physicalName"), _table_name),
    ]


def _table_name(rng: random.Random) -> tuple[str, bool | None]:
    value, bad = _identifier(rng)
    # A safe identifier with a dot reads as <schema>.<table> in SQL: the sql rules judge that.
    return value, None if (not bad and "." in value) else bad


def _set(doc: dict, path: tuple, value: Any) -> None:
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value


_CLOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CDUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _parse(text: str) -> Any:
    return yaml.load(text, Loader=_CLOADER)


def _dump(doc: Any) -> str:
    return yaml.dump(doc, Dumper=_CDUMPER, sort_keys=False, allow_unicode=True)


def _cases_for(kind: str, base: Path, slots, rng: random.Random, count: int):
    import copy

    original = _parse(base.read_text())
    for _ in range(count):
        doc = copy.deepcopy(original)
        path, make = rng.choice(slots)
        value, bad = make(rng)
        if path[-1] == "mustBeBetween":  # one comparator per rule
            del doc["schema"][0]["quality"][path[3]]["mustBeGreaterThan"]
        if path[-1] == "primaryKeyPosition":
            _set(doc, (*path[:-1], "primaryKey"), True)
        _set(doc, path, value)
        yield Case(kind, _dump(doc), path, _field(path), bad, f"{'.'.join(map(str, path))} = {value!r}")


def _field(path: tuple) -> str:
    from mesh_platform.specs.yaml_source import format_path

    return format_path(path)


@functools.cache
def _targeted_cases(seed: int) -> tuple[Case, ...]:
    rng = random.Random(f"{seed}-targeted")
    contract = _parse(CONTRACT_BASE.read_text())
    cases = list(_cases_for("contract", CONTRACT_BASE, _contract_slots(contract), rng, TARGETED["contract"] * 9 // 10))
    # replacedBy, a cross-domain reference, added to the contract's lifecycle fields
    replaced = ("customProperties", len(contract["customProperties"]), "value")
    for _ in range(TARGETED["contract"] - len(cases)):
        doc = _parse(CONTRACT_BASE.read_text())
        value, bad = _address(rng)
        doc["customProperties"].append({"property": "replacedBy", "value": value})
        cases.append(Case("contract", _dump(doc), replaced, _field(replaced), bad, f"replacedBy = {value!r}"))

    descriptor = _parse(DESCRIPTOR_BASE.read_text())
    schedule = _index(descriptor["customProperties"], property="schedule")
    cases += _cases_for(
        "descriptor",
        DESCRIPTOR_BASE,
        [
            (("id",), _identifier),
            (("version",), _identifier),
            (("outputPorts", 0, "version"), _identifier),
            (("outputPorts", 0, "contractId"), _identifier),
            (("outputPorts", 1, "contractId"), _identifier),
            (("customProperties", schedule, "value", "cron"), _cron),
        ],
        rng,
        TARGETED["descriptor"],
    )

    consumer = _parse(CONSUMER_BASE.read_text())
    source = _index(consumer["inputPorts"][0]["customProperties"], property="source")
    cases += _cases_for(
        "consumer",
        CONSUMER_BASE,
        [
            (("inputPorts", 0, "customProperties", source, "value"), _address),
            (("inputPorts", 0, "name"), _identifier),
            (("inputPorts", 0, "contractId"), _identifier),
            (("inputPorts", 0, "version"), _identifier),
        ],
        rng,
        TARGETED["consumer"],
    )

    cases += _cases_for(
        "agreement",
        AGREEMENT_BASE,
        [
            (("provider", "port"), _address),
            (("consumer", "inputPort"), lambda r: (_identifier(r)[0], None)),
            (("start",), _date),
        ],
        rng,
        TARGETED["agreement"],
    )
    return tuple(cases)


def _line_of(text: str, path: tuple) -> int:
    """The line of the key (or list item) at `path`, read with PyYAML's own marks."""
    node = yaml.compose(text, Loader=_CLOADER)
    line = node.start_mark.line + 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value if k.value == part)
            line = key.start_mark.line + 1
        else:
            node = node.value[part]
            line = node.start_mark.line + 1
    return line


def _file_for(case: Case, folder: Path) -> Path:
    name = {"contract": "contract.odcs.yaml", "agreement": f"risk/agreements/{AGREEMENT_BASE.name}"}
    file = folder / case.kind / name.get(case.kind, "dataproduct.yaml")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(case.text)
    return file


def _load_targeted(case: Case, file: Path) -> None:
    from mesh_platform.contracts.compiler import compile_contract
    from mesh_platform.mesh.agreements import load_agreements

    if case.kind == "contract":
        contract = load_contract(file)
        compile_contract(contract, contract.model.schema_[0].name)
    elif case.kind == "agreement":
        _, _, problems = load_agreements(file.parent.parent)
        if problems:
            raise SpecError(problems)
    else:
        validate_product(load_yaml(file))


def test_targeted_values_are_refused_where_written_or_load(tmp_path):
    outcomes = {"refused": 0, "loaded": 0}
    cases = _targeted_cases(SEED)
    assert len(cases) == sum(TARGETED.values())
    for n, case in enumerate(cases):
        file = _file_for(case, tmp_path)
        try:
            _load_targeted(case, file)
        except SpecError as exc:
            outcomes["refused"] += 1
            if case.bad is False:
                pytest.fail(f"#{n} {case.kind}: {case.what} is fine, but was refused:\n{exc}")
            if case.bad:
                line = _line_of(case.text, case.path)
                # at the field's line, or at an item inside its value (mustBeBetween[1] on its own line)
                at = [
                    p
                    for p in exc.problems
                    if (p.field == case.field and p.line == line)
                    or (p.field.startswith((case.field + "[", case.field + ".")) and (p.line or 0) >= line)
                ]
                assert at, f"#{n} {case.kind}: {case.what} refused, but not at line {line} {case.field}:\n{exc}"
                assert all(p.file == file for p in exc.problems), str(exc)
        except Exception as exc:  # noqa: BLE001 - the point: any other exception is a bug
            pytest.fail(f"#{n} {case.kind} ({case.what}, seed {SEED}) raised {type(exc).__name__}: {exc}")
        else:
            outcomes["loaded"] += 1
            assert not case.bad, f"#{n} {case.kind}: accepted a wrong value: {case.what}"
    assert outcomes["refused"] > len(cases) // 4 and outcomes["loaded"] > len(cases) // 4, outcomes


# --- cross-domain: a mutated file in a mesh never breaks what reads it from another domain ---------

MESH_ROUNDS = 12


def test_a_mutated_domain_never_breaks_its_neighbours(tmp_path):
    """Seeded rounds over a copy of the mesh, each with one shipped descriptor or contract
    replaced by one of the mutants above: the readers of other domains (read edges, lifecycle
    and agreement rules, notice periods) never raise; when the mutated domain does not load,
    every other domain's lifecycle problems are exactly what they are without the mutation."""
    from mesh_platform.lifecycle.rules import domain_problems
    from mesh_platform.mesh import Mesh

    root = tmp_path / "domains"
    shutil.copytree(ROOT / "domains", root, ignore=shutil.ignore_patterns("__pycache__"))
    baseline_mesh = Mesh.load(root)
    baseline = {name: [str(p) for p in domain_problems(baseline_mesh, name)] for name in baseline_mesh.names}
    rng = random.Random(f"{SEED}-mesh")
    pool = [m for kind in ("descriptor", "contract") for m in _mutants(kind, SEED)]
    broken_rounds = 0
    for round_ in range(MESH_ROUNDS):
        n, source, raw = rng.choice(pool)
        target = root / source.relative_to(ROOT / "domains")
        original = target.read_bytes()
        target.write_bytes(raw)
        mutated = source.relative_to(ROOT / "domains").parts[0]
        try:
            mesh = Mesh.load(root)
            edges = mesh.edges
            problems = {name: [str(p) for p in domain_problems(mesh, name)] for name in mesh.names}
        except Exception as exc:  # noqa: BLE001 - the point: a reader of the mesh raising is a bug
            pytest.fail(
                f"round {round_}: mutant #{n} of {source.relative_to(ROOT)} made a mesh reader raise "
                f"{type(exc).__name__}: {exc}\n--- document ---\n{raw[:2000]!r}"
            )
        finally:
            target.write_bytes(original)
        assert all(e.consumer_domain in mesh.domains for e in edges)
        if mesh.problems_of(mutated):
            broken_rounds += 1
            for name in mesh.names:
                if name != mutated:
                    assert problems[name] == baseline[name], (round_, name, source)
    assert broken_rounds > 0  # the rounds did break a domain
