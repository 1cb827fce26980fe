"""Atomic output: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pyogrio


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it to ``target``.

    Missing parent folders are created. On error the temporary file is removed and a
    previous good ``target`` stays in place.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix,
                               dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL wants to create the file itself
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_layers(target: str | os.PathLike, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write several layers into one GeoPackage atomically (polygons as MultiPolygon)."""
    with atomic_path(target) as tmp:
        for name, gdf in layers.items():
            geom_types = set(gdf.geometry.geom_type.dropna())
            multi = bool(geom_types) and geom_types <= {"Polygon", "MultiPolygon"}
            pyogrio.write_dataframe(gdf, tmp, layer=name, driver="GPKG",
                                    promote_to_multi=multi or None, use_arrow=True)


def write_text(target: str | os.PathLike, text: str, encoding: str = "utf-8") -> None:
    """Write a text file atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding=encoding)
