"""TOML configuration: packaged defaults, user overrides, field maps, validation."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from zoning.config import DEFAULT_PARAMETERS, load_config
from zoning.errors import ConfigError


def test_defaults_come_from_the_packaged_toml():
    text = resources.files("zoning").joinpath("defaults.toml").read_text(encoding="utf-8")
    assert load_config().parameters == tomllib.loads(text)["parameters"] == DEFAULT_PARAMETERS
    assert set(DEFAULT_PARAMETERS) == {"inside_share_min", "cluster_share_min",
                                       "protected_share_min", "adjacency_gap_m",
                                       "park_contact_m", "scattered_max_mu", "baseline_year"}


def test_user_toml_overrides_and_renames(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text('[parameters]\nadjacency_gap_m = 30\npark_contact_m = 80\n'
                 '[fields.parcels]\nTBBH = "parcel_id"\nZLDWMC = "village"\n', encoding="utf-8")
    cfg = load_config(f, scattered_max_mu=20)
    assert cfg.parameters["adjacency_gap_m"] == 30.0
    assert cfg.parameters["park_contact_m"] == 80.0
    assert cfg.parameters["scattered_max_mu"] == 20.0
    assert cfg.parameters["inside_share_min"] == DEFAULT_PARAMETERS["inside_share_min"]
    assert cfg.fields["parcels"] == {"TBBH": "parcel_id", "ZLDWMC": "village"}


@pytest.mark.parametrize("text,words", [
    ("[parameters]\nadjacency_gap = 3\n", "unknown parameter 'adjacency_gap'"),
    ("[parameters]\npark_contact_m = 'far'\n", "must be a number"),
    ("[parameters]\npark_contact_m = -1\n", "must not be negative"),
    ("[fields.plots]\nA = 'b'\n", "names no known layer"),
    ("[parameters\n", "not valid TOML"),
    ("[rules]\n", "unknown table"),
])
def test_bad_config(tmp_path, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_config(f)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.toml")
