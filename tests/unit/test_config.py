"""Configuration: defaults, TOML files, overrides and every kind of bad value."""

import pytest

from psfl.config import Config, ConfigError, load_config, parse_override


def test_defaults_are_valid_and_round_trip(tmp_path):
    cfg = load_config()
    assert cfg.data.source == "skimage"
    assert cfg.data.patch_size == 32
    path = tmp_path / "c.toml"
    path.write_text(cfg.to_toml())
    again = load_config(path)
    assert again.to_dict() == cfg.to_dict()


def test_file_and_overrides(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[data]\npatch_size = 16\nalpha = 1\n[run]\nseed = 3\n')
    cfg = load_config(path, ["data.num_mus=7", "data.partition=iid", 'run.out="x y"'])
    assert cfg.data.patch_size == 16
    assert cfg.data.alpha == 1.0 and isinstance(cfg.data.alpha, float)
    assert cfg.data.num_mus == 7
    assert cfg.data.partition == "iid"  # bare word accepted as a string
    assert cfg.run.seed == 3
    assert cfg.run.out == "x y"


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("data.patch_sise=16", "data.patch_sise: unknown key; valid keys in [data] are"),
        ("dta.patch_size=16", "[dta]: unknown section; valid sections are"),
        ("data.patch_size=2", "data.patch_size: 2 is out of range; allowed [8, 512]"),
        ("data.patch_size=16.5", "data.patch_size: expected an integer"),
        ("data.patch_size=true", "data.patch_size: expected an integer"),
        ("data.alpha=0", "data.alpha: 0.0 is out of range; allowed (0.0, inf]"),
        ("data.alpha=nan", "data.alpha: expected a finite number"),
        ("data.source=imagenet", "data.source: 'imagenet' is not allowed; choose one of"),
        ("data.source=cifar10", "data.path: source 'cifar10' needs a path"),
        ("run.seed=-1", "run.seed: -1 is out of range"),
        ("data.stride=7", "data.stride: 7 with data.patch_size = 32 would cut 21x as many"),
        ("data.num_mus=100000", "data.num_mus: 100000 is out of range; allowed [1, 10000]"),
        ("data.patch_size", "expected section.key=value"),
        ("patch_size=3", "expected section.key=value"),
    ],
)
def test_bad_values_name_the_key(override, fragment):
    with pytest.raises(ConfigError) as exc:
        load_config(None, [override])
    assert fragment in str(exc.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\npatch_size = ")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    notable = tmp_path / "notable.toml"
    notable.write_text("data = 3\n")
    with pytest.raises(ConfigError, match=r"\[data\]: expected a table"):
        load_config(notable)


def test_parse_override_types():
    assert parse_override("a.b=1") == ("a", "b", 1)
    assert parse_override("a.b=1.5") == ("a", "b", 1.5)
    assert parse_override("a.b=[1, 2]") == ("a", "b", [1, 2])
    assert parse_override("a.b=hello") == ("a", "b", "hello")


def test_replace_revalidates():
    cfg = load_config()
    cfg2 = cfg.replace("data", patch_size=16)
    assert cfg2.data.patch_size == 16 and cfg.data.patch_size == 32
    with pytest.raises(ConfigError):
        cfg.replace("data", patch_size=1)
    assert isinstance(cfg2, Config)


def test_shipped_configs_are_valid():
    from pathlib import Path

    files = sorted((Path(__file__).parents[2] / "configs").glob("*.toml"))
    assert files, "configs/ must hold example configurations"
    for f in files:
        load_config(f)


def test_chosen_keys_come_from_the_file_and_set(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[data]\npatch_size = 32\n[federation]\nrounds = 5\n")  # both the defaults
    cfg = load_config(path, ["semantic.batch_size=32", "data.patch_size=16"])
    assert cfg.chosen == {"data.patch_size", "federation.rounds", "semantic.batch_size"}
    assert load_config().chosen == frozenset()
    assert Config.from_dict({"data": {"num_mus": 3}}).chosen == frozenset()
    assert Config.from_dict({}, chosen=["data.num_mus"]).chosen == {"data.num_mus"}


def test_replace_keeps_chosen_and_unless_chosen_leaves_them_alone():
    cfg = load_config(None, ["federation.rounds=5", "data.num_mus=4"])  # rounds: the default
    moved = cfg.replace("federation", local_steps=7)
    assert moved.chosen == cfg.chosen  # replace does not make local_steps chosen
    got = moved.unless_chosen({"federation": {"rounds": 1, "local_steps": 2},
                               "data": {"num_mus": 2, "max_train": 10}})
    assert got.federation.rounds == 5 and got.data.num_mus == 4  # the user's, kept
    assert got.federation.local_steps == 2 and got.data.max_train == 10  # the command's
    assert got.chosen == cfg.chosen
    with pytest.raises(ConfigError, match="federation.round: unknown key"):
        cfg.unless_chosen({"federation": {"round": 1}})
    with pytest.raises(ConfigError, match=r"\[fed\]: unknown section"):
        cfg.unless_chosen({"fed": {"rounds": 1}})
