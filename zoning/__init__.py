"""zoning: classify village industrial land and household workshops (SPEC.md).

The public surface::

    import zoning
    result = zoning.classify("county.gpkg")            # a path, Sources, Layers or frames
    result.parcels, result.village_parks, result.issues
    zoning.write_classification(result, "out")        # the `zoning classify` folder
    from zoning import Study, compare, sweep           # what-ifs

Data flows one way: layers → measures → rules → classification → outputs (HOUSE.md).
"""

from ._version import __version__ as __version__
from .errors import ConfigError, CRSError, LayerError, ZoningError

#: Public names and the module that holds each: imported on first use (PEP 562), so
#: ``zoning --help`` and ``import zoning`` do not load pandas, geopandas and scipy.
_LAZY = {
    "Classification": "classification",
    "classify": "classification",
    "Config": "config",
    "load_config": "config",
    "Layers": "layers",
    "Source": "layers",
    "load_layers": "layers",
    "measure": "measures",
    "summarise": "report",
    "write_classification": "outputs",
    "decide": "rules",
    "Comparison": "scenario",
    "Study": "scenario",
    "compare": "scenario",
    "sweep": "scenario",
    "sweep_chart": "figures",
    "CLASS_ZH": "vocab",
    "CLASSES": "vocab",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CLASSES",
    "CLASS_ZH",
    "Classification",
    "Comparison",
    "Config",
    "ConfigError",
    "CRSError",
    "LayerError",
    "Layers",
    "Source",
    "Study",
    "ZoningError",
    "classify",
    "compare",
    "decide",
    "load_config",
    "load_layers",
    "measure",
    "summarise",
    "sweep",
    "sweep_chart",
    "write_classification",
]
