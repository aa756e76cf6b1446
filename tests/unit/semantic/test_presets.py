"""Codec presets (psfl.semantic.presets): names, families, what each builds, and a preset added by
registering one class."""

from __future__ import annotations

import subprocess
import sys

import pytest

from psfl.semantic.presets import CODECS, Preset, build_codec

#: Parameters at 32x32, k = 512: the shipped weights in psfl/semantic/zoo fit exactly these.
PARAMS = {"csc": 178163, "gsc-s": 134784, "gsc-m": 744736, "gsc-l": 1912192}


def test_names_families_and_the_student():
    from psfl.semantic.config import MODEL_NAMES

    assert CODECS.names() == MODEL_NAMES == ("csc", "gsc-s", "gsc-m", "gsc-l")
    assert CODECS.names(family="gsc") == ("gsc-s", "gsc-m", "gsc-l")
    assert CODECS.names(student=True) == ("csc",)
    for name in CODECS:
        assert CODECS.cls(name).__module__ == "psfl.semantic.presets." + name.replace("-", "_")


def test_listing_presets_loads_no_tensorflow():
    probe = ("import sys; from psfl.semantic.presets import CODECS; "
             "print(CODECS.table('family', 'keras_class', 'architecture')); "
             "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("name", list(PARAMS))
def test_every_preset_builds_with_its_parameter_count(name):
    codec = build_codec(name, 32, k=512)
    assert codec.count_params() == PARAMS[name]
    assert codec.arch == name and codec.family == CODECS.cls(name).family
    assert type(codec) is CODECS.cls(name).codec_class()


class TinyGsc(Preset):
    family = "gsc"
    keras_class = "psfl.semantic.gsc:GSC"
    architecture = {"dim": 16, "depth": 1, "decoder_depth": 1, "heads": 2, "mlp_ratio": 1}
    about = "a test preset"


@pytest.fixture
def tiny():
    CODECS.register("gsc-tiny")(TinyGsc)
    yield "gsc-tiny"
    CODECS._entries.pop("gsc-tiny")


def test_a_registered_preset_builds_and_configures(tiny):
    from psfl.config import load_config
    from psfl.semantic.costs import cost_row

    codec = build_codec(tiny, 32, k_over_n=1 / 6)
    assert codec.arch == tiny and codec.dim == 16 and codec.k == 512
    assert cost_row(codec)["family"] == "gsc" and cost_row(codec)["flops"] > 0
    assert load_config(None, [f"semantic.model={tiny}"]).semantic.model == tiny
    assert tiny in CODECS.names(family="gsc")


def test_unknown_preset_names_the_choices():
    from psfl.config import ConfigError, load_config

    with pytest.raises(ValueError, match=r"unknown codec 'vit'; choose one of csc, gsc-s, gsc-m, "
                                         r"gsc-l \(semantic.model \(--model\)\)"):
        build_codec("vit")
    with pytest.raises(ConfigError, match="semantic.model: unknown codec 'vit'"):
        load_config(None, ["semantic.model=vit"])


def test_a_checkpoint_loads_in_a_fresh_process(tmp_path):
    """load_codec imports the Keras class of every preset before reading a file (models.py no
    longer imports csc.py and gsc.py itself)."""
    path = tmp_path / "gsc-s.keras"
    build_codec("gsc-s", 32, k=512).save(path)
    probe = ("from psfl.semantic.models import load_codec; "
             f"m = load_codec({str(path)!r}, model='gsc-s'); print(type(m).__name__, m.arch)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "GSC gsc-s"
