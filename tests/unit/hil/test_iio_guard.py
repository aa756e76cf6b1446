"""The pylibiio guard: a context and its live buffer dying in one garbage cycle must not crash."""

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import gc
    import numpy as np
    import psfl.hil  # installs the guard
    import adi
    import iio
    from psfl.hil.twin import PlutoTwin

    assert iio.Context._psfl_guarded
    with PlutoTwin(seed=0) as twin:
        for i in range(12):
            sdr = adi.Pluto(twin.uri)
            sdr.rx_buffer_size = 256
            sdr.rx()                      # a live RX buffer
            sdr.cycle = sdr               # context + buffer in one garbage cycle
            box = sdr._ctx._psfl_live_buffers
            assert box[0] == 1, box
            del sdr
            gc.collect()                  # finalizers in arbitrary order
            assert box[0] == 0, box       # the buffer was freed
    print("ok")
""")


def test_cycle_with_live_buffer_is_collected_safely():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("ok")
