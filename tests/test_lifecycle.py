"""Lifecycle states and usage agreements, judged over a copy of the example mesh (spec-only:
no dbt, no Dagster run). Time is injected: every rule is judged on a given date."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from mesh_platform.cli.main import cli
from mesh_platform.lifecycle.rules import agreement_status, domain_problems, problems_of_domain, validate
from mesh_platform.mesh import Mesh
from mesh_platform.specs import agreements as ag
from mesh_platform.specs.periods import add_period

ROOT = Path(__file__).resolve().parent.parent
ORDERS = "checkout.web_orders_with_consent.web_orders_with_consent"
ORDERS_AGREEMENT = "recommendations.articles_bought_together.web_orders_with_consent"
TODAY = date(2026, 11, 21)
CONSUMER = "domains/recommendations/products/articles_bought_together/dataproduct.yaml"
CHECKOUT_DESCRIPTOR = "domains/checkout/products/web_orders_with_consent/dataproduct.yaml"
CHECKOUT_CONTRACT = "domains/checkout/products/web_orders_with_consent/contracts/web_orders_with_consent.odcs.yaml"
APPROVALS = "domains/checkout/agreements/approvals.yaml"


@pytest.fixture
def mesh_root(tmp_path, monkeypatch) -> Path:
    """A copy of every domain (YAML only) as the repository root; the date is fixed."""
    shutil.copytree(ROOT / "domains", tmp_path / "domains", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "workspace.yaml", tmp_path / "workspace.yaml")
    monkeypatch.setenv("MESH_ROOT", str(tmp_path))
    monkeypatch.setenv("MESH_TODAY", TODAY.isoformat())
    # The example mesh deprecates the orders port for its v2; these tests start from it active.
    result = CliRunner().invoke(cli, ["product", "activate", ORDERS], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return tmp_path


def mesh(*args: str, today: date | None = None):
    env = {"MESH_TODAY": today.isoformat()} if today else {}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def problems(root: Path, today: date = TODAY) -> list[str]:
    return [str(p) for p in validate(Mesh.load(root / "domains"), today)]


def line_of(root: Path, rel: str, text: str) -> int:
    lines = (root / rel).read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if text in line)


def replace(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    content = path.read_text()
    assert content.count(old) == 1, f"{old!r} not exactly once in {rel}"
    path.write_text(content.replace(old, new))


# --- the example mesh ---------------------------------------------------------------------
def test_every_input_port_of_the_example_mesh_has_an_agreement_in_force(mesh_root):
    view = Mesh.load(mesh_root / "domains")
    edges = [e for e in view.input_edges if e.crosses_domains]
    assert len(edges) == 3
    for edge in edges:
        held = view.agreements_of(edge)
        assert [agreement_status(view, a, TODAY) for a in held] == [ag.ACTIVE], edge.describe()
        assert len(held[0].spec.purpose) > 40
    assert problems(mesh_root) == []


# --- draft ports --------------------------------------------------------------------------
def test_a_draft_product_cannot_be_declared_as_an_input_by_another_domain(mesh_root):
    replace(mesh_root, CHECKOUT_DESCRIPTOR, "status: active", "status: draft")
    found = problems(mesh_root)
    assert len(found) == 1
    line = line_of(mesh_root, CONSUMER, f"value: {ORDERS}")
    assert found[0].startswith(f"{mesh_root / CONSUMER}:{line}:")
    assert f"{ORDERS} is a draft port" in found[0] and "Checkout Team" in found[0]
    # The consumer's code location refuses to load; the producer's own location is fine.
    # Part of the one validation: the consumer's code location refuses to load, the producer's is fine.
    from mesh_platform.mesh import Mesh

    mesh_ = Mesh.load(mesh_root / "domains")
    assert [str(p) for p in domain_problems(mesh_, "recommendations", TODAY)] == found
    assert domain_problems(mesh_, "checkout", TODAY) == []


def test_a_proposed_contract_makes_only_that_port_unpublished(mesh_root):
    replace(mesh_root, CHECKOUT_CONTRACT, "\nstatus: active", "\nstatus: proposed")
    assert any("is a proposed port" in p for p in problems(mesh_root))


# --- agreements ---------------------------------------------------------------------------
def test_an_input_port_without_an_approved_agreement_fails_until_the_provider_approves(mesh_root):
    approvals = mesh_root / APPROVALS
    approvals.write_text(approvals.read_text().split("approvals:")[0] + "approvals: []\n")
    found = problems(mesh_root)
    assert len(found) == 1
    line = line_of(mesh_root, CONSUMER, f"value: {ORDERS}")
    assert found[0].startswith(f"{mesh_root / CONSUMER}:{line}:")
    assert "is pending" in found[0]
    assert "Checkout Team" in found[0] and "Recommendations Team" in found[0]  # both teams named

    result = mesh("agreement", "approve", ORDERS_AGREEMENT, "--by", "checkout-data@example.com")
    assert result.exit_code == 0, result.output
    assert problems(mesh_root) == []


def test_an_input_port_with_no_agreement_at_all_names_both_teams(mesh_root):
    (mesh_root / "domains/recommendations/agreements/articles_bought_together__web_orders_with_consent.yaml").unlink()
    found = problems(mesh_root)
    assert len(found) == 1
    assert "no usage agreement" in found[0]
    assert "Recommendations Team" in found[0] and "Checkout Team" in found[0]
    assert f"{mesh_root / CONSUMER}:" in found[0]


def test_an_open_port_needs_a_request_but_no_approval(mesh_root):
    view = Mesh.load(mesh_root / "domains")
    agreement = view.agreement("risk.entity_ratings.current_tenants")
    assert agreement.approvals == []
    assert agreement_status(view, agreement, TODAY) == ag.ACTIVE
    replace(
        mesh_root,
        "domains/brokerage/products/tenancy_analytics/contracts/current_tenants.odcs.yaml",
        "value: open",
        "value: approval-required",
    )
    assert any("is pending" in p and "Brokerage Team" in p for p in problems(mesh_root))


def test_restricted_columns_require_approval_by_default(mesh_root):
    view = Mesh.load(mesh_root / "domains")
    from mesh_platform.lifecycle.states import access_mode, sensitive_columns

    port = view.port(ORDERS)
    assert sensitive_columns(port) == ["billing_customer_id", "shipping_customer_id"]
    assert access_mode(port) == "approval-required"
    assert access_mode(view.port("recommendations.articles_bought_together.articles_bought_together")) == "open"


def test_termination_with_notice_fails_validation_after_the_notice_period(mesh_root):
    result = mesh(
        "agreement",
        "terminate",
        ORDERS_AGREEMENT,
        "--by",
        "provider",
        "--on",
        "2026-12-01",
        "--reason",
        "consent scope changes",
    )
    assert result.exit_code == 0, result.output
    assert "in force until 2027-03-01" in result.output  # checkout's notice period is P3M
    assert "noticeGiven: 2026-12-01" in (mesh_root / APPROVALS).read_text()
    assert problems(mesh_root, date(2027, 2, 28)) == []
    found = problems(mesh_root, date(2027, 3, 1))
    assert len(found) == 1 and "was terminated by the provider on 2026-12-01" in found[0]
    assert f"{mesh_root / CONSUMER}:" in found[0]


def test_an_agreement_past_its_end_date_fails(mesh_root):
    rel = "domains/recommendations/agreements/articles_bought_together__web_orders_with_consent.yaml"
    replace(mesh_root, rel, "start: 2026-01-05", "start: 2026-01-05\nend: 2026-12-31")
    assert problems(mesh_root, date(2026, 12, 31)) == []
    found = problems(mesh_root, date(2027, 1, 1))
    assert len(found) == 1 and "ended on 2026-12-31" in found[0]


def test_agreement_files_are_checked_with_file_and_line(mesh_root):
    rel = "domains/recommendations/agreements/articles_bought_together__web_orders_with_consent.yaml"
    replace(mesh_root, rel, "start: 2026-01-05", "start: 2026-13-05")
    found = problems(mesh_root)
    assert any(p.startswith(f"{mesh_root / rel}:{line_of(mesh_root, rel, 'start:')}: start:") for p in found), found
    replace(
        mesh_root,
        APPROVALS,
        "    port: checkout.web_orders_with_consent.web_orders_with_consent",
        "    port: risk.entity_ratings.entity_ratings",
    )
    found = problems(mesh_root)
    assert any("is not a port of domain 'checkout'" in p and str(mesh_root / APPROVALS) in p for p in found)


def test_agreement_request_writes_the_consumers_file(mesh_root):
    result = mesh(
        "agreement",
        "request",
        "brokerage.tenant_risk_exposure",
        ORDERS,
        "--input-port",
        "orders",
        "--purpose",
        "Spot tenants that also order from the web shop",
    )
    assert result.exit_code == 0, result.output
    file = mesh_root / "domains/brokerage/agreements/tenant_risk_exposure__orders.yaml"
    view = Mesh.load(mesh_root / "domains")
    agreement = view.agreement("brokerage.tenant_risk_exposure.orders")
    assert agreement.file == file and agreement.provider_port == ORDERS
    assert agreement_status(view, agreement, TODAY) == ag.PENDING
    again = mesh(
        "agreement",
        "request",
        "brokerage.tenant_risk_exposure",
        ORDERS,
        "--input-port",
        "orders",
        "--purpose",
        "Spot tenants that also order from the web shop",
    )
    assert again.exit_code == 1 and "exists already" in again.output


# --- deprecation and retirement -----------------------------------------------------------
def test_deprecation_needs_a_sunset_at_least_the_notice_period_away(mesh_root):
    before = (mesh_root / CHECKOUT_CONTRACT).read_text()
    result = mesh("product", "deprecate", ORDERS, "--sunset", "2027-02-20")
    assert result.exit_code == 1 and "earliest sunset deprecating today (2026-11-21) is 2027-02-21" in result.output
    assert (mesh_root / CHECKOUT_CONTRACT).read_text() == before
    result = mesh(
        "product",
        "deprecate",
        ORDERS,
        "--sunset",
        "2027-03-01",
        "--replaced-by",
        "recommendations.articles_bought_together.articles_bought_together",
    )
    assert result.exit_code == 0, result.output
    assert "recommendations.articles_bought_together reads" in result.output  # the affected consumers
    after = (mesh_root / CHECKOUT_CONTRACT).read_text()
    assert "status: deprecated" in after and "value: 2027-03-01" in after
    # Edited in place: comments and every other line kept.
    changed = [line for line in after.splitlines() if line not in before.splitlines()]
    assert changed[0].startswith("status: deprecated")  # an inline comment on the line stays
    assert changed[1:] == [
        "  - property: deprecatedOn",
        "    value: 2026-11-21",
        "  - property: sunsetDate",
        "    value: 2027-03-01",
        "  - property: replacedBy",
        "    value: recommendations.articles_bought_together.articles_bought_together",
    ]
    removed = [line for line in before.splitlines() if line not in after.splitlines()]
    assert len(removed) == 1 and removed[0].startswith("status: active")
    assert problems(mesh_root) == []  # deprecated is still published
    # Undo: activate restores the file byte for byte.
    assert mesh("product", "activate", ORDERS).exit_code == 0
    assert (mesh_root / CHECKOUT_CONTRACT).read_text() == before


def test_a_hand_written_deprecation_is_checked_against_the_notice_period(mesh_root):
    replace(mesh_root, CHECKOUT_CONTRACT, "\nstatus: active", "\nstatus: deprecated")
    replace(
        mesh_root,
        CHECKOUT_CONTRACT,
        "    value: P3M\n",
        "    value: P3M\n  - property: deprecatedOn\n    value: 2026-11-01\n"
        "  - property: sunsetDate\n    value: 2027-01-01\n",
    )
    found = problems(mesh_root)
    assert len(found) == 1
    assert found[0].startswith(
        f"{mesh_root / CHECKOUT_CONTRACT}:{line_of(mesh_root, CHECKOUT_CONTRACT, 'value: 2027-01-01')}:"
    )
    assert "owed the notice period P3M" in found[0]


def test_retiring_with_a_consumer_left_is_refused_and_fails_validation_naming_it(mesh_root):
    assert mesh("product", "deprecate", ORDERS, "--sunset", "2027-03-01").exit_code == 0
    result = mesh("product", "retire", ORDERS, today=date(2027, 3, 1))
    assert result.exit_code == 1
    assert "recommendations.articles_bought_together (input port 'web_orders_with_consent'" in result.output
    assert "status: deprecated" in (mesh_root / CHECKOUT_CONTRACT).read_text()
    # Retired by hand anyway: validation names the consumer, on both sides.
    replace(mesh_root, CHECKOUT_CONTRACT, "\nstatus: deprecated", "\nstatus: retired")
    found = problems(mesh_root, date(2027, 3, 1))
    producer = [p for p in found if p.startswith(str(mesh_root / CHECKOUT_CONTRACT))]
    consumer = [p for p in found if p.startswith(str(mesh_root / CONSUMER))]
    assert (
        len(producer) == 1
        and "still reads it" in producer[0]
        and "recommendations.articles_bought_together" in producer[0]
    )
    assert len(consumer) == 1 and "is retired" in consumer[0]


def test_retiring_before_the_sunset_is_refused_while_an_agreement_is_in_force(mesh_root):
    assert mesh("product", "deprecate", ORDERS, "--sunset", "2027-03-01").exit_code == 0
    # The consumer goes (deprecated with its own notice, then retired): it no longer reads the port.
    assert (
        mesh("product", "deprecate", "recommendations.articles_bought_together", "--sunset", "2027-01-01").exit_code
        == 0
    )
    assert mesh("product", "retire", "recommendations.articles_bought_together", today=date(2027, 1, 1)).exit_code == 0
    early = mesh("product", "retire", ORDERS, today=date(2027, 2, 1))
    assert early.exit_code == 1 and f"usage agreement {ORDERS_AGREEMENT}" in early.output
    on_time = mesh("product", "retire", ORDERS, today=date(2027, 3, 1))
    assert on_time.exit_code == 0, on_time.output
    assert problems(mesh_root, date(2027, 3, 1)) == []


def test_transitions_follow_the_state_machine(mesh_root):
    result = mesh("product", "retire", ORDERS)
    assert result.exit_code == 1 and "is active; it can become deprecated, not retired" in result.output
    result = mesh("product", "activate", ORDERS)
    assert result.exit_code == 1 and "not active" in result.output
    result = mesh("product", "deprecate", "checkout.nope", "--sunset", "2027-03-01")
    assert result.exit_code == 1 and "no product 'checkout.nope'" in result.output


def test_calendar_periods():
    assert add_period(date(2026, 11, 30), "P3M") == date(2027, 2, 28)
    assert add_period(date(2026, 12, 1), "P1Y") == date(2027, 12, 1)
    assert add_period(date(2026, 12, 1), "P2W") == date(2026, 12, 15)
    with pytest.raises(ValueError, match="ISO-8601 period"):
        add_period(date(2026, 1, 1), "3 months")


def test_problems_belong_to_the_domain_that_must_act(mesh_root):
    replace(mesh_root, CHECKOUT_DESCRIPTOR, "status: active", "status: draft")
    found = validate(Mesh.load(mesh_root / "domains"), TODAY)
    assert problems_of_domain(found, mesh_root / "domains" / "checkout") == []
    assert len(problems_of_domain(found, mesh_root / "domains" / "recommendations")) == 1
