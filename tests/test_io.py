"""Atomic outputs: a file, and a whole set of files (issue 12, deliver 4)."""

from __future__ import annotations

import pytest

from zoning._io import atomic_path, output_set
from zoning.errors import ZoningError


def _write_set(folder, text, fail_after=None):
    with output_set(folder) as stage:
        for i, name in enumerate(["a.csv", "b.csv", "sub/c.txt"]):
            if fail_after is not None and i == fail_after:
                raise RuntimeError("writer failed")
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")


def _contents(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_new_folder_gets_the_whole_set(tmp_path):
    _write_set(tmp_path / "out" / "deep", "run1")
    assert _contents(tmp_path / "out" / "deep") == {
        "a.csv": "run1",
        "b.csv": "run1",
        "sub/c.txt": "run1",
    }
    assert [p.name for p in tmp_path.joinpath("out").iterdir()] == ["deep"]


@pytest.mark.parametrize("fail_after", [0, 1, 2])
def test_failed_run_leaves_previous_set_whole(tmp_path, fail_after):
    out = tmp_path / "out"
    _write_set(out, "run1")
    (out / "ledger.gpkg").write_text("another command's file", encoding="utf-8")
    with pytest.raises(RuntimeError):
        _write_set(out, "run2", fail_after=fail_after)
    assert _contents(out) == {
        "a.csv": "run1",
        "b.csv": "run1",
        "sub/c.txt": "run1",
        "ledger.gpkg": "another command's file",
    }
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging folder left
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_successful_run_replaces_its_files_and_keeps_others(tmp_path):
    out = tmp_path / "out"
    _write_set(out, "run1")
    (out / "sub" / "stale.txt").write_text("old", encoding="utf-8")
    (out / "ledger.gpkg").write_text("keep", encoding="utf-8")
    _write_set(out, "run2")
    assert _contents(out) == {
        "a.csv": "run2",
        "b.csv": "run2",
        "sub/c.txt": "run2",
        "ledger.gpkg": "keep",
    }
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.csv", "ledger.gpkg", "sub"]


def test_existing_file_as_output_folder_is_one_line(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(ZoningError, match="not a folder"):
        _write_set(target, "run")
    assert target.read_text(encoding="utf-8") == "x"


def test_output_below_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ZoningError, match="cannot write here"):
        _write_set(tmp_path / "file" / "out", "run")


def test_atomic_path_keeps_previous_file_on_error(tmp_path):
    target = tmp_path / "t.txt"
    target.write_text("good", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("boom")
    assert target.read_text(encoding="utf-8") == "good"
    assert [p.name for p in tmp_path.iterdir()] == ["t.txt"]


def test_gdal_write_failure_is_one_line_and_keeps_the_previous_set(
    tiny_gpkg, tmp_path, monkeypatch
):
    """GDAL reports a full disk as its own error, not an OSError: still one line."""
    import pyogrio
    from click.testing import CliRunner
    from pyogrio.errors import DataSourceError

    from zoning.cli import main

    out = tmp_path / "out"
    assert (
        CliRunner().invoke(main, ["classify", tiny_gpkg, "--out", str(out), "--quiet"]).exit_code
        == 0
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full(*args, **kwargs):
        raise DataSourceError("sqlite3_exec(COMMIT) failed: database or disk is full")

    monkeypatch.setattr(pyogrio, "write_dataframe", full)
    res = CliRunner().invoke(main, ["classify", tiny_gpkg, "--out", str(out), "--quiet"])
    assert res.exit_code == 1 and not isinstance(res.exception, DataSourceError)
    lines = res.output.strip().splitlines()
    assert len(lines) == 1, res.output
    assert lines[0].startswith(f"error: cannot write {out / 'classified.gpkg'} layer")
    assert "disk is full" in lines[0]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
