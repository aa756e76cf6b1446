"""Quiet by default (issue 15): importing psfl and running a command write nothing to stderr
(TensorFlow's C++ start-up lines, CUDA probing and the `cuInit` failure of a machine without a
GPU driver included)."""

from __future__ import annotations

import os
import subprocess
import sys


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # as a user's shell has it, not as conftest sets it
    return env


def test_import_psfl_writes_nothing_to_stderr():
    code = ("import psfl, psfl.config, psfl.phy, psfl.phy.digital, psfl.semantic, "
            "psfl.federation, psfl.hil\n"
            "psfl.config.load_config(None)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_a_command_that_runs_tensorflow_writes_nothing_to_stderr(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "psfl.cli", "energy", "--distances", "10:50:2",
                           "--out", str(tmp_path / "e")], capture_output=True, text=True,
                          env=_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "results written to" in proc.stdout
