"""`mesh catalog build --out DIR`: the catalog's pages as a static site (for a wiki or a bucket).

The same templates as the web app; the product list filters in the browser, and the JSON the
API serves is written beside the pages (`api/products.json`, `api/products/<id>.json`,
`api/edges.json`) for scripts.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from importlib import resources
from pathlib import Path

from mesh_platform.catalog import pages
from mesh_platform.catalog.model import Catalog
from mesh_platform.safe_paths import inside


def build_site(catalog: Catalog, out: Path) -> list[Path]:
    out = Path(out)
    (out / "products").mkdir(parents=True, exist_ok=True)
    (out / "api" / "products").mkdir(parents=True, exist_ok=True)
    written = []

    def write(relative: str, text: str) -> None:
        path = inside(out, relative)  # a product id is a file name here: it must not climb out
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # a reader of the site never sees half a page
        written.append(path)

    write("index.html", pages.render_index(catalog, sorted(catalog.products, key=lambda p: p.id), static=True))
    write("map.html", pages.render_map(catalog, static=True))
    for product in catalog.products:
        write(product.catalog_path, pages.render_product(catalog, product, static=True))
        write(f"api/products/{product.id}.json", json.dumps(product.to_dict(), indent=2))
    write("api/products.json", json.dumps([p.to_dict() for p in catalog.products], indent=2))
    write("api/edges.json", json.dumps([asdict(e) for e in catalog.edges], indent=2))
    static = resources.files("mesh_platform.catalog").joinpath("static")
    (out / "static").mkdir(exist_ok=True)
    for item in static.iterdir():
        with resources.as_file(item) as source:
            shutil.copyfile(source, out / "static" / item.name)
            written.append(out / "static" / item.name)
    return written
