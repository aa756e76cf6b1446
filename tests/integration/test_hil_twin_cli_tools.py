"""libiio's own command-line clients (``iio_attr``, ``iio_reg``, ``iio_readdev``) against the twin.

Skipped where the tools are not installed (Debian/Ubuntu: ``libiio-utils``). Expected values as
in ``test_hil_twin_device.py``: from a real Pluto's context description (pyadi-iio
``test/emu/devices/pluto.xml``, "the dump") and the AD9361 driver's rules.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import numpy as np
import pytest

from psfl.hil.twin import PlutoTwin

TOOLS = ("iio_attr", "iio_reg", "iio_readdev")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS), reason="libiio's CLI tools not installed"
)


@pytest.fixture(scope="module")
def uri() -> Iterator[str]:
    with PlutoTwin(snr_db=None, seed=4) as tw:
        yield tw.uri


def _run(*args: str, ok: bool = True) -> str:
    p = subprocess.run(args, capture_output=True, timeout=30)
    assert (p.returncode == 0) == ok, p.stderr.decode()
    return p.stdout.decode().strip()


def test_iio_attr_reads_and_writes_as_on_a_pluto(uri: str) -> None:
    """``iio_attr -c`` addresses both voltage0 channels of the phy. "600000.0" is a valid
    decimal but below the 2083333 S/s the chip runs without its FIR (EINVAL, as the dump's
    ``sampling_frequency_available`` says); "3000000.0" is accepted as 3000000. The debug
    list holds the driver's 12 attributes and the 167 ``adi,*`` ones; RX2's gain info is
    an error in 1R1T; RSSI reads the dump's 115.00 dB at power-up, 0.00 dB on TX."""
    assert _run("iio_attr", "-u", uri, "-c", "-i", "ad9361-phy", "voltage0", "rssi") == "115.00 dB"
    assert _run("iio_attr", "-u", uri, "-c", "-o", "ad9361-phy", "voltage0", "rssi") == "0.00 dB"
    _run("iio_attr", "-u", uri, "-c", "ad9361-phy", "voltage0", "sampling_frequency", "600000.0",
         ok=False)
    out = _run("iio_attr", "-u", uri, "-c", "ad9361-phy", "voltage0", "sampling_frequency",
               "3000000.0")
    assert out.splitlines() == ["3000000", "3000000"]
    assert len(_run("iio_attr", "-u", uri, "-D", "ad9361-phy").splitlines()) == 179
    _run("iio_attr", "-u", uri, "-D", "ad9361-phy", "gaininfo_rx2", ok=False)
    assert _run("iio_attr", "-u", uri, "-c", "-i", "ad9361-phy", "voltage0",
                "hardwaregain_available") == "[-3 1 71]"


def test_iio_reg_and_iio_readdev(uri: str) -> None:
    """``iio_reg``: the DDS core's version register (the dump: 0x90162) and the AD9361
    product ID (SPI 0x037, bits 7:3 = 0x08). ``iio_readdev`` with nothing transmitted: the
    receiver's noise, not zeros."""
    assert _run("iio_reg", "-u", uri, "cf-ad9361-dds-core-lpc", "0x80000000") == "0x90162"
    assert int(_run("iio_reg", "-u", uri, "ad9361-phy", "0x37"), 16) & 0xF8 == 0x08
    p = subprocess.run(
        ["iio_readdev", "-u", uri, "-s", "4096", "cf-ad9361-lpc", "voltage0", "voltage1"],
        capture_output=True, timeout=30,
    )
    assert p.returncode == 0, p.stderr.decode()
    iq = np.frombuffer(p.stdout, "<i2").reshape(-1, 2).astype(float)
    assert iq.shape == (4096, 2) and 2 < np.sqrt(np.mean(iq**2)) < 40
