"""The scaffold's template files (mesh_platform/scaffold/templates/): dbt's own `{{ }}` pass through
as written, a value the caller forgot is an error (not an empty string), and every template
ships with the package."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import jinja2
import pytest

from mesh_platform.scaffold.files import render

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "mesh_platform" / "scaffold" / "templates"


def test_dbt_braces_pass_through_and_our_placeholders_are_filled():
    text = render("profiles.yml.jinja", name="shop")
    assert "path: \"{{ env_var('MESH_DATA_DIR', '../../data') }}/warehouse/shop.duckdb\"" in text
    assert "MESH_BQ_DATASET_SHOP" in text and "[[" not in text and text.endswith("threads: 4\n")


def test_a_join_of_two_ports_lists_one_left_join_each():
    joins = [{"model": f"stg_{i}", "alias": f"r{i}", "on": f"r{i}.a = l.a"} for i in (1, 2)]
    text = render(
        "mart_join.sql.jinja",
        name="n",
        first="d.p.x",
        others=["d.p.y", "d.p.z"],
        select="l.a",
        model="stg_0",
        joins=joins,
    )
    assert text.endswith(
        "from {{ ref('stg_0') }} as l\n"
        "left join {{ ref('stg_1') }} as r1\n    on r1.a = l.a\n"
        "left join {{ ref('stg_2') }} as r2\n    on r2.a = l.a\n"
    )


def test_a_missing_value_is_an_error():
    with pytest.raises(jinja2.UndefinedError):
        render("staging.sql.jinja", port="d.p.x", select="a")  # no contract_id


def test_every_template_ships_with_the_package():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data["mesh_platform.scaffold"]
    files = [p.relative_to(TEMPLATES.parent).as_posix() for p in TEMPLATES.iterdir()]
    assert files and all(any(fnmatch.fnmatch(f, p) for p in patterns) for f in files), (files, patterns)
