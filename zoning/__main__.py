"""``python -m zoning``: the command line (:func:`zoning.cli.main`)."""

from .cli import main

main()
