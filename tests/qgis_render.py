"""Run by tests/test_qgis.py with Debian's /usr/bin/python3 (which has QGIS), not the venv.

    qgis_render.py GPKG LAYER ID_FIELD VALUE_FIELD [sld]

Opens GPKG|layername=LAYER as QGIS does when a planner drags the file in (the default
style of ``layer_styles`` applied on load), renders it offscreen on white and prints one
JSON object: the renderer type, its column and categories, and for every feature its id,
its value and the colour of the pixel at a point inside it (the point itself for points).
With ``sld`` the layer is drawn with the SLD of its ``layer_styles`` row instead (as a
GIS reading only SLD would draw it).
"""

import json
import sqlite3
import sys
import tempfile

from qgis.core import (
    QgsApplication,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor


def main(path, layer_name, id_field, value_field, mode="qml", size=800):
    layer = QgsVectorLayer(f"{path}|layername={layer_name}", layer_name, "ogr")
    if not layer.isValid():
        raise SystemExit(f"{path}: layer {layer_name} not valid in QGIS")
    if mode == "sld":
        con = sqlite3.connect(path)
        (sld,) = con.execute(
            "SELECT styleSLD FROM layer_styles WHERE f_table_name = ?", (layer_name,)
        ).fetchone()
        con.close()
        with tempfile.NamedTemporaryFile("w", suffix=".sld", encoding="utf-8", delete=False) as f:
            f.write(sld)
        message, ok = layer.loadSldStyle(f.name)
        if not ok:
            raise SystemExit(f"QGIS cannot read the SLD of {layer_name}: {message}")
    renderer = layer.renderer()
    out = {"renderer": renderer.type(), "column": None, "categories": [], "features": []}
    if renderer.type() == "categorizedSymbol":
        out["column"] = renderer.classAttribute()
        out["categories"] = [
            [c.value(), c.label(), c.symbol().color().name().upper()] for c in renderer.categories()
        ]
    extent = layer.extent()
    extent.scale(1.1)
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setExtent(extent)
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererParallelJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    to_pixel = settings.mapToPixel()
    for feature in layer.getFeatures():
        point = to_pixel.transform(feature.geometry().pointOnSurface().asPoint())
        x, y = round(point.x()), round(point.y())
        out["features"].append(
            [str(feature[id_field]), feature[value_field], QColor(image.pixel(x, y)).name().upper()]
        )
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    try:
        main(*sys.argv[1:6])
    finally:
        app.exitQgis()
