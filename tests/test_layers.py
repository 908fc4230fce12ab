"""Layers that only point down: the package graph of mesh_platform, imports inside functions
counted (they are the ones that hide a cycle), checked against one rank table.

A lower rank may not import a higher one; packages of one rank may import each other as long as
no cycle forms. An import of the platform's own modules inside a function is allowed only for a
reason (a comment on its line or the one before), and only a few of them.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mesh_platform"

# specs -> mesh -> contracts / governance / lifecycle -> publishing -> dagster_wiring -> catalog / cli
RANKS = {
    **dict.fromkeys(["settings", "safe_paths", "redaction", "importing", "published_layout"], 0),
    # python_tables is a leaf: it imports only settings, importing and specs (tests/test_mesh_model.py)
    **dict.fromkeys(["specs", "python_tables"], 1),
    "mesh": 2,
    # validation.py: the one validation, every checker of this rank composed (mesh validate, code locations)
    **dict.fromkeys(["contracts", "governance", "lifecycle", "alerts", "runtime", "validation"], 3),
    "publishing": 4,
    "dagster_wiring": 5,
    **dict.fromkeys(["catalog", "cli", "scaffold", "seeding", "__init__"], 6),
}
MAX_IMPORTS_IN_FUNCTIONS = 15
MAX_MODULE_LINES = 400


@dataclass(frozen=True)
class Import:
    file: Path
    name: str  # the file as shown: relative to the repository
    line: int
    source: str  # the importing package (a RANKS key)
    target: str  # the imported package
    in_function: bool

    def where(self) -> str:
        return f"{self.name}:{self.line}"


def _module_name(file: Path, root: Path) -> str:
    parts = file.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package_of(module: str) -> str:
    """`mesh_platform.contracts.compiler` -> contracts; `mesh_platform` itself -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The mesh_platform modules an import statement loads (relative ones resolved)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        name = ".".join([*base, node.module] if node.module else base)
    else:
        name = node.module or ""
    if name == "mesh_platform":  # `from mesh_platform import settings`: the module named
        return [f"mesh_platform.{alias.name}" for alias in node.names]
    return [name]


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return True
    return False


def platform_imports(package: Path = PACKAGE) -> list[Import]:
    out = []
    for file in sorted(package.rglob("*.py")):
        module = _module_name(file, package.parent)
        name = str(file.relative_to(package.parent))
        tree = ast.parse(file.read_text(), filename=str(file))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = {
                _package_of(t)
                for t in _targets(node, module, file.name == "__init__.py")
                if t == "mesh_platform" or t.startswith("mesh_platform.")
            }
            for target in sorted(targets):
                out.append(Import(file, name, node.lineno, _package_of(module), target, _in_function(node, parents)))
    return out


def _edges(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    edges = defaultdict(list)
    for imp in imports:
        if imp.source != imp.target:
            edges[imp.source, imp.target].append(imp)
    return edges


def cycle_problems(imports: list[Import]) -> list[str]:
    edges = _edges(imports)
    graph = nx.DiGraph(list(edges))
    out = []
    for component in nx.strongly_connected_components(graph):
        if len(component) < 2:
            continue
        inside = sorted((a, b) for a, b in edges if a in component and b in component)
        out.append(
            f"cycle between {', '.join(sorted(component))}:\n"
            + "\n".join(f"  {a} -> {b}: {', '.join(i.where() for i in edges[a, b])}" for a, b in inside)
        )
    return out


def rank_problems(imports: list[Import]) -> list[str]:
    out = []
    for imp in imports:
        for package in (imp.source, imp.target):
            if package not in RANKS:
                out.append(f"{imp.where()}: package {package!r} has no rank in tests/test_layers.py RANKS")
        if imp.source in RANKS and imp.target in RANKS and RANKS[imp.target] > RANKS[imp.source]:
            out.append(
                f"{imp.where()}: {imp.source} (rank {RANKS[imp.source]}) imports {imp.target} "
                f"(rank {RANKS[imp.target]}), which is above it"
            )
    return out


def _has_reason(file: Path, line: int) -> bool:
    lines = file.read_text().splitlines()
    return "#" in lines[line - 1] or (line >= 2 and lines[line - 2].strip().startswith("#"))


def in_function_problems(imports: list[Import], limit: int = MAX_IMPORTS_IN_FUNCTIONS) -> list[str]:
    statements = sorted({(i.file, i.name, i.line) for i in imports if i.in_function})
    out = [
        f"{name}:{line}: an import inside a function needs a comment saying why "
        "(`# lazy: <why>` on its line or the line before)"
        for file, name, line in statements
        if not _has_reason(file, line)
    ]
    if len(statements) > limit:
        out.append(
            f"{len(statements)} imports of mesh_platform modules inside functions (at most {limit}): "
            "hoist them to the module top\n" + "\n".join(f"  {name}:{line}" for _, name, line in statements)
        )
    return out


def long_modules(package: Path = PACKAGE, limit: int = MAX_MODULE_LINES) -> list[str]:
    return [
        f"{file.relative_to(package.parent)}: {n} lines (at most {limit}): split it along its seams"
        for file in sorted(package.rglob("*.py"))
        if (n := len(file.read_text().splitlines())) > limit
    ]


def test_no_import_cycle_between_packages():
    problems = cycle_problems(platform_imports())
    assert not problems, "\n".join(problems)


def test_imports_only_point_down_the_rank_table():
    problems = rank_problems(platform_imports())
    assert not problems, "\n".join(problems)


def test_few_imports_inside_functions_each_with_a_reason():
    problems = in_function_problems(platform_imports())
    assert not problems, "\n".join(problems)


def test_no_module_over_400_lines():
    problems = long_modules()
    assert not problems, "\n".join(problems)


# --- the checks can fail: each fed a small package that breaks it ---------------------------------


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "mesh_platform"
    for name, text in {"__init__.py": "", **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(text)
    return root


def _imports(tmp_path: Path, files: dict[str, str]) -> list[Import]:
    return platform_imports(_package(tmp_path, files))


def test_a_cycle_through_a_function_import_fails(tmp_path):
    imports = _imports(
        tmp_path,
        {
            "contracts/a.py": "from mesh_platform.governance import b\n",
            "governance/b.py": "def f():\n    from ..contracts import a  # lazy: x\n",
        },
    )
    (problem,) = cycle_problems(imports)
    assert "contracts, governance" in problem
    assert "governance -> contracts: " in problem and "governance/b.py:2" in problem
    assert "contracts -> governance: " in problem and "contracts/a.py:1" in problem


def test_an_upward_import_fails_and_names_its_line(tmp_path):
    imports = _imports(
        tmp_path,
        {
            "specs/x.py": '"""doc"""\n\nfrom mesh_platform import settings\nfrom mesh_platform import publishing\n',
            "newthing/y.py": "import mesh_platform.specs.x\n",
        },
    )
    problems = rank_problems(imports)
    assert any("specs/x.py:4: specs (rank 1) imports publishing (rank 4)" in p for p in problems), problems
    assert any("newthing/y.py:1: package 'newthing' has no rank" in p for p in problems), problems
    assert not any("settings" in p for p in problems), problems  # down is fine


def test_function_imports_need_a_reason_and_stay_few(tmp_path):
    reasons = (
        "def f():\n    # lazy: heavy\n    from mesh_platform import settings\n    import mesh_platform.specs  # lazy\n"
    )
    imports = _imports(tmp_path, {"cli/x.py": reasons, "cli/y.py": "def g():\n    from ..specs import z\n"})
    (problem,) = in_function_problems(imports)
    assert problem.startswith("mesh_platform/cli/y.py:2: an import inside a function needs a comment")
    (problem,) = in_function_problems([i for i in imports if i.file.name == "x.py"], limit=1)
    assert problem.startswith("2 imports of mesh_platform modules inside functions (at most 1)")
    assert "mesh_platform/cli/x.py:3" in problem and "mesh_platform/cli/x.py:4" in problem


def test_a_long_module_fails(tmp_path):
    root = _package(tmp_path, {"specs/long.py": "x = 1\n" * 4, "specs/short.py": "x = 1\n"})
    assert long_modules(root, limit=3) == ["mesh_platform/specs/long.py: 4 lines (at most 3): split it along its seams"]
