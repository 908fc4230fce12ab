"""The contract compiler's `relationships` rules (a column's values found in another table's):
methods of the compiler's context (compiler._Ctx)."""

from __future__ import annotations

from mesh_platform.contracts.compile_common import _col, _name
from mesh_platform.contracts.model import NO_FAILING_ROWS, CheckSpec
from mesh_platform.mesh.address import PortAddress


class RelationshipRules:
    """Relationship rules of one schema object; `self` is a compiler._Ctx."""

    # --- relationships ----------------------------------------------------------------------

    def relationship_rules(self) -> list[CheckSpec]:
        specs = []
        for r_index, rel in enumerate(self.obj.relationships or []):
            path = (*self.base, "relationships", r_index)
            from_ = rel.from_ if isinstance(rel.from_, list) else [rel.from_]
            specs.append(self.relationship(rel, [self._from_column(f, (*path, "from")) for f in from_], path))
        for name, (i, prop) in self.props.items():
            for r_index, rel in enumerate(prop.relationships or []):
                specs.append(self.relationship(rel, [name], (*self.base, "properties", i, "relationships", r_index)))
        return specs

    def _from_column(self, ref: str, path: tuple) -> str:
        parts = ref.split(".")
        if len(parts) == 2 and parts[0] in (self.table, self.obj.name) and parts[1] in self.props:
            return parts[1]
        if len(parts) == 1 and parts[0] in self.props:
            return parts[0]
        raise self.fail(path, f"expected `{self.table}.<column>` naming a property of {self.table!r}, got {ref!r}")

    def relationship(self, rel, from_cols: list[str], path: tuple) -> CheckSpec:
        if (rel.type or "foreignKey") != "foreignKey":
            raise self.fail((*path, "type"), f"expected 'foreignKey', got {rel.type!r}")
        to = rel.to if isinstance(rel.to, list) else [rel.to]
        if len(to) != len(from_cols):
            raise self.fail((*path, "to"), f"expected {len(from_cols)} target column(s) to match {from_cols}, got {to}")
        targets = [self._target(t, (*path, "to")) for t in to]
        if len({t[0] for t in targets}) != 1:
            raise self.fail((*path, "to"), f"all target columns must be in one table, got {to}")
        target, _ = targets[0]
        to_cols = [c for _, c in targets]
        columns = tuple(from_cols)
        return self.spec(
            columns,
            "relationship",
            f"every ({', '.join(columns)}) exists in {target} ({', '.join(to_cols)})",
            path,
            key_rule=rel.id or "relationship",
            threshold=NO_FAILING_ROWS,
            target=target,
            to_columns=to_cols,
            external=PortAddress.try_parse(target) is not None,
        )

    def _target(self, ref: str, path: tuple) -> tuple[str, str]:
        """(`<domain>.<product>.<port>` or a schema object of this contract, column)."""
        external = PortAddress.column_ref(ref)
        if external is not None:
            return str(external[0]), external[1]
        parts = (ref or "").split(".")
        if len(parts) == 2 and all(parts):
            obj = self.contract.schema_object(parts[0])
            if obj is None:
                raise self.fail(
                    path,
                    f"{parts[0]!r} is not a schema object of this contract; expected "
                    "`<table>.<column>` in this contract or `<domain>.<product>.<port>.<column>`",
                )
            if parts[1] not in {_col(p) for p in obj.properties or []}:
                raise self.fail(path, f"column {parts[1]!r} is not a property of {parts[0]!r}")
            return _name(obj), parts[1]
        raise self.fail(
            path,
            f"expected `<domain>.<product>.<port>.<column>` (another output port) or "
            f"`<table>.<column>` (this contract), got {ref!r}",
        )
