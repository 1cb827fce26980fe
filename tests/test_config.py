"""TOML configuration: packaged defaults, user overrides, field maps, validation."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from zoning.config import DEFAULT_PARAMETERS, DEFAULT_RULES, Config, load_config
from zoning.errors import ConfigError


def test_defaults_come_from_the_packaged_toml():
    text = resources.files("zoning").joinpath("defaults.toml").read_text(encoding="utf-8")
    assert load_config().parameters == tomllib.loads(text)["parameters"] == DEFAULT_PARAMETERS
    assert set(DEFAULT_PARAMETERS) == {
        "inside_share_min",
        "cluster_share_min",
        "protected_share_min",
        "adjacency_gap_m",
        "park_contact_m",
        "scattered_max_mu",
        "baseline_year",
    }


def test_every_default_lives_in_the_packaged_toml():
    """[workshops], [grading] and [assessment] too: the defaults a config starts from are
    exactly the packaged file's, every key of every rule table has one, and a bare
    Config() carries the same."""
    text = resources.files("zoning").joinpath("defaults.toml").read_text(encoding="utf-8")
    packaged = tomllib.loads(text)
    cfg, bare = load_config(), Config()
    for table, rules in DEFAULT_RULES.items():
        assert set(packaged[table]) == set(rules), table
        assert getattr(cfg, table) == packaged[table] == getattr(bare, table), table
    assert cfg.workshops["x"] == "lon" and cfg.workshops["y"] == "lat"  # a list's columns
    assert cfg.workshops["other_town_penalty_m"] == 0.0  # SPEC §6: no same-town preference


def test_a_user_workshops_table_overrides_only_its_keys(tmp_path):
    (tmp_path / "w.toml").write_text(
        '[workshops]\nx = "经度"\nmax_floor_area_m2 = 5000\n', encoding="utf-8"
    )
    cfg = load_config(tmp_path / "w.toml")
    assert cfg.workshops["x"] == "经度" and cfg.workshops["max_floor_area_m2"] == 5000.0
    assert {k: v for k, v in cfg.workshops.items() if k not in ("x", "max_floor_area_m2")} == {
        k: v for k, v in load_config().workshops.items() if k not in ("x", "max_floor_area_m2")
    }


def test_user_toml_overrides_and_renames(tmp_path):
    f = tmp_path / "a.toml"
    f.write_text(
        "[parameters]\nadjacency_gap_m = 30\npark_contact_m = 80\n"
        '[fields.parcels]\nTBBH = "parcel_id"\nZLDWMC = "village"\n',
        encoding="utf-8",
    )
    cfg = load_config(f, scattered_max_mu=20)
    assert cfg.parameters["adjacency_gap_m"] == 30.0
    assert cfg.parameters["park_contact_m"] == 80.0
    assert cfg.parameters["scattered_max_mu"] == 20.0
    assert cfg.parameters["inside_share_min"] == DEFAULT_PARAMETERS["inside_share_min"]
    assert cfg.fields["parcels"] == {"TBBH": "parcel_id", "ZLDWMC": "village"}


@pytest.mark.parametrize(
    "text,words",
    [
        ("[parameters]\nadjacency_gap = 3\n", "unknown parameter 'adjacency_gap'"),
        ("[parameters]\npark_contact_m = 'far'\n", "must be a number"),
        ("[parameters]\npark_contact_m = -1\n", "must not be negative"),
        ("[fields.plots]\nA = 'b'\n", "names no known layer"),
        ("[parameters\n", "not valid TOML"),
        ("[rules]\n", "unknown table"),
    ],
)
def test_bad_config(tmp_path, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        load_config(f)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "none.toml")


def _load(tmp_path, text, name="bad.toml", encoding="utf-8"):
    f = tmp_path / name
    f.write_text(text, encoding=encoding)
    return load_config(f)


@pytest.mark.parametrize(
    "text,words",
    [
        # not finite
        (
            "[parameters]\nadjacency_gap_m = nan\n",
            r"\[parameters\] adjacency_gap_m must be a finite",
        ),
        ("[parameters]\npark_contact_m = inf\n", r"\[parameters\] park_contact_m must be a finite"),
        ("[parameters]\ninside_share_min = -inf\n", "must be a finite number"),
        # negative, shares outside [0, 1]
        ("[parameters]\nscattered_max_mu = -3\n", "scattered_max_mu must not be negative"),
        (
            "[parameters]\ninside_share_min = 1.5\n",
            r"inside_share_min is out of range: it must be "
            r"a number from 0 to 1",
        ),
        ("[parameters]\ncluster_share_min = -0.1\n", "cluster_share_min must not be negative"),
        ("[parameters]\nprotected_share_min = 2\n", "protected_share_min is out of range"),
        # years: whole, in a sane range
        (
            "[parameters]\nbaseline_year = 2021.5\n",
            r"baseline_year must be a whole number "
            r"from 1949 to 2100 \(year\), got 2021.5",
        ),
        ("[parameters]\nbaseline_year = 1e12\n", "baseline_year is out of range"),
        ("[parameters]\nbaseline_year = 1800\n", "baseline_year is out of range"),
        ("[parameters]\nbaseline_year = true\n", "baseline_year must be a whole number"),
        # distances have an upper bound (a 1e9 m gap ran for minutes)
        (
            "[parameters]\nadjacency_gap_m = 1e9\n",
            r"adjacency_gap_m is out of range: it must be "
            r"a number from 0 to 1000 m, got 1000000000.0",
        ),
        ("[parameters]\npark_contact_m = 20000\n", "park_contact_m is out of range.*0 to 10000 m"),
        ("[parameters]\nscattered_max_mu = 1e7\n", "scattered_max_mu is out of range"),
        # tables where tables belong
        ("parameters = 5\n", r"\[parameters\] must be a table"),
        ("workshops = 'x'\n", r"\[workshops\] must be a table"),
        ("grading = [1, 2]\n", r"\[grading\] must be a table"),
        ("assessment = 1\n", r"\[assessment\] must be a table"),
        ("crs = 5\n", r"\[crs\] must map names to text"),
        ("encoding = 'gbk'\n", r"\[encoding\] must map names to text"),
        ("fields = 5\n", r"\[fields\] must hold one table per layer"),
        ("[fields]\nparcels = 'TBBH'\n", r"\[fields.parcels\] must map names to text"),
        # the analysis CRS: known, projected, in metres
        ("[crs]\nanalysis = 'EPSG:99999'\n", r"\[crs\] analysis = 'EPSG:99999' is not a known CRS"),
        (
            "[crs]\nanalysis = 'EPSG:4490'\n",
            r"is geographic \(degrees\); the analysis CRS must be "
            r"projected in metres",
        ),
        ("[crs]\nanalysis = 'EPSG:4326'\n", "is geographic"),
        ("[crs]\nanalysis = 'EPSG:2249'\n", "not projected in metres"),  # US survey feet
        ("[crs]\nanalysis = 'GCJ-02'\n", "GCJ-02 is a display shift"),
        ("[crs]\nparcels = 'EPSG:12345678'\n", r"\[crs\] parcels = 'EPSG:12345678' is not a known"),
        ("[crs]\nplots = 'EPSG:4490'\n", r"unknown \[crs\] key 'plots'"),
        ("[encoding]\nparcels = 'klingon'\n", r"\[encoding\] parcels = 'klingon' is not a known"),
        # field maps
        ("[fields.parcels]\nSHAPE = 'geometry'\n", "'geometry' is the geometry column"),
        (
            "[fields.parcels]\nTBBH = 'parcel_id'\nBSM = 'parcel_id'\n",
            "TBBH and BSM are both mapped to 'parcel_id'",
        ),
        ("[fields.parcels]\nTBBH = ''\n", "mapped to an empty name"),
        # the other tables
        ("[workshops]\nmip_rel_gap = 2\n", r"\[workshops\] mip_rel_gap is out of range"),
        ("[workshops]\ntime_limit_s = nan\n", r"\[workshops\] time_limit_s must be a finite"),
        ("[workshops]\nunplaced_penalty_m = -1\n", "unplaced_penalty_m must not be negative"),
        ("[workshops]\nx = 3\n", r"\[workshops\] x must be text"),
        (
            "[workshops]\nmax_floor_area_m2 = 0\n",
            r"\[workshops\] max_floor_area_m2 is out of range",
        ),
        ("[workshops]\nmax_floor_area_m2 = 1e9\n", "max_floor_area_m2 is out of range"),
        ("[grading]\nquota_a = 0.9\n", "quotas must rise"),
        ("[grading]\ntax_per_mu = inf\n", r"\[grading\] tax_per_mu must be a finite"),
        ("[assessment]\nparcel_weight = -0.6\n", r"\[assessment\] parcel_weight must not be neg"),
    ],
)
def test_every_config_value_is_checked(tmp_path, text, words):
    with pytest.raises(ConfigError, match=words) as err:
        _load(tmp_path, text)
    assert str(err.value).startswith(str(tmp_path / "bad.toml") + ":")  # names the file
    assert "\n" not in str(err.value)


def test_good_values_at_the_edges_are_accepted(tmp_path):
    cfg = _load(
        tmp_path,
        "[parameters]\nadjacency_gap_m = 1000\npark_contact_m = 0\n"
        "inside_share_min = 1\nbaseline_year = 2021.0\n"
        "[crs]\nanalysis = 'EPSG:32651'\nworkshops = 'gcj02'\n"
        "[encoding]\nparcels = 'GB18030'\n",
        name="ok.toml",
    )
    assert cfg.parameters["adjacency_gap_m"] == 1000.0
    assert cfg.parameters["baseline_year"] == 2021 and isinstance(
        cfg.parameters["baseline_year"], int
    )
    assert cfg.crs["analysis"] == "EPSG:32651"


def test_two_files_may_not_map_two_fields_to_one_name(tmp_path):
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text("[fields.parcels]\nTBBH = 'parcel_id'\n", encoding="utf-8")
    b.write_text("[fields.parcels]\nBSM = 'PARCEL_ID'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"b\.toml: \[fields.parcels\] TBBH and BSM"):
        load_config(a, b)
    b.write_text("[fields.parcels]\nTBBH = 'village'\nBSM = 'parcel_id'\n", encoding="utf-8")
    assert load_config(a, b).fields["parcels"] == {"TBBH": "village", "BSM": "parcel_id"}


def test_a_toml_with_a_byte_order_mark_is_read(tmp_path):
    cfg = _load(
        tmp_path, "[parameters]\nadjacency_gap_m = 30\n", name="bom.toml", encoding="utf-8-sig"
    )
    assert (tmp_path / "bom.toml").read_bytes()[:3] == b"\xef\xbb\xbf"
    assert cfg.parameters["adjacency_gap_m"] == 30.0


def test_a_folder_as_config_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="is a folder, not a config file"):
        load_config(tmp_path)


def test_overrides_are_checked_like_files():
    from zoning.config import Config

    with pytest.raises(ConfigError, match="overrides: .*adjacency_gap_m must be a finite"):
        Config().with_parameters(adjacency_gap_m=float("nan"))
    with pytest.raises(ConfigError, match="baseline_year is out of range"):
        load_config(baseline_year=99999)


def test_the_rule_table_covers_every_default_and_defaults_toml_states_the_ranges():
    from zoning.config import ASSESSMENT_RULES, GRADING_RULES, PARAMETER_RULES

    defaults = tomllib.loads(
        resources.files("zoning").joinpath("defaults.toml").read_text(encoding="utf-8")
    )
    assert set(PARAMETER_RULES) == set(defaults["parameters"])
    assert set(GRADING_RULES) == set(defaults["grading"])
    assert set(ASSESSMENT_RULES) == set(defaults["assessment"])
    text = resources.files("zoning").joinpath("defaults.toml").read_text(encoding="utf-8")
    lines = {line.split("=")[0].strip(): line for line in text.splitlines() if "=" in line}
    for name, rule in PARAMETER_RULES.items():
        assert f"# {rule.low:g}–{rule.high:g}" in lines[name], name  # the comment says it
        assert rule.low <= defaults["parameters"][name] <= rule.high


def test_tables_with_defaults_are_typed_and_read_only():
    """Issue 14 item 7: each table of defaults is a frozen, typed object that still reads
    as a mapping; assignment raises; a change is a checked copy."""
    import dataclasses

    from zoning.config import DEFAULTS, SECTIONS, Workshops

    cfg = load_config()
    assert isinstance(cfg.workshops, Workshops)
    assert cfg.workshops.unplaced_penalty_m == cfg.workshops["unplaced_penalty_m"] == 100000.0
    assert cfg.parameters.baseline_year == 2021 and isinstance(cfg.parameters.baseline_year, int)
    assert dict(cfg.blocks) == dict(DEFAULTS["blocks"]) and {**cfg.freed} == dict(cfg.freed)
    for table, cls in SECTIONS.items():  # one class per table, its fields the rules' keys
        assert set(cls.names()) == set(DEFAULT_RULES[table]), table
        assert getattr(cfg, table) == getattr(Config(), table) == DEFAULTS[table], table
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.workshops.time_limit_s = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        cfg.workshops["time_limit_s"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError):
        DEFAULTS["parameters"]["adjacency_gap_m"] = 1.0  # type: ignore[index]
    quick = cfg.with_table("workshops", time_limit_s=1.0)
    assert quick.workshops.time_limit_s == 1.0 and cfg.workshops.time_limit_s == 600.0
    assert quick.workshops.x == cfg.workshops.x and quick.parameters == cfg.parameters
    with pytest.raises(ConfigError, match="time_limit_s must not be negative"):
        cfg.with_table("workshops", time_limit_s=-1)
    with pytest.raises(ConfigError, match="unknown \\[workshops\\] key 'tme_limit_s'"):
        cfg.with_table("workshops", tme_limit_s=1.0)
    with pytest.raises(ConfigError, match="unknown table"):
        cfg.with_table("rules", x=1)
    assert cfg.with_parameters(adjacency_gap_m=30).parameters.adjacency_gap_m == 30.0


def test_maps_of_a_config_are_read_only_and_a_given_dict_is_checked(tmp_path):
    import pickle

    f = tmp_path / "a.toml"
    f.write_text(
        '[fields.parcels]\nTBBH = "parcel_id"\n[crs]\nparcels = "EPSG:4490"\n'
        '[[campaigns]]\nname = "服装"\nindustries = ["服装*"]\n',
        encoding="utf-8",
    )
    cfg = load_config(f)
    for write in (
        lambda: cfg.fields.__setitem__("x", {}),
        lambda: cfg.fields["parcels"].__setitem__("A", "b"),
        lambda: cfg.crs.__setitem__("analysis", "EPSG:4549"),
        lambda: cfg.campaigns[0].__setitem__("name", "x"),
    ):
        with pytest.raises((TypeError, AttributeError)):
            write()
    assert cfg.fields == {"parcels": {"TBBH": "parcel_id"}} and cfg.crs["parcels"] == "EPSG:4490"
    again = pickle.loads(pickle.dumps(cfg))  # worker processes get a pickled config
    assert again == cfg and again.workshops.x == "lon" and again.fields["parcels"]["TBBH"]
    # a dict given to Config() is frozen and checked by the same rules as a file
    given = Config(crs={"analysis": "EPSG:4549"}, workshops={"time_limit_s": 5.0})
    assert given.workshops.time_limit_s == 5.0 and given.workshops.x == "lon"
    with pytest.raises(TypeError):
        given.crs["analysis"] = "EPSG:4490"  # type: ignore[index]
    with pytest.raises(ConfigError, match="out of range"):
        Config(parameters={"inside_share_min": 2.0})


def test_typed_tables_rules_and_defaults_name_the_same_keys():
    """A key added to defaults.toml needs its rule and its typed field (and back)."""
    import dataclasses
    import tomllib
    from importlib import resources

    from zoning import config as cfg

    packaged = tomllib.loads((resources.files("zoning") / "defaults.toml").read_text("utf-8"))
    for cls in cfg.Section.__subclasses__():
        typed = {f.name for f in dataclasses.fields(cls)}
        assert typed == set(cfg.DEFAULT_RULES[cls.TABLE]) == set(packaged[cls.TABLE]), cls
    assert {c.TABLE for c in cfg.Section.__subclasses__()} == set(cfg.DEFAULT_RULES)
