"""Tests of the MCS threshold tables (psfl.phy.digital.calibration) and the monotone selection rule."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from psfl.phy import PhyConfig
from psfl.phy.digital import DigitalBaseline
from psfl.phy.digital import calibration as mt
from psfl.phy.digital.mcs import DEFAULT_THRESHOLDS_DB, MCS_INDICES, monotone_thresholds

K = 512
SHIPPED = ("awgn-perfect-k512", "rayleigh-perfect-k512", "tdl-c-ls-k512")


def test_monotone_rule_by_hand() -> None:
    raw = {6: 3.0, 2: 1.0, 3: 0.5, 4: 2.0, 5: 1.5, 7: math.inf, 8: 4.0}
    assert monotone_thresholds(raw) == {2: 1.0, 3: 1.0, 4: 2.0, 5: 2.0, 6: 3.0, 7: math.inf,
                                        8: math.inf}
    assert list(monotone_thresholds(raw)) == [2, 3, 4, 5, 6, 7, 8]


def test_selection_never_picks_a_higher_mcs_at_a_lower_snr() -> None:
    """The measured Rayleigh table of the old zoo (MCS 6 at 14.25 dB below MCS 5 at 15.0, MCS 10
    at 17.5 below MCS 9 at 18.0) made the count-based rule pick MCS 9 at 17.6 dB, above its own
    threshold; with the running maximum MCS 9 is only used from 18.0 dB on."""
    old = {2: 6.25, 3: 9.25, 4: 11.75, 5: 15.0, 6: 14.25, 7: 14.25, 8: 15.0, 9: 18.0, 10: 17.5,
           11: 19.25, 12: 18.75, 13: 21.0, 14: 22.25, 15: 23.0, 16: 24.5, 17: 24.5, 18: 27.0,
           19: 27.5, 20: 29.0, 21: 29.0, 22: 29.75, 23: 30.0, 24: 31.75, 25: 32.75, 26: 34.0,
           27: 33.75}
    db = DigitalBaseline(K, thresholds_db=old)
    snr = np.arange(0.0, 40.0, 0.05)
    sel = db.select_mcs(snr)
    assert np.all(np.diff(sel) >= 0)
    assert int(db.select_mcs(17.6)) == 8 and int(db.select_mcs(18.0)) == 10
    assert int(db.select_mcs(14.5)) == 4 and int(db.select_mcs(15.0)) == 8
    above = snr >= old[2]  # below every threshold the lowest MCS is used
    assert all(old[int(m)] <= s for m, s in zip(sel[above], snr[above], strict=True))


def test_keys_hold_the_fields_that_matter() -> None:
    awgn = PhyConfig()
    assert mt.table_key(awgn, K) == mt.table_key(dataclasses.replace(
        awgn, num_subcarriers=120, scs_hz=15e3, fft_size=256, snr_db_max=30.0), K)
    assert mt.table_key(awgn, K) != mt.table_key(dataclasses.replace(awgn, num_rx_ant=2), K)
    assert mt.table_key(awgn, K) != mt.table_key(awgn, 256)
    ray = PhyConfig(channel="rayleigh")
    assert mt.table_key(ray, K)["num_subcarriers"] == 72
    assert "speed_mps" not in mt.table_key(ray, K)
    tdl = PhyConfig(channel="tdl-c", csi="ls")
    key = mt.table_key(tdl, K)
    assert {"speed_mps", "delay_spread_s", "ls_freq_window", "cp_length"} <= set(key)
    assert "distance_m" not in key
    assert "distance_m" in mt.table_key(PhyConfig(channel="umi"), K)


def _record(cfg: PhyConfig, k: int, thresholds: dict[int, float]) -> dict:
    return {"key": mt.table_key(cfg, k),
            "thresholds_db": {str(i): v for i, v in monotone_thresholds(thresholds).items()}}


def test_table_is_refused_for_another_numerology(tmp_path) -> None:
    shipped, cache = tmp_path / "shipped", tmp_path / "cache"
    cfg = PhyConfig(channel="rayleigh")
    mt.write_table(shipped / "rayleigh-perfect-k512.json", _record(cfg, K, {2: 7.0, 3: 6.5}))
    assert mt.thresholds_for(cfg, K, shipped=shipped, cache=cache) == {2: 7.0, 3: 7.0}
    other = dataclasses.replace(cfg, num_subcarriers=612, fft_size=1024)
    with pytest.raises(ValueError, match=r"num_subcarriers=72 \(here 612\).*calibrate") as err:
        mt.thresholds_for(other, K, shipped=shipped, cache=cache)
    assert "\n" not in str(err.value)
    # no table at all for this channel/CSI/k: None, the caller decides
    assert mt.thresholds_for(cfg, 256, shipped=shipped, cache=cache) is None
    assert mt.thresholds_for(PhyConfig(channel="tdl-a"), K, shipped=shipped, cache=cache) is None


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_table_loads_for_its_config_and_is_refused_for_another(name: str) -> None:
    path = mt.SHIPPED_DIR / f"{name}.json"
    record = json.loads(path.read_text())
    key = record["key"]
    fields = {f.name for f in dataclasses.fields(PhyConfig)}
    cfg = PhyConfig(**{f: tuple(v) if isinstance(v, list) else v
                       for f, v in key.items() if f in fields})
    th = mt.thresholds_for(cfg, key["k"])
    assert th is not None and sorted(th) == sorted(int(i) for i in record["measured_db"])
    values = [th[i] for i in sorted(th)]
    assert values == sorted(values)  # monotone
    # every finite threshold is above the Shannon limit of its MCS on that channel
    for m in DigitalBaseline(key["k"], thresholds_db=th).mcs_table():
        assert m.threshold_db > 10 * math.log10(2 ** m.spectral_efficiency - 1) - 0.5, m
    other = dataclasses.replace(cfg, num_rx_ant=4)
    with pytest.raises(ValueError, match="num_rx_ant=1 \\(here 4\\).*calibrate"):
        mt.thresholds_for(other, key["k"], cache=mt.SHIPPED_DIR / "none")


def test_calibration_is_cached_per_configuration(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PSFL_CACHE", str(tmp_path / "cache"))
    assert mt.cache_dir() == tmp_path / "cache" / "mcs"
    cfg, k = PhyConfig(), 128
    lines: list[str] = []
    th = mt.thresholds_for(cfg, k, calibrate=True, shipped=tmp_path / "none", log=lines.append,
                           num_blocks=20, resolution_db=2.0, indices=(9,), mode="eager",
                           show_progress=False)
    # near the AWGN table measured with k = 512 (shorter blocks need a little more)
    assert set(th) == {9} and abs(th[9] - DEFAULT_THRESHOLDS_DB[9]) < 3.0
    files = list((tmp_path / "cache" / "mcs").glob("awgn-perfect-k128-*.json"))
    assert len(files) == 1 and "measuring" in lines[0] and str(files[0]) in lines[0]
    record = json.loads(files[0].read_text())
    assert record["key"] == mt.table_key(cfg, k) and record["num_blocks"] == 20

    def no_measuring(*args, **kwargs):
        raise AssertionError("measured again instead of using the cache")

    monkeypatch.setattr(mt, "measure_table", no_measuring)
    assert mt.thresholds_for(cfg, k, calibrate=True, shipped=tmp_path / "none") == th
    # another configuration (two antennas) is not served from that cache entry
    with pytest.raises(AssertionError, match="measured again"):
        mt.thresholds_for(dataclasses.replace(cfg, num_rx_ant=2), k, calibrate=True,
                          shipped=tmp_path / "none")


def test_pathloss_channels_are_not_calibrated(tmp_path) -> None:
    with pytest.raises(ValueError, match="offset to a random link budget"):
        mt.thresholds_for(PhyConfig(channel="uma"), K, calibrate=True, cache=tmp_path,
                          shipped=tmp_path)


def test_all_mcs_indices_are_known() -> None:
    assert MCS_INDICES[0] == 2 and MCS_INDICES[-1] == 27
    assert mt.usable_indices(K) == list(MCS_INDICES)
