"""zoning: classify village industrial land and household workshops (SPEC.md).

The public surface::

    from zoning import load_config, load_layers, classify_layers, classify_files
    from zoning import classify_frames, summarise
    from zoning import Study, compare, sweep          # what-ifs

Data flows one way: layers → measures → rules → report / maps.
"""

from .classify import Classification, classify_files, classify_frames, classify_layers
from .config import Config, load_config
from .errors import ConfigError, CRSError, LayerError, ZoningError
from .layers import Layers, Source, load_layers
from .measures import measure
from .report import summarise, write_classification
from .rules import decide
from .scenario import Comparison, Study, compare, sweep, sweep_chart
from .vocab import CLASS_ZH, CLASSES

__version__ = "0.1.0"

__all__ = [
    "CLASSES", "CLASS_ZH", "Classification", "Config", "ConfigError", "CRSError", "LayerError",
    "Layers", "Source", "ZoningError", "classify_files", "classify_frames", "classify_layers",
    "decide", "load_config", "load_layers", "measure", "summarise", "write_classification",
    "Study", "Comparison", "compare", "sweep", "sweep_chart",
]
