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
