"""The words of the domain live in zoning.vocab (HOUSE.md T0), complete."""

from __future__ import annotations

import ast
from pathlib import Path

from zoning import vocab

PACKAGE = Path(vocab.__file__).parent


def test_vocab_imports_nothing_of_the_package():
    tree = ast.parse((PACKAGE / "vocab.py").read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    assert [(n.module, n.level) for n in imports if isinstance(n, ast.ImportFrom)] == [
        ("__future__", 0)]
    assert not [n for n in imports if isinstance(n, ast.Import)]


def test_every_class_has_its_names_and_colour():
    assert set(vocab.RULES.values()) < set(vocab.CLASSES)
    assert set(vocab.RULES) == set(vocab.RULE_ZH) == set(vocab.RULE_TEXT)
    for names in (vocab.CLASS_ZH, vocab.CLASS_EN, vocab.PALETTE):
        assert list(names) == list(vocab.CLASSES)
    workshop_classes = [*vocab.WORKSHOP_CLASSES, "unclassified"]
    for names in (vocab.WORKSHOP_CLASS_ZH, vocab.WORKSHOP_CLASS_EN, vocab.WORKSHOP_PALETTE):
        assert list(names) == workshop_classes
    assert vocab.CLASSES_OF == {"parcel": vocab.CLASSES, "workshop": tuple(workshop_classes)}


def test_every_status_has_its_names():
    finals = set(vocab.FINAL_STATUS.values())
    assert set(vocab.STATUS_ZH) == set(vocab.STATUS_EN) == {*vocab.OPEN_STATUSES, *finals}
    assert {cls for kind, cls in vocab.FINAL_STATUS if kind == "parcel"} == \
        set(vocab.CLASSES) - {"unclassified"}
    assert {cls for kind, cls in vocab.FINAL_STATUS if kind == "workshop"} == \
        set(vocab.WORKSHOP_CLASSES)
    assert list(vocab.STATUS_GROUPS) == list(vocab.STATUS_GROUP_ZH) == \
        list(vocab.STATUS_GROUP_EN) == [*vocab.OPEN_STATUSES, "final"]


def test_layer_names_and_table_words():
    assert vocab.LAYERS == (*vocab.REQUIRED_LAYERS, *vocab.OPTIONAL_LAYERS,
                            *vocab.WORKSHOP_LAYERS)
    assert len(set(vocab.LAYERS)) == len(vocab.LAYERS)
    assert vocab.RESERVED_TOWNS == (vocab.TOTAL, vocab.UNKNOWN_TOWN) == ("合计", "(未知)")
