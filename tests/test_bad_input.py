"""Hostile or broken YAML is refused with a SpecError naming file and line, never a traceback,
a memory blow-up or a hang. One test per case the fuzz run of issue 9 found (the seeded fuzz
test in test_spec_fuzz.py covers the space around them)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mesh_platform.mesh.domain import load_domain
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.yaml_source import MAX_BYTES, load_yaml

ROOT = Path(__file__).resolve().parents[1]
CHECKOUT = ROOT / "domains" / "checkout"
DESCRIPTOR = Path("products") / "web_orders_with_consent" / "dataproduct.yaml"
CONTRACT = Path("products") / "web_orders_with_consent" / "contracts" / "web_orders_with_consent.odcs.yaml"


@pytest.fixture
def domain(tmp_path: Path) -> Path:
    target = tmp_path / "checkout"
    shutil.copytree(CHECKOUT, target)
    return target


def refused(call, file: Path, line: int | None, *words: str):
    with pytest.raises(SpecError) as info:
        call()
    problem = info.value.problems[0]
    assert problem.file == file, str(info.value)
    assert problem.line == line, str(info.value)
    for word in words:
        assert word.lower() in problem.message.lower(), str(info.value)
    assert str(info.value).startswith(f"{file}:{line}:" if line else f"{file}:"), str(info.value)
    return problem


def write(tmp_path: Path, content: bytes | str) -> Path:
    file = tmp_path / "doc.yaml"
    file.write_bytes(content.encode() if isinstance(content, str) else content)
    return file


# --- the YAML layer ----------------------------------------------------------------------


def test_file_that_is_not_utf8(tmp_path):
    file = write(tmp_path, b"name: ok\ndescription: caf\xe9\n")
    refused(lambda: load_yaml(file), file, 2, "not UTF-8", "0xe9")


@pytest.mark.parametrize(
    "value, shown",
    [
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!python/object/apply:os.system ['true']", "!!python/object/apply:os.system"),
        ("!custom 3", "!custom"),
        ("!!int 'abc'", "!!int"),
        ("!!binary aGVsbG8=", "!!binary"),
    ],
)
def test_yaml_tags_are_refused(tmp_path, value, shown):
    file = write(tmp_path, f"name: ok\nvalue: {value}\n")
    refused(lambda: load_yaml(file), file, 2, "tags", shown)


def test_merge_keys_are_refused(tmp_path):
    file = write(tmp_path, "base: {a: 1}\nchild:\n  <<: {a: 2}\n  b: 3\n")
    refused(lambda: load_yaml(file), file, 3, "merge keys")


def test_recursive_alias_is_refused(tmp_path):
    file = write(tmp_path, "name: ok\nloop: &loop [*loop]\n")
    refused(lambda: load_yaml(file), file, 2, "anchors")


def test_alias_bomb_is_refused_before_expansion(tmp_path):
    # "billion laughs": nine levels of nine aliases expand to 9**9 values.
    lines = ['a0: &a0 ["lol"]'] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    file = write(tmp_path, "\n".join(lines) + "\n")
    refused(lambda: load_yaml(file), file, 1, "anchors")


def test_alias_without_anchor_names_its_line(tmp_path):
    file = write(tmp_path, "name: ok\nvalue: *nowhere\n")
    refused(lambda: load_yaml(file), file, 2, "aliases")


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")])
def test_nesting_2000_deep_is_refused(tmp_path, opening, closing):
    file = write(tmp_path, "name: ok\nvalue: " + opening * 2000 + "1" + closing * 2000 + "\n")
    refused(lambda: load_yaml(file), file, 2, "nested more than")


def test_complex_keys_are_refused(tmp_path):
    file = write(tmp_path, "name: ok\n? [a, b]\n: 3\n")
    refused(lambda: load_yaml(file), file, 2, "complex keys")


def test_boolean_key_is_refused_with_a_hint(tmp_path):
    file = write(tmp_path, "name: ok\non: 3\n")
    refused(lambda: load_yaml(file), file, 2, "text key", "quote")


def test_oversized_file_is_refused_without_reading_it(tmp_path):
    file = write(tmp_path, "name: " + "x" * (MAX_BYTES + 1) + "\n")
    refused(lambda: load_yaml(file), file, None, "at most")


def test_control_character_is_refused(tmp_path):
    file = write(tmp_path, "name: ok\nvalue: a\x00b\n")
    refused(lambda: load_yaml(file), file, 2, "U+0000")


def test_a_folder_in_place_of_a_file(tmp_path):
    (tmp_path / "doc.yaml").mkdir()
    refused(lambda: load_yaml(tmp_path / "doc.yaml"), tmp_path / "doc.yaml", None, "cannot read")


# --- values that overflowed or reached the file system ------------------------------------


@pytest.mark.parametrize("value", ["1e400", "1" + "0" * 30, "-5", ".inf", ".nan"])
def test_sla_value_out_of_range(domain, value):
    file = domain / CONTRACT
    text = file.read_text()
    assert text.count("    value: 24\n") == 1
    file.write_text(text.replace("    value: 24\n", f"    value: {value}\n"))
    line = text.splitlines().index("    value: 24") + 1
    refused(lambda: load_contract(file), file, line)


def test_huge_iso_duration(domain):
    file = domain / CONTRACT
    text = file.read_text()
    file.write_text(text.replace("    value: 24\n", "    value: P99999999999999999999D\n"))
    line = text.splitlines().index("    value: 24") + 1
    refused(lambda: load_contract(file), file, line, "at most")


def test_100kb_timezone(domain):
    file = domain / DESCRIPTOR
    text = file.read_text()
    file.write_text(text.replace("timezone: Europe/Berlin", "timezone: " + "A" * 100_000))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "timezone: Europe/Berlin" in t)
    problem = refused(lambda: load_domain(domain), file, line, "timezone")
    assert len(str(problem)) < 1000  # the value is not echoed whole


@pytest.mark.parametrize("path", ["../../etc", "/etc", "dbt_projects/../../etc", "~/x", "C:\\\\dbt"])
def test_dbt_project_outside_the_repository(domain, path):
    file = domain / "domain.yaml"
    file.write_text(file.read_text() + f"dbt_project: '{path}'\n")
    line = len(file.read_text().splitlines())
    refused(lambda: load_domain(domain), file, line, "inside the repository")


@pytest.mark.parametrize(
    "cron, word",
    [
        ("0 5 L * *", "not supported"),  # croniter's last-day extension
        ("0 5 * * 1#2", "not supported"),  # nth weekday
        ("H 5 * * *", "not supported"),  # hashed
        ("0 5 30 2 *", "never fires"),
        ("0 0 5 * * *", "5 fields"),  # seconds
        ("0 25 * * *", "invalid cron"),
    ],
)
def test_cron_outside_dagsters_dialect(domain, cron, word):
    file = domain / DESCRIPTOR
    text = file.read_text()
    file.write_text(text.replace('cron: "0 5 * * *"', f'cron: "{cron}"'))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if 'cron: "0 5 * * *"' in t)
    refused(lambda: load_domain(domain), file, line, word)


def test_contract_frequency_cron_is_checked_too(domain):
    file = domain / CONTRACT
    text = file.read_text()
    assert text.count('schedule: "0 5 * * *"') == 1
    file.write_text(text.replace('schedule: "0 5 * * *"', 'schedule: "0 5 L * *"'))
    line = next(i for i, t in enumerate(text.splitlines(), 1) if 'schedule: "0 5 * * *"' in t)
    refused(lambda: load_contract(file), file, line, "not supported")


def test_contract_file_not_named_odcs_yaml(domain):
    contracts = domain / CONTRACT.parent
    (contracts / "extra.yaml").write_text("kind: DataContract\n")
    refused(lambda: load_domain(domain), contracts / "extra.yaml", None, ".odcs.yaml")


def test_dbt_project_symlink_out_of_the_repository(domain, tmp_path, monkeypatch):
    from mesh_platform import settings

    repo = tmp_path / "repo"
    (repo / "dbt_projects").mkdir(parents=True)
    (repo / "dbt_projects" / "escape").symlink_to("/etc")
    monkeypatch.setattr(settings, "repo_root", lambda: repo)
    file = domain / "domain.yaml"
    file.write_text(file.read_text() + "dbt_project: dbt_projects/escape\n")
    refused(lambda: load_domain(domain), file, len(file.read_text().splitlines()), "symbolic link")
