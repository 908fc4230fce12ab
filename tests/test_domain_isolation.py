"""A broken domain fails only its own code location.

Each case breaks one domain in a copy of the repository's domains, in a way one kind of
cross-domain reader used to trip over (notice periods, agreements, read edges, the catalog's
lineage), and asserts: the broken domain's problem is reported once, under that domain, with
file and line; every other domain still validates (`mesh validate --domain`) and its code
location still loads.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_platform.cli.main import cli
from mesh_platform.dagster_wiring.definitions import build_domain_definitions
from mesh_platform.mesh import Mesh
from mesh_platform.validation import validate_domain

ROOT = Path(__file__).resolve().parent.parent
DOMAINS = sorted(p.parent.name for p in (ROOT / "domains").glob("*/domain.yaml"))


@pytest.fixture
def mesh_root(mesh_data, tmp_path, monkeypatch) -> Path:
    shutil.copytree(ROOT / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "dbt_projects", tmp_path / "dbt_projects", ignore=shutil.ignore_patterns("logs"))
    shutil.copytree(ROOT / "governance", tmp_path / "governance")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    return tmp_path


def _break(root: Path, rel: str, old: str, new: str) -> tuple[Path, int]:
    file = root / rel
    text = file.read_text()
    assert text.count(old) == 1, (rel, old)
    file.write_text(text.replace(old, new))
    written = new.strip("\n").splitlines()[0]
    return file, next(i for i, t in enumerate(file.read_text().splitlines(), 1) if t.strip() == written.strip())


def _only_this_domain_fails(root: Path, broken: str, file: Path, line: int, words: str) -> None:
    mesh = Mesh.load()
    problems = validate_domain(mesh, broken)
    assert problems and all(Path(p.file).is_relative_to(root / "domains" / broken) for p in problems), problems
    assert any(p.file == file and p.line == line and words in p.message for p in problems), problems
    others = [d for d in DOMAINS if d != broken]
    for name in others:
        assert validate_domain(Mesh.load(), name) == [], name

    # `mesh validate`: the neighbour's problem once, under it; every other domain ok.
    result = CliRunner().invoke(cli, ["validate", "--no-prepare"])
    assert result.exit_code == 1, result.output
    errors = [line_ for line_ in result.output.splitlines() if line_.startswith("error ")]
    assert len([e for e in errors if f"{file}:{line}:" in e]) == 1, result.output
    assert all(str(root / "domains" / broken) in e for e in errors), result.output
    for name in others:
        assert f"ok {name}:" in result.output, result.output
        single = CliRunner().invoke(cli, ["validate", "--domain", name, "--no-prepare"])
        assert single.exit_code == 0, single.output
        assert "Traceback" not in single.output

    for name in others:  # and every other code location loads
        defs = build_domain_definitions(root / "domains" / name)
        assert list(defs.resolve_all_asset_specs()), name


BROKERAGE_CONTRACT = "domains/brokerage/products/tenancy_analytics/contracts/current_tenants.odcs.yaml"
CHECKOUT_CONTRACT = "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"


def test_notice_periods_a_neighbours_malformed_notice_period(mesh_root):
    # Read across domains: the longest notice of a product, an agreement's end after notice.
    file, line = _break(mesh_root, BROKERAGE_CONTRACT, "value: P1M\n", "value: 3 months\n")
    _only_this_domain_fails(mesh_root, "brokerage", file, line, "ISO-8601 period")


def test_agreements_a_provider_that_does_not_load(mesh_root):
    # risk provides the port brokerage's agreement names, and asks brokerage for one itself.
    file, line = _break(mesh_root, "domains/risk/domain.yaml", "    - team:risk\n", "    - not an owner\n")
    _only_this_domain_fails(mesh_root, "risk", file, line, "must be an email")


def test_edges_a_producer_that_does_not_load(mesh_root):
    # recommendations reads checkout's (partitioned) port through a dbt source.
    text = (mesh_root / CHECKOUT_CONTRACT).read_text()
    old = next(t for t in text.splitlines() if t.startswith("version:"))
    file, line = _break(mesh_root, CHECKOUT_CONTRACT, f"\n{old}\n", "\nversion: [1, 2]\n")
    _only_this_domain_fails(mesh_root, "checkout", file, line, "")


def test_lineage_the_catalog_leaves_a_broken_domain_out(mesh_root):
    from mesh_platform.catalog.source import load_source

    file, line = _break(
        mesh_root, "domains/recommendations/domain.yaml", "name: recommendations", "name: Recommendations"
    )
    _only_this_domain_fails(mesh_root, "recommendations", file, line, "lower_snake_case")
    source = load_source(Mesh.load())
    assert [str(p) for p in source.problems] == [str(p) for p in Mesh.load().problems_of("recommendations")]
    assert {p.domain for p in source.products} == set(DOMAINS) - {"recommendations"}
    # The lineage between the domains that load is intact: risk reads brokerage, brokerage reads risk.
    reads = {(p.domain, i.address.split(".")[0]) for p in source.products for i in p.inputs}
    assert {("risk", "brokerage"), ("brokerage", "risk")} <= reads

    # `mesh catalog list --format json`: the other domains' products as JSON on stdout, the
    # broken domain's problem on stderr (once), so a script reading stdout still parses it.
    import json

    result = CliRunner().invoke(cli, ["catalog", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert {p["id"].split(".")[0] for p in json.loads(result.stdout)} == set(DOMAINS) - {"recommendations"}
    assert result.stderr.count(f"{file}:{line}:") == 1, result.stderr
