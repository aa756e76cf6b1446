"""pyadi-iio's own Pluto hardware tests, run against the twin.

pyadi-iio's repository (not its wheel) carries the tests ADI runs on a real Pluto:
``test/test_pluto_p.py`` names the cases and their parameters, ``test/dma_tests.py`` and
``test/attr_tests.py`` implement them. Point ``PSFL_PYADI_IIO_TESTS`` at a checkout of
pyadi-iio (the directory holding ``test/``) to run the ones that need no RF equipment
against a twin; without it this module is skipped. The cases below are
``test_pluto_p.py``'s, with its parameters; they take about 4 minutes (the four attribute
sweeps 30 s each, the underflow check sleeps 30 s by design).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("adi")
pytest.importorskip("scipy")
ROOT = os.environ.get("PSFL_PYADI_IIO_TESTS")
if not ROOT or not os.path.isfile(os.path.join(ROOT, "test", "dma_tests.py")):
    pytest.skip("PSFL_PYADI_IIO_TESTS does not name a pyadi-iio checkout", allow_module_level=True)

from psfl.hil.twin import PlutoTwin  # noqa: E402

C = "adi.Pluto"


def _loopback_params(lo: int, tx_gain: float) -> dict[str, Any]:
    return dict(tx_lo=lo, rx_lo=lo, gain_control_mode_chan0="slow_attack",
                tx_hardwaregain_chan0=tx_gain, sample_rate=4_000_000)


# (case, module, function, arguments after the URI) as test_pluto_p.py has them
CASES: list[tuple[str, str, str, tuple[Any, ...]]] = [
    ("attr_tx_gain", "attr_tests", "attribute_single_value",
     (C, "tx_hardwaregain_chan0", -89.75, 0.0, 0.25, 0, 100)),
    ("attr_rx_lo", "attr_tests", "attribute_single_value",
     (C, "rx_lo", 325000000, 3800000000, 1, 8, 100)),
    ("attr_tx_lo", "attr_tests", "attribute_single_value",
     (C, "tx_lo", 325000000, 3800000000, 1, 8, 100)),
    ("attr_sample_rate", "attr_tests", "attribute_single_value",
     (C, "sample_rate", 2084000, 61440000, 1, 4, 100)),
    *[(f"attr_loopback_{m}", "attr_tests", "attribute_single_value",
       (C, "loopback", m, m, 1, 0, 0)) for m in (0, 1, 2)],
    ("dma_rx", "dma_tests", "dma_rx", (C, 0)),
    ("dma_tx", "dma_tests", "dma_tx", (C, 0)),
    ("cyclic_buffer", "dma_tests", "cyclic_buffer", (C, 0, _loopback_params(10**9, -20))),
    ("cyclic_buffer_exception", "dma_tests", "cyclic_buffer_exception",
     (C, 0, _loopback_params(10**9, -20))),
    ("dma_loopback", "dma_tests", "dma_loopback", (C, 0)),
    ("sfdr", "dma_tests", "t_sfdr", (C, 0, _loopback_params(10**9, -20), 40)),
    ("dds_loopback", "dma_tests", "dds_loopback",
     (C, _loopback_params(10**9, -30), 0, 1_000_000, 1, -40)),
    *[(f"iq_loopback_{lo // 10**9}GHz", "dma_tests", "cw_loopback",
       (C, 0, _loopback_params(lo, -20))) for lo in (10**9, 2 * 10**9, 3 * 10**9)],
    ("loopback_zeros", "dma_tests", "dma_dac_zeros", (C, 0)),
    ("verify_overflow", "dma_tests", "verify_overflow", (C, 0, 2**20, 600e3)),
    ("verify_underflow", "dma_tests", "verify_underflow", (C, 0, 2**20, 600e3)),
]


@pytest.fixture(scope="module")
def vendor() -> Iterator[Callable[[str, str], Callable[..., None]]]:
    sys.path.insert(0, ROOT)
    try:
        import importlib

        yield lambda module, name: getattr(importlib.import_module(f"test.{module}"), name)
    finally:
        sys.path.remove(ROOT)


@pytest.fixture(scope="module")
def twin() -> Iterator[PlutoTwin]:
    with PlutoTwin(seed=1) as tw:
        yield tw


@pytest.mark.parametrize("case, module, name, args", CASES, ids=[c[0] for c in CASES])
def test_vendor_case(vendor, twin: PlutoTwin, case: str, module: str, name: str,
                     args: tuple[Any, ...]) -> None:
    vendor(module, name)(twin.uri, *args)
    gc.collect()  # the vendor's radios die here, each with its buffers (see test_hil_twin)
