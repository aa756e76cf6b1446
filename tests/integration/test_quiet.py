"""Quiet by default (issue 15): importing psfl and running a command write nothing to stderr
(TensorFlow's C++ start-up lines, CUDA probing and the `cuInit` failure of a machine without a
GPU driver included)."""

from __future__ import annotations

import os
import subprocess
import sys


def _quiet_run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python ARGS`` in a new process, as a user's shell has it (not as conftest sets the
    environment); it must succeed and write nothing to stderr."""
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env,
                          timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return proc


def test_import_psfl_writes_nothing_to_stderr():
    code = ("import psfl, psfl.config, psfl.phy, psfl.phy.digital, psfl.semantic, "
            "psfl.federation, psfl.hil\n"
            "psfl.config.load_config(None)")
    _quiet_run("-c", code, timeout=120)


def test_library_use_that_starts_tensorflow_writes_nothing_to_stderr():
    """Through psfl's API (submodules imported directly, TensorFlow imported by them and by the
    user afterwards), devices discovered, an AWGN and a UMi link run: no TensorFlow line
    reaches stderr."""
    code = ("from psfl.phy import PhyConfig, UplinkLink\n"
            "from psfl.semantic.models import load_codec\n"
            "import tensorflow as tf\n"
            "codec = load_codec('pretrained:csc', channel='awgn')\n"
            "y, no = UplinkLink(PhyConfig(channel='awgn'))(tf.ones([2, 64], tf.complex64), 10.0)\n"
            # Sionna's UMi model makes TensorFlow log a oneDNN notice at ERROR level on first use
            "umi = UplinkLink(PhyConfig(channel='umi', distance_m=50.0, num_ofdm_symbols=1,"
            " pilot_pattern='empty'))\n"
            "umi.simulate(tf.ones([2, umi.num_data_per_slot], tf.complex64), 0.0)\n"
            "assert tf.config.list_physical_devices('CPU')\n"
            "print(codec.k, y.shape)")
    proc = _quiet_run("-c", code)
    assert proc.stdout.split() == ["512", "(2,", "64)"]


def test_a_command_that_runs_tensorflow_writes_nothing_to_stderr(tmp_path):
    proc = _quiet_run("-m", "psfl.cli", "energy", "--distances", "10:50:2", "--out",
                      str(tmp_path / "e"))
    assert "results written to" in proc.stdout
