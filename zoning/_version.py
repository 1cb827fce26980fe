"""The version of the package (T0: the run logs and the CLI print it)."""

__version__ = "0.1.0"
