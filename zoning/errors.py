"""The few named exceptions users see. The CLI prints their message on one line."""

from __future__ import annotations


class ZoningError(Exception):
    """Base class: an expected problem with the user's input or configuration."""


class LayerError(ZoningError):
    """A layer cannot be read or does not meet the data contract (SPEC §3, §7)."""

    def __init__(
        self,
        message: str,
        path: str | None = None,
        layer: str | None = None,
        rows: list | None = None,
    ):
        self.reason = message  # without the place and rows (to re-raise with other rows)
        where = ""
        if path is not None:
            where = f"{path}"
            if layer is not None:
                where += f" layer {layer!r}"
            where += ": "
        elif layer is not None:
            where = f"layer {layer!r}: "
        if rows:
            shown = ", ".join(str(r) for r in rows[:10])
            more = f" (+{len(rows) - 10} more)" if len(rows) > 10 else ""
            message = f"{message} (rows {shown}{more})"
        super().__init__(f"{where}{message}")
        self.path, self.layer, self.rows = path, layer, list(rows or [])


class CRSError(LayerError):
    """A layer's coordinate system is missing, unknown or gives implausible coordinates."""


class ConfigError(ZoningError):
    """The TOML configuration is unreadable or names unknown parameters."""


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of a library's error message (its type if it has none), for the
    one-line errors users see."""
    lines = str(exc).strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:limit]
