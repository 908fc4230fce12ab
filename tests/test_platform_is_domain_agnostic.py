"""Governance: the platform never names a domain; domains come only from their folders."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_no_domain_name_in_platform_code():
    domains = sorted(p.parent.name for p in (ROOT / "domains").glob("*/domain.yaml"))
    assert domains, "no domains found"
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, domains)) + r")\b", re.IGNORECASE)
    offences = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "mesh_platform").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offences, "domain names in mesh_platform/:\n" + "\n".join(offences)


# The one module allowed to import Dagster's internals: Dagster has no public API for an event-log
# storage class (runtime/event_storage.py says why it needs one; tests/test_event_storage.py fails
# when an upgrade moves what it relies on).
_PRIVATE_DAGSTER_ALLOWED = {"mesh_platform/runtime/event_storage.py"}


def test_platform_uses_only_public_dagster_apis():
    pattern = re.compile(r"^\s*(from|import)\s+dagster(_dbt|_graphql|_webserver)?\._")
    offences = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "mesh_platform").rglob("*.py"))
        if str(path.relative_to(ROOT)) not in _PRIVATE_DAGSTER_ALLOWED
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offences, "private Dagster imports in mesh_platform/:\n" + "\n".join(offences)
    for allowed in _PRIVATE_DAGSTER_ALLOWED:  # no stale entry: each allowed module still needs it
        assert any(pattern.search(line) for line in (ROOT / allowed).read_text().splitlines()), allowed
