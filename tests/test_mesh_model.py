"""The one model: addresses are values that only mesh/address.py parses and formats, and
mesh/ reads nothing above it (specs, settings and a few leaf modules only)."""

from __future__ import annotations

import ast
import copy
import json
import pickle
from pathlib import Path

import pytest

from mesh_platform.mesh import Mesh, PortAddress, ProductAddress
from mesh_platform.mesh.address import scope

PLATFORM = Path(__file__).resolve().parents[1] / "mesh_platform"
# What mesh/ may import: the layers below it. python_tables is a leaf (it imports only modules below).
BELOW_MESH = ("specs", "settings", "safe_paths", "redaction", "importing", "python_tables")
# Imports still to move out of mesh/ (none left). An entry that no longer exempts anything fails
# the test, so the list cannot go stale.
PENDING: set[tuple[str, str]] = set()


def _platform_imports(file: Path) -> set[str]:
    """The platform packages or modules a file imports, inside functions too."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mesh_platform"):
            parts = node.module.split(".")
            found.add(parts[1] if len(parts) > 1 else node.names[0].name)
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("mesh_platform.")}
    return found


def test_mesh_imports_nothing_above_it():
    above, used = [], set()
    for file in sorted((PLATFORM / "mesh").glob("*.py")):
        name = f"mesh/{file.name}"
        for package in _platform_imports(file) - {"mesh", *BELOW_MESH}:
            if (name, package) in PENDING:
                used.add((name, package))
            else:
                above.append(f"{name} imports mesh_platform.{package}")
    assert above == []
    assert used == PENDING, f"exemptions that exempt nothing: {PENDING - used}"


def test_the_leaf_modules_below_mesh_stay_leaves():
    assert _platform_imports(PLATFORM / "python_tables.py") <= {"importing", "settings", "specs"}


def test_an_address_is_its_text_with_its_parts():
    address = PortAddress("sales", "orders", "daily")
    assert address == "sales.orders.daily" and str(address) == "sales.orders.daily"
    assert (address.domain, address.product, address.port) == ("sales", "orders", "daily")
    assert address.product_address == ProductAddress("sales", "orders") == "sales.orders"
    assert json.dumps({"port": address}) == '{"port": "sales.orders.daily"}'
    assert {address: 1}["sales.orders.daily"] == 1
    assert copy.deepcopy(address).port == "daily" and pickle.loads(pickle.dumps(address)) == address
    assert repr(address) == "PortAddress('sales', 'orders', 'daily')"
    # '.' sorts before every name character, so text order is (domain, product, port) order
    assert sorted([PortAddress("a_b", "x", "y"), PortAddress("a", "z", "z")]) == ["a.z.z", "a_b.x.y"]


def test_an_address_cannot_change_or_be_built_from_the_wrong_parts():
    address = PortAddress("sales", "orders", "daily")
    with pytest.raises(AttributeError, match="immutable"):
        address.port = "other"
    with pytest.raises(TypeError, match="takes 3 names"):
        PortAddress("sales", "orders")
    with pytest.raises(TypeError, match="takes 2 names"):
        ProductAddress("sales", None)


@pytest.mark.parametrize("text", ["sales", "sales.orders.daily", "Sales.orders", "sales.", 7])
def test_a_product_address_must_be_two_snake_case_names(text):
    assert ProductAddress.try_parse(text) is None
    with pytest.raises(ValueError, match="<domain>.<product>"):
        ProductAddress.parse(text)


def test_a_column_reference_names_a_port_and_a_column():
    assert PortAddress.column_ref("sales.orders.daily.amount") == (PortAddress("sales", "orders", "daily"), "amount")
    for text in ("orders.amount", "sales.orders.daily", "Sales.orders.daily.amount", "sales.orders.daily.", None):
        assert PortAddress.column_ref(text) is None, text


def test_scope_is_the_narrowest_address():
    assert scope("sales") == "sales"
    assert scope("sales", "orders") == ProductAddress("sales", "orders")
    assert isinstance(scope("sales", "orders", "daily"), PortAddress)


def test_ports_and_products_carry_their_addresses():
    mesh = Mesh.load()
    for port in mesh.ports:
        assert isinstance(port.address, PortAddress)
        assert mesh.port(port.address) is port
        assert port.address.product_address == port.product.address
        assert mesh.product(port.product.address) is port.product
        assert mesh.product(port.product.domain_name, port.product.name) is port.product


def test_declared_consumers_are_input_ports_of_other_domains_that_are_not_retired():
    mesh = Mesh.load()
    declared = mesh.input_edges
    assert declared and all(e.kind == "input_port" and not e.consumer.retired for e in declared)
    for port in mesh.ports:
        consumers = mesh.consumers_of(port.address, declared=True)
        assert all(e.crosses_domains and e.producer == port.address for e in consumers)
        assert {e.consumer_address for e in consumers} <= {e.consumer_address for e in declared}
        for edge in consumers:
            held = mesh.agreements_of(edge)
            assert all(a.provider_port == port.address for a in held)
            assert held == [a for a in mesh.agreements_for(port.address) if a in held]
