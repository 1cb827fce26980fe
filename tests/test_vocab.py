"""The words of the domain live in zoning.vocab (HOUSE.md T0): complete, and imported from
there, so the figures no longer pull in the maps, the ledger or folium."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from zoning import vocab

PACKAGE = Path(vocab.__file__).parent


def module_imports(name: str) -> set[str]:
    """The zoning modules a module imports at its top level (not inside functions)."""
    tree = ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("zoning"):
            found.add(node.module.removeprefix("zoning").lstrip(".") or "zoning")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("zoning")}
    return found


def test_vocab_imports_nothing_of_the_package():
    tree = ast.parse((PACKAGE / "vocab.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [(n.module, n.level) for n in imports if isinstance(n, ast.ImportFrom)] == [
        ("__future__", 0)
    ]
    assert not [n for n in imports if isinstance(n, ast.Import)]


@pytest.mark.parametrize(
    ("module", "not_imported"),
    [
        ("figures", {"maps", "ledger", "rules"}),
        ("maps", {"ledger", "rules"}),
        ("report", {"rules"}),
        ("scenario", {"maps"}),
        ("workshops", {"rules"}),
    ],
)
def test_words_come_from_vocab(module, not_imported):
    imports = module_imports(module)
    assert "vocab" in imports
    assert not imports & not_imported


def test_importing_figures_loads_neither_maps_nor_ledger():
    code = (
        "import sys, zoning.figures; "
        "print(sorted({'zoning.maps', 'zoning.ledger', 'folium', 'sqlite3'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_class_has_its_names_and_colour():
    assert set(vocab.RULES.values()) < set(vocab.CLASSES)
    assert set(vocab.RULES) == set(vocab.RULE_ZH) == set(vocab.RULE_TEXT)
    for names in (vocab.CLASS_ZH, vocab.CLASS_EN, vocab.PALETTE):
        assert list(names) == list(vocab.CLASSES)
    workshop_classes = [*vocab.WORKSHOP_CLASSES, "unclassified"]
    for names in (vocab.WORKSHOP_CLASS_ZH, vocab.WORKSHOP_CLASS_EN, vocab.WORKSHOP_PALETTE):
        assert list(names) == workshop_classes
    assert vocab.CLASSES_OF == {
        "parcel": vocab.CLASSES,
        "workshop": tuple(workshop_classes),
        "block": vocab.MODES,
        "site": vocab.REUSES,
    }
    assert set(vocab.KIND_ZH) == set(vocab.CLASSES_OF)
    assert set(vocab.ITEM_CLASS_ZH) == {c for cs in vocab.CLASSES_OF.values() for c in cs}


def test_every_status_has_its_names():
    finals = set(vocab.FINAL_STATUS.values())
    assert set(vocab.STATUS_ZH) == set(vocab.STATUS_EN) == {*vocab.OPEN_STATUSES, *finals}
    assert {cls for kind, cls in vocab.FINAL_STATUS if kind == "parcel"} == set(vocab.CLASSES) - {
        "unclassified"
    }
    assert {cls for kind, cls in vocab.FINAL_STATUS if kind == "workshop"} == set(
        vocab.WORKSHOP_CLASSES
    )
    # SPEC §11: every block is finally renovated, every freed site reused
    assert {s for (kind, _), s in vocab.FINAL_STATUS.items() if kind == "block"} == {"renovated"}
    assert {cls for kind, cls in vocab.FINAL_STATUS if kind == "block"} == set(vocab.MODES)
    assert {s for (kind, _), s in vocab.FINAL_STATUS.items() if kind == "site"} == {"reused"}
    assert {cls for kind, cls in vocab.FINAL_STATUS if kind == "site"} == set(vocab.REUSES)
    assert (vocab.STATUS_ZH["renovated"], vocab.STATUS_ZH["reused"]) == ("已改造", "已利用")
    assert (
        list(vocab.STATUS_GROUPS)
        == list(vocab.STATUS_GROUP_ZH)
        == list(vocab.STATUS_GROUP_EN)
        == [*vocab.OPEN_STATUSES, "final"]
    )


def test_layer_names_and_table_words():
    assert vocab.LAYERS == (
        *vocab.REQUIRED_LAYERS,
        *vocab.OPTIONAL_LAYERS,
        *vocab.WORKSHOP_LAYERS,
        *vocab.BLOCK_LAYERS,
    )
    assert len(set(vocab.LAYERS)) == len(vocab.LAYERS)
    assert vocab.RESERVED_TOWNS == (vocab.TOTAL, vocab.UNKNOWN_TOWN) == ("合计", "(未知)")


def test_block_words():
    assert tuple(vocab.MODE_RULES.values()) == vocab.MODES
    assert tuple(vocab.REUSE_RULES.values()) == vocab.REUSES
    for words in (vocab.MODE_ZH, vocab.MODE_EN, vocab.MODE_PALETTE):
        assert tuple(words) == vocab.MODES
    for words in (vocab.REUSE_ZH, vocab.REUSE_EN, vocab.REUSE_PALETTE):
        assert tuple(words) == vocab.REUSES
