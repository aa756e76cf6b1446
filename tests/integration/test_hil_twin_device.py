"""The Pluto twin as the vendor's clients see a Pluto: values, ranges, DDS, noise, registers.

Every test talks to a running twin through pyadi-iio (``adi.Pluto``) or the libiio Python
bindings (``iio.Context``), never through the twin's internals; the expected values come
from the AD9361 documentation or from a real Pluto's context description, cited at each
test. "The dump" below is pyadi-iio's ``test/emu/devices/pluto.xml``: the ``iio_info``
XML of a real Rev.C Pluto (AD9363A, firmware v0.32) that pyadi-iio's emulation tests serve.
"""

from __future__ import annotations

import errno
import gc
from collections.abc import Iterator

import pytest

adi = pytest.importorskip("adi")
iio = pytest.importorskip("iio")

from psfl.hil.twin import PlutoTwin  # noqa: E402

PHY, RXADC, TXDAC = "ad9361-phy", "cf-ad9361-lpc", "cf-ad9361-dds-core-lpc"


@pytest.fixture
def twin() -> Iterator[PlutoTwin]:
    with PlutoTwin("127.0.0.1", 0, snr_db=None, seed=11) as tw:
        yield tw


_OPEN: list = []


@pytest.fixture(autouse=True)
def _release() -> Iterator[None]:
    """Destroy buffers while their context is alive (pylibiio segfaults when a buffer and
    its context die in one collected cycle; see test_hil_twin._release)."""
    yield
    while _OPEN:
        sdr = _OPEN.pop()
        for name in ("tx_destroy_buffer", "rx_destroy_buffer"):
            try:
                getattr(sdr, name)()
            except Exception:
                pass
    gc.collect()


def _pluto(uri: str):
    sdr = adi.Pluto(uri)
    _OPEN.append(sdr)
    return sdr


def _attr(ctx, dev: str, chn: str | None, attr: str, *, output: bool = False):
    """An ``iio`` attribute object: device attribute when ``chn`` is None."""
    d = ctx.find_device(dev)
    if chn is None:
        return d.attrs[attr]
    return d.find_channel(chn, output).attrs[attr]


def _write_errno(attr, text: str) -> int:
    with pytest.raises(OSError) as ei:
        attr.value = text
    return ei.value.errno


# -- 1. decimal values --------------------------------------------------------------------
def test_decimal_values_parsed_like_the_kernel(twin: PlutoTwin) -> None:
    """The sample rate and the DDS settings are ``write_raw`` attributes: the IIO core parses
    them with ``iio_str_to_fixpoint`` (Linux ``drivers/iio/industrialio-core.c``), so a
    decimal such as pyadi's ``str(600000.0)`` is accepted and the driver takes the integer
    part; exponents and hex are not decimals and get EINVAL. The LO frequency is an
    ext_info attribute parsed with ``kstrtoull`` (integers only)."""
    ctx = iio.Context(twin.uri)
    fs = _attr(ctx, PHY, "voltage0", "sampling_frequency")
    fs.value = "2500000.0"
    assert fs.value == "2500000"
    fs.value = "3000000.75"  # the fraction is ignored, as the driver reads val only
    assert fs.value == "3000000"
    for bad in ("3e6", "0x2dc6c0", "fast", ""):
        assert _write_errno(fs, bad) == errno.EINVAL
    assert fs.value == "3000000"
    f1 = _attr(ctx, TXDAC, "altvoltage0", "frequency", output=True)
    f1.value = "3072000.0"
    # read back through the 16-bit phase increment: within one step fs/2^16 of the request
    assert abs(int(f1.value) - 3_072_000) <= 3_000_000 / 65535 + 1
    lo = _attr(ctx, PHY, "altvoltage0", "frequency", output=True)
    assert _write_errno(lo, "2400000000.0") == errno.EINVAL
    # and pyadi's own float path: sample_rate = 600000.0 loads the x4 FIR, then sends "600000.0"
    sdr = _pluto(twin.uri)
    sdr.sample_rate = 600_000.0
    assert sdr.sample_rate == 600_000
