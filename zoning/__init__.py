"""zoning: classify village industrial land and household workshops (SPEC.md).

The public surface::

    import zoning
    result = zoning.classify("county.gpkg")            # a path, Sources, Layers or frames
    result.parcels, result.village_parks, result.issues
    zoning.write_classification(result, "out")        # the `zoning classify` folder
    from zoning import Study, compare, sweep           # what-ifs

Data flows one way: layers → measures → rules → classification → outputs (HOUSE.md).
"""

from .classification import Classification, classify
from .config import Config, load_config
from .errors import ConfigError, CRSError, LayerError, ZoningError
from .layers import Layers, Source, load_layers
from .measures import measure
from .outputs import write_classification
from .report import summarise
from .rules import decide
from .scenario import Comparison, Study, compare, sweep, sweep_chart
from .vocab import CLASS_ZH, CLASSES

__version__ = "0.1.0"

__all__ = [
    "CLASSES", "CLASS_ZH", "Classification", "Comparison", "Config", "ConfigError",
    "CRSError", "LayerError", "Layers", "Source", "Study", "ZoningError", "classify",
    "compare", "decide", "load_config", "load_layers", "measure", "summarise", "sweep",
    "sweep_chart", "write_classification",
]
