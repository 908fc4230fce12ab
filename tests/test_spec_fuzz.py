"""Seeded fuzz test: mutated domain.yaml files, descriptors and contracts either load or fail
with a SpecError whose every problem names its file (and a line when one exists); any other
exception is a bug. The mutator is seeded, so a failure reproduces: the assertion prints the
seed, the kind and the mutated text."""

from __future__ import annotations

import os
import random
import shutil
import string
from pathlib import Path

import pytest
import yaml

from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.loader import load_domain
from mesh_platform.specs.product import validate_product
from mesh_platform.specs.yaml_source import load_yaml

ROOT = Path(__file__).resolve().parents[1]
# Fixed so a failure reproduces; MESH_FUZZ_SEED explores other runs (e.g. in a loop, by hand).
SEED = int(os.environ.get("MESH_FUZZ_SEED", "20261121"))
DOCUMENTS_PER_KIND = {"domain": 900, "descriptor": 800, "contract": 500}

# Values that broke the loader before, or sit at a boundary of YAML, Python or a validator.
NASTY_SCALARS = [
    "", "~", "null", "0", "-1", "1e400", "-1e400", "1" + "0" * 30, ".inf", "-.inf", ".nan", "0x1F", "0o17",
    "1_000", "true", "no", "on", "2024-13-45", "2024-02-30T25:61:00Z", "P99999999999999999999D", "PT",
    "P1Y", "'0 5 L * *'", "'0 5 30 2 *'", "'* * * * * *'", "../../etc", "/etc", "'~/x'", "'C:\\\\x'",
    "!!python/name:os.system", "!custom x", "!!int 'abc'", "!!binary aGk=", "&a x", "*a", "*nowhere",
    "[", "]", "{", "}", "'unclosed", '"unclosed', "|", ">", "? [a, b]", "<<: {x: 1}", "{a: 1}", "[1, 2]",
    "[[[[[[[[[[]]]]]]]]]]", "x" * 300, "Europe/" + "A" * 2000, "Mars/Olympus_Mons", "UTC", "'\\t'",
    "\"\\u0000\"", "\"\\uD800\"", "é", "😀", "%", "@x", "`x`", "- a", ": x", "#",
]
NASTY_VALUES = [None, True, 0, -1, 10**30, 1e308, float("inf"), float("nan"), "", "x" * 5000, [], {},
                [[[[]]]], {"a": {"b": {"c": None}}}, ["a", 1, None], "0 5 L * *", "../../etc", "/etc",
                "Europe/" + "A" * 2000, "team:x", "a@b.c", "P99999999D"]
RAW_BYTES = [b"\xff", b"\xfe\xff", b"\xc3", b"\x00", b"\x07", b"\x1b[31m", b"\xef\xbb\xbf", b"\r", b"\t", b"\x85"]


def _files(kind: str) -> list[Path]:
    pattern = {"domain": "*/domain.yaml", "descriptor": "*/products/*/dataproduct.yaml",
               "contract": "*/products/*/contracts/*.odcs.yaml"}[kind]
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
    data = yaml.safe_load(text)
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
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


def _load(kind: str, file: Path) -> None:
    if kind == "domain":
        load_domain(file.parent)
    elif kind == "descriptor":
        validate_product(load_yaml(file))
    else:
        load_contract(file)


def _mutants(kind: str, seed: int):
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
            pytest.fail(f"#{n} ({kind} mutated from {source.relative_to(ROOT)}, seed {SEED}) raised "
                        f"{type(exc).__name__}: {exc}\n--- document ---\n{raw[:3000]!r}")
        else:
            outcomes["loaded"] += 1
    # The mutator must exercise both paths, or it is not testing the validation.
    assert outcomes["refused"] > DOCUMENTS_PER_KIND[kind] // 4, outcomes
    assert outcomes["loaded"] > 0, outcomes


def test_the_fuzz_run_covers_at_least_2000_documents():
    assert sum(DOCUMENTS_PER_KIND.values()) >= 2000


def test_shipped_files_load_unmutated(tmp_path):
    for kind in DOCUMENTS_PER_KIND:
        for file in _files(kind):
            if kind == "domain":
                target = tmp_path / file.parent.name
                target.mkdir()
                shutil.copy(file, target / "domain.yaml")
                file = target / "domain.yaml"
            _load(kind, file)
