"""Atomic output: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import contextlib
import os
import shutil
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


@contextlib.contextmanager
def output_set(target_dir: str | os.PathLike) -> Iterator[Path]:
    """Yield a staging folder beside ``target_dir``; move its contents in only on success.

    A command writes its whole set of files into the staging folder. When the block ends
    without error, each staged entry replaces the entry of the same name in ``target_dir``
    (other files there, such as another command's outputs, are left alone). When it fails,
    the staging folder is removed and the previous set in ``target_dir`` stays whole.
    """
    from .errors import ZoningError

    target = Path(target_dir)
    if target.exists() and not target.is_dir():
        raise ZoningError(f"{target}: exists and is not a folder; give a folder for --out")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial",
                                      dir=target.parent))
    except OSError as exc:
        raise ZoningError(f"{target}: cannot write here ({exc.strerror or exc})") from exc
    try:
        yield stage
        if not target.exists():
            os.replace(stage, target)  # nothing to keep: the whole folder at once
            return
        for entry in sorted(stage.iterdir()):
            dest = target / entry.name
            if dest.is_dir() and not dest.is_symlink():
                old = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".old",
                                            dir=target))
                os.replace(dest, old / entry.name)
                os.replace(entry, dest)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(entry, dest)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
