"""The versioned-port scheme: v1 keeps the port's name; major version N >= 2 is published beside
it as `<port>_v<N>` with contract `<port-with-dashes>-v<N>` (asset key [domain, product,
<port>_v<N>]). The deprecated version's contract says `status: deprecated` and carries
customProperties `sunsetDate` (ISO date) and `supersededBy` (the new contract id)."""

from __future__ import annotations

import re
from datetime import date

VERSION_SUFFIX = re.compile(r"^(?P<base>.+)_v(?P<major>[0-9]+)$")


def port_base_and_major(port_name: str) -> tuple[str, int | None]:
    match = VERSION_SUFFIX.match(port_name)
    return (match["base"], int(match["major"])) if match else (port_name, None)


def contract_major(version: str | None) -> int | None:
    match = re.match(r"^v?([0-9]+)", str(version or ""))
    return int(match.group(1)) if match else None


def expected_contract_id(port_name: str, version: str | None) -> str:
    base, _ = port_base_and_major(port_name)
    return f"{base.replace('_', '-')}-v{contract_major(version) or 1}"


def sunset_of(port) -> date | None:
    value = port.contract.custom("sunsetDate")
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
