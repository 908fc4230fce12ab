"""No path escapes: identifiers that become file names, URL paths, table names or Dagster keys
match one safe pattern at load (file:line:field errors), and every writer that builds a path
from them refuses one that leaves its root, even when called directly (defence in depth)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_platform.cli.main import cli
from mesh_platform.mesh.domain import load_domain
from mesh_platform.safe_paths import PathEscape, inside
from mesh_platform.specs.contract import load_contract
from mesh_platform.specs.errors import SpecError
from mesh_platform.specs.identifiers import check_identifier

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = Path("products") / "web_orders_with_consent"
DESCRIPTOR = PRODUCT / "dataproduct.yaml"
CONTRACT = PRODUCT / "contracts" / "web_orders_with_consent.odcs.yaml"

# YAML texts of hostile identifiers: a path that climbs, a slash, whitespace, control characters.
HOSTILE = [
    "../../../../outside/PWNED",
    "a/b",
    "'..'",
    "a..b",
    "'a b'",
    '"a\\tb"',
    '"a\\x07b"',
    '"a\\nb"',
    "/etc/passwd",
    "'C:\\x'",
    "' lead'",
    "''",
    "-x",
    "'" + "x" * 200 + "'",
]


@pytest.fixture
def domain(tmp_path: Path) -> Path:
    target = tmp_path / "domains" / "checkout"
    shutil.copytree(ROOT / "domains" / "checkout", target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _set(file: Path, old: str, new: str) -> int:
    text = file.read_text()
    assert text.count(old) == 1, old
    file.write_text(text.replace(old, new))
    return text[: text.index(old)].count("\n") + 1


def _refused_at(call, file: Path, line: int, field: str) -> None:
    with pytest.raises(SpecError) as info:
        call()
    assert any(
        p.file == file and p.line == line and p.field == field and "identifier" in p.message
        for p in info.value.problems
    ), str(info.value)


@pytest.mark.parametrize("value", HOSTILE)
def test_product_id_is_refused_at_load(domain, value):
    file = domain / DESCRIPTOR
    line = _set(file, "id: checkout.web_orders_with_consent\n", f"id: {value}\n")
    _refused_at(lambda: load_domain(domain), file, line, "id")


@pytest.mark.parametrize(
    "old, new, field",
    [
        ("version: 1.0.0\ndescription:", "version: 1.0/../../x\ndescription:", "version"),
        (
            "    version: 1.0.0\n    contractId: web-orders-with-consent-v1\n",
            "    version: 1.0.0\n    contractId: ../web-orders-with-consent-v1\n",
            "outputPorts[0].contractId",
        ),
        ("    version: 2.0.0\n", "    version: '2.0 0'\n", "outputPorts[1].version"),
    ],
)
def test_descriptor_identifiers_are_refused_at_load(domain, old, new, field):
    file = domain / DESCRIPTOR
    line = _set(file, old, new) + (1 if field.endswith("contractId") else 0)
    _refused_at(lambda: load_domain(domain), file, line, field)


@pytest.mark.parametrize("value", ["../../x", "a/b", "'a b'", '"x\\u0000"'])
def test_contract_id_version_and_table_name_are_refused_at_load(domain, value):
    file = domain / CONTRACT
    text = file.read_text()
    for old, field in (("id: web-orders-with-consent-v1\n", "id"), ("\nversion: 1.0.0\n", "version")):
        file.write_text(text)
        line = _set(file, old, old.replace(old.strip().split(": ")[1], value)) + old.startswith("\n")
        _refused_at(lambda: load_contract(file), file, line, field)
    file.write_text(text)
    line = _set(file, "physicalName: web_orders_with_consent\n", f"physicalName: {value}\n")
    _refused_at(lambda: load_contract(file), file, line, "schema[0].physicalName")


def test_input_port_name_is_refused_at_load(tmp_path):
    target = tmp_path / "recommendations"
    shutil.copytree(ROOT / "domains" / "recommendations", target)
    file = target / "products" / "articles_bought_together" / "dataproduct.yaml"
    text = file.read_text()
    old = next(
        t
        for t in text.splitlines()
        if t.startswith("  - name:")
        and "inputPorts" in text[: text.index(t)]
        and "outputPorts" not in text[: text.index(t)]
    )
    line = _set(file, old + "\n", "  - name: ../../up\n")
    _refused_at(lambda: load_domain(target), file, line, "inputPorts[0].name")


def test_mesh_validate_lint_and_catalog_build_refuse_an_escaping_id(domain, tmp_path, monkeypatch):
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    shutil.copytree(ROOT / "governance", tmp_path / "governance")
    file = domain / DESCRIPTOR
    line = _set(file, "id: checkout.web_orders_with_consent\n", "id: ../../../../outside/PWNED\n")
    where = f"{file}:{line}: id:"
    result = CliRunner().invoke(cli, ["validate", "--no-prepare", "--domain", "checkout"])
    assert result.exit_code == 1 and where in result.output and "Traceback" not in result.output, result.output
    result = CliRunner().invoke(cli, ["lint", "--no-prepare", "--domain", "checkout", "--format", "junit"])
    assert result.exit_code == 1, result.output
    assert f"{file}:{line}: id: expected an identifier" in result.output, result.output
    site = tmp_path / "site"
    result = CliRunner().invoke(cli, ["catalog", "build", "--out", str(site)])
    assert where in result.output.replace("\n", ""), result.output
    assert not list(tmp_path.parent.rglob("PWNED*")), "a file was written outside the site"


@pytest.mark.parametrize("value", ["checkout", "checkout.web_orders", "1.0.0", "orders-v1", "A_b-9.z"])
def test_identifiers_that_are_fine(value):
    assert check_identifier(value) == value


# --- the writers' guard --------------------------------------------------------------------


@pytest.mark.parametrize(
    "parts", [("..", "x"), ("a/../../x",), ("/etc/passwd",), ("products", "../../x.html"), ("a\0b",)]
)
def test_inside_refuses_a_path_out_of_its_root(tmp_path, parts):
    with pytest.raises(PathEscape):
        inside(tmp_path / "site", *parts)


def test_inside_allows_paths_below_the_root(tmp_path):
    assert inside(tmp_path, "products", "a.b.html") == tmp_path / "products" / "a.b.html"
    assert inside(tmp_path, "a/../b") == tmp_path / "a/../b"


def test_writers_refuse_an_escaping_name_when_called_directly(tmp_path, monkeypatch):
    from mesh_platform import settings
    from mesh_platform.catalog.static_site import build_site
    from mesh_platform.lifecycle import archive
    from mesh_platform.scaffold import files

    monkeypatch.setenv("MESH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MESH_ROOT", str(tmp_path / "repo"))
    with pytest.raises(PathEscape):
        settings.published_dir("..", "..", "x")  # every snapshot and its rollback live here
    with pytest.raises(PathEscape):
        settings.landing_dir("../../x")
    with pytest.raises(PathEscape):
        settings.warehouse_path("../x")
    with pytest.raises(PathEscape):
        archive.archived_snapshots("/etc.p.q")
    with pytest.raises(PathEscape):
        archive.archive_port("/tmp.y.z")
    with pytest.raises(PathEscape):
        files.write_file(tmp_path / "repo" / ".." / "PWNED.sql", "select 1")

    class Product:  # just what build_site reads of a product before writing it
        id = "../../PWNED"
        catalog_path = "products/../../PWNED.html"

    class Catalog:
        products = [Product()]

    monkeypatch.setattr("mesh_platform.catalog.pages.render_index", lambda *a, **k: "index")
    monkeypatch.setattr("mesh_platform.catalog.pages.render_map", lambda *a, **k: "map")
    monkeypatch.setattr("mesh_platform.catalog.pages.render_product", lambda *a, **k: "page")
    with pytest.raises(PathEscape):
        build_site(Catalog(), tmp_path / "site")
    assert not list(tmp_path.rglob("PWNED*"))
