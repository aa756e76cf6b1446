"""A Pluto's attribute values after power-up, and the reads its driver fails, as data.

Values are those of a real Rev.C Pluto's context description (pyadi-iio
``test/emu/devices/pluto.xml``, "the dump"), except where the twin differs on purpose
(its crystal reads the nominal 40 MHz, not that unit's calibrated 40000159 Hz). Values are
stored unformatted (:mod:`psfl.hil.pluto_rules` prints them); a DDS tone stores its
registers (phase increment, 16-bit phase word). Attributes the dump reads as ``ERROR`` are
in :data:`READ_ERRORS`. Pure data.
"""

from __future__ import annotations

import errno

from psfl.hil.pluto_adi_debug import ADI_DEBUG_DEFAULTS
from psfl.hil.pluto_model import PHY, PHY_DEBUG_ATTRS, RXADC, TXDAC

__all__ = ["DEFAULTS", "READ_ERRORS", "XADC_DEFAULTS"]

_TRACKING = ("bb_dc_offset_tracking_en", "quadrature_tracking_en", "rf_dc_offset_tracking_en")
_ADC_CHN = {"calibbias": "0", "calibphase": "0.000000", "calibscale": "1.000000"}
_DMA_BUFFER = {"data_available": "0", "length_align_bytes": "8", "watermark": "2048"}


def _lo(frequency: int, fastlock_word: int) -> dict[str, str]:
    # fastlock_save reads the profile number and its 16 stored synthesizer words
    words = ",".join([str(fastlock_word)] * 16)
    return {
        "frequency": str(frequency),
        "external": "0",
        "powerdown": "0",
        "fastlock_load": "0",
        "fastlock_store": "0",
        "fastlock_save": f"0 {words}",
        "fastlock_recall": "0",
    }


#: xadc channel → (raw, scale[, offset]) as the dump reads them.
XADC_DEFAULTS: dict[str, tuple[str, ...]] = {
    "voltage5": ("1856", "0.732421875"),
    "voltage0": ("1387", "0.732421875"),
    "voltage4": ("2453", "0.732421875"),
    "temp0": ("2700", "123.040771484", "-2219"),
    "voltage7": ("14", "0.732421875"),
    "voltage1": ("2455", "0.732421875"),
    "voltage2": ("1383", "0.732421875"),
    "voltage3": ("1387", "0.732421875"),
    "voltage8": ("3296", "0.244140625"),
    "voltage6": ("1721", "0.732421875"),
}

#: ``(device, scope)`` → ``{attribute: value}`` after power-up (stored, unformatted).
DEFAULTS: dict[tuple[str, str], dict[str, str]] = {
    (PHY, "out:altvoltage0"): _lo(2_400_000_000, 79),
    (PHY, "out:altvoltage1"): _lo(2_450_000_000, 193),
    (PHY, "in:voltage0"): {
        "sampling_frequency": "30720000",
        "rf_bandwidth": "18000000",
        "hardwaregain": "71.0",
        "gain_control_mode": "slow_attack",
        "rf_port_select": "A_BALANCED",
        "filter_fir_en": "0",
        **dict.fromkeys(_TRACKING, "1"),
    },
    (PHY, "out:voltage0"): {
        "rf_bandwidth": "18000000",
        "hardwaregain": "-10.0",
        "rf_port_select": "A",
        "filter_fir_en": "0",
    },
    (PHY, "dev"): {
        "filter_fir_config": "FIR Rx: 0,0 Tx: 0,0",
        "ensm_mode": "fdd",
        "calib_mode": "auto",
        "trx_rate_governor": "nominal",
        "xo_correction": "40000000",
        "dcxo_tune_coarse": "0",
        "dcxo_tune_fine": "0",
        "multichip_sync": "0",
        "gain_table_config": "",
        "rssi_gain_step_error": (
            "lna_error: 0 0 0 0\nmixer_error: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
            "gain_step_calib_reg_val: 0 0 0 0 0"
        ),
    },
    (PHY, "debug"): {
        **dict.fromkeys(PHY_DEBUG_ATTRS, "0"),
        **ADI_DEBUG_DEFAULTS,
        "gaininfo_rx1": "71 76 0 0 0 0 0 0",  # gain, table index, LMT/LPF/digital gains …
        "gaininfo_rx2": "",
    },
    (PHY, "in:voltage2"): {"offset": "57", "raw": "975", "scale": "0.305250"},
    (PHY, "in:temp0"): {"input": "36842"},
    (PHY, "out:voltage2"): {"raw": "306", "scale": "1.000000"},
    (PHY, "out:voltage3"): {"raw": "306", "scale": "1.000000"},
    ("xadc", "dev"): {"sampling_frequency": "961538"},
    **{
        ("xadc", f"in:{chn}"): dict(zip(("raw", "scale", "offset"), values, strict=False))
        for chn, values in XADC_DEFAULTS.items()
    },
    (RXADC, "in:voltage0"): {**_ADC_CHN, "samples_pps": "0"},
    (RXADC, "in:voltage1"): dict(_ADC_CHN),
    (TXDAC, "out:voltage0"): {"calibphase": "0.000000", "calibscale": "1.000000"},
    (TXDAC, "out:voltage1"): {"calibphase": "0.000000", "calibscale": "1.000000"},
    # Every tone at 9279985 Hz (increment 19797 at 30.72 MS/s), scale 0, the I tones
    # (altvoltage0/1) at phase 90000 mdeg (word 16384) and the Q tones at 0; DDS enabled.
    **{
        (TXDAC, f"out:altvoltage{i}"): {
            "frequency": "19797",
            "phase": "16384" if i < 2 else "0",
            "scale": "0",  # the sign-magnitude word: 0.000000
        }
        for i in range(4)
    },
    (TXDAC, "dds"): {"raw": "1"},
    (TXDAC, "buffer"): dict(_DMA_BUFFER),
    (RXADC, "debug"): {
        "pseudorandom_err_check": (
            "CH0 : PN9 : Out of Sync : PN Error\nCH1 : PN9 : Out of Sync : PN Error"
        ),
    },
    (RXADC, "buffer"): dict(_DMA_BUFFER),
}

#: Reads the dump shows as ``ERROR`` → the errno the twin answers (the dump does not say
#: which; EINVAL is what the driver's show functions return for an unsupported read):
#: write-only controls (``multichip_sync``, ``fastlock_recall``, ``gain_table_config``),
#: the DCXO tuning of a board with a crystal oscillator, the absent RX2, the PPS counter of
#: an FPGA build without one.
READ_ERRORS: dict[tuple[str, str, str], int] = {
    (PHY, "dev", "dcxo_tune_coarse"): errno.EINVAL,
    (PHY, "dev", "dcxo_tune_fine"): errno.EINVAL,
    (PHY, "dev", "gain_table_config"): errno.EINVAL,
    (PHY, "dev", "multichip_sync"): errno.EINVAL,
    (PHY, "out:altvoltage0", "fastlock_recall"): errno.EINVAL,
    (PHY, "out:altvoltage1", "fastlock_recall"): errno.EINVAL,
    (PHY, "debug", "gaininfo_rx2"): errno.EINVAL,
    (RXADC, "in:voltage0", "samples_pps"): errno.EINVAL,
}
