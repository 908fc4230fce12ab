"""The product catalog: what a consumer needs to find, understand and trust a data product.

Built once from the mesh (descriptors, contracts, agreements, policies) and the Dagster
instance (runs, materialisations, check evaluations, freshness state); the CLI, the web app,
the GraphQL API, the JSON endpoints and the static site all read this one model.
Times are ISO-8601 UTC strings so every interface shows the same value.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Health, worst last. "unknown": nothing recorded yet; "n/a": nothing to judge (e.g. no policies);
# "not_evaluated": a check is declared but no run has recorded a verdict (never shown as pass).
HEALTH_ORDER = ("n/a", "pass", "waived", "unknown", "not_evaluated", "warn", "fail")  # waived: a policy exception
NOT_EVALUATED = "not_evaluated"


def worst(states: list[str]) -> str:
    states = [s for s in states if s]
    return max(states, key=HEALTH_ORDER.index) if states else "n/a"


@dataclass
class PortLifecycle:
    """Where a port is in its life on the catalog's date, for whoever decides to read it:
    state, access mode (open | approval-required) and, when deprecated, sunset and replacement."""

    state: str
    access: str
    deprecation_date: str | None = None
    sunset_date: str | None = None
    replaced_by: str | None = None  # a port address
    days_to_sunset: int | None = None  # negative once the sunset has passed
    days_left: str = ""  # the same in words: "81 days left", "sunset today", "sunset passed 2 days ago"

    @property
    def deprecated(self) -> bool:
        return self.state == "deprecated"


@dataclass
class Column:
    name: str
    type: str
    logical_type: str | None
    description: str | None
    required: bool
    unique: bool
    primary_key: bool
    classification: str | None
    pii: bool
    tags: list[str]
    constraints: list[str]
    read_by: list[str] = field(default_factory=list)  # consumer products whose SQL reads the column
    maybe_read_by: list[str] = field(default_factory=list)  # consumers whose reads cannot be seen (Python)


@dataclass
class Terms:
    usage: str | None
    limitations: str | None
    billing: str | None
    notice_period: str | None


@dataclass
class Sla:
    text: str
    freshness: str | None
    freshness_warn: str | None
    deadline: str | None
    frequency: str | None


@dataclass
class Freshness:
    """The port's freshness verdict. `basis` "data": judged when the catalog was built, from the
    newest value of the contract's time column the last run recorded (`data_time`) against the
    SLA; "publication": the Dagster freshness daemon's verdict, "unknown" when it was evaluated
    before the last publication (never a verdict older than the data it describes)."""

    state: str  # pass | warn | fail | unknown
    evaluated_at: str | None
    last_published_at: str | None
    data_time: str | None = None  # when the data is current up to (its newest time value)
    basis: str = "publication"  # data | publication


@dataclass
class CheckResult:
    check: str
    dimension: str
    severity: str  # error | warning
    passed: bool
    timestamp: str
    run_id: str
    failing_count: int | None
    measured: float | None
    threshold: str | None
    description: str | None

    @property
    def state(self) -> str:
        return "pass" if self.passed else ("fail" if self.severity == "error" else "warn")


@dataclass
class DimensionQuality:
    dimension: str
    checks: int
    passed: int
    failed: int
    warned: int
    state: str


@dataclass
class PolicyResult:
    """A policy's verdict on a port, as the last run that evaluated its check recorded it."""

    policy: str
    status: str  # pass | waived | warn | fail | not_evaluated (no run recorded the check)
    message: str
    check: str | None = None  # the Dagster asset check (policy__<name>)
    evaluated_at: str | None = None
    run_id: str | None = None


@dataclass
class Port:
    address: str
    name: str
    product_id: str
    asset_key: list[str]
    description: str | None
    contract_id: str
    contract_version: str
    contract_status: str | None
    contract_file: str
    terms: Terms
    sla: Sla
    freshness: Freshness
    columns: list[Column]
    declared_checks: list[str]  # the contract's checks (Dagster asset check names)
    checks: list[CheckResult]  # the latest evaluation of each check
    quality: list[DimensionQuality]  # the latest checks, by dimension
    policies: list[PolicyResult] | None  # None: no policy engine in this mesh
    rows: int | None
    published_bytes: int | None
    last_published_at: str | None
    dagster_url: str
    catalog_path: str
    lifecycle: PortLifecycle | None = None  # None: a port the catalog has no lifecycle for (a hand-built Catalog)

    @property
    def contract_state(self) -> str:
        return worst([c.state for c in self.checks]) if self.checks else "unknown"

    @property
    def pii(self) -> bool:
        return any(c.pii for c in self.columns)


@dataclass
class Edge:
    """A consumer reads a producer's port: an input port, and an agreement where one exists."""

    consumer: str  # product id
    producer: str  # product id
    port: str  # producer port address
    kind: str  # input_port | within_domain (another product's port, same domain) | agreement
    purpose: str | None = None
    agreement_status: str | None = None
    port_lifecycle: PortLifecycle | None = None  # the producer port's, for an agreement


@dataclass
class Consumer:
    consumer: str
    port: str
    purpose: str | None
    agreement_status: str | None
    runs_30d: int  # the consumer's successful runs in the last 30 days that read the port


@dataclass
class Expense:
    name: str
    description: str
    category: str
    monthly: float
    currency: str


@dataclass
class Cost:
    """Measured (storage, run time, rows) and declared (the descriptor's expenses) cost."""

    published_bytes: int  # every snapshot kept on disk (the live one and the rollback history)
    live_bytes: int  # the current snapshots consumers read
    warehouse_bytes: int | None  # the product's tables in the domain's warehouse; None when busy
    rows: int
    runs_30d: int
    run_seconds_30d: float  # run time attributed to this product (shared runs split evenly)
    compute_monthly: float
    storage_monthly: float
    declared: list[Expense]
    declared_monthly: dict[str, float]  # per currency; empty: nothing declared
    monthly_total: float | None  # None when amounts are in more than one currency (never added up)
    currency: str  # of the rate card: compute and storage
    rates: dict[str, float]
    totals: dict[str, float] = field(default_factory=dict)  # declared + measured, per currency


@dataclass
class Health:
    contract: str
    freshness: str
    policies: str
    overall: str


@dataclass
class Product:
    id: str
    domain: str
    name: str
    title: str
    purpose: str
    usage: str | None
    limitations: str | None
    status: str
    version: str
    lifecycle: dict[str, Any] | None  # state and dates, when the lifecycle model provides them
    archetype: str | None
    maturity: str | None
    quality_level: str | None
    tier: str | None
    tags: list[str]
    owner_team: str
    owners: list[str]
    support: str | None
    schedule: str
    descriptor: str
    ports: list[Port]
    inputs: list[str]  # port addresses this product reads
    input_products: list[str]
    consumers: list[Consumer]
    agreements: list[Edge] | None  # None: no agreements model in this mesh
    policies: list[PolicyResult] | None
    cost: Cost
    health: Health
    dagster_url: str
    catalog_path: str

    @property
    def pii(self) -> bool:
        return any(p.pii for p in self.ports)

    @property
    def classifications(self) -> set[str]:
        return {c.classification for p in self.ports for c in p.columns if c.classification}

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["pii"] = self.pii
        for port, data in zip(self.ports, out["ports"]):
            data["contract_state"] = port.contract_state
            data["pii"] = port.pii
        return out


@dataclass
class Catalog:
    products: list[Product]
    edges: list[Edge]
    domains: dict[str, str]
    generated_at: str
    dagster_url: str
    has_agreements: bool = False
    has_policies: bool = False
    by_id: dict[str, Product] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.products}

    def get(self, product_id: str) -> Product | None:
        return self.by_id.get(product_id)

    def port(self, address: str) -> tuple[Product, Port] | None:
        for product in self.products:
            for port in product.ports:
                if port.address == address:
                    return product, port
        return None
