"""The one style every figure shares (psfl.plotting)."""

from __future__ import annotations

import time

import matplotlib.pyplot as plt
import numpy as np

from psfl import plotting
from psfl.plotting import _SCHEMES
from tests.figures import MAGIC


def test_a_scheme_keeps_its_colour_across_data_sets_and_labels() -> None:
    assert plotting.color("csc (test)") == plotting.color("csc (folder)") == plotting.color("csc")
    assert plotting.color("MU 0 mentor (gsc-l)") == plotting.color("mentor")
    assert plotting.color("digital") != plotting.color("codec")
    # schemes drawn together in one figure (bench_baselines) are told apart
    together = ["csc", "gsc-s", "gsc-m", "gsc-l", "jpeg", "webp", "jpeg2000", "avif", "capacity"]
    assert len({plotting.color(s) for s in together}) == len(together)
    strategies = ["psfl", "psfl-no-pld", "psfl-no-agp", "fedavg-csc", "fedprox-csc",
                  "local-only"]
    assert len({plotting.color(s) for s in strategies}) == len(strategies)


def test_unknown_names_are_stable_and_never_look_like_a_known_scheme() -> None:
    names = [f"run-{i}" for i in range(30)]
    colours = [plotting.color(n) for n in names]
    assert colours == [plotting.color(n) for n in names]
    assert not set(colours) & set(_SCHEMES.values())


def test_data_sets_differ_by_line_style_and_channels_read_as_standards_write_them() -> None:
    assert plotting.linestyle("test") == "-" and plotting.linestyle("folder") == "--"
    assert plotting.channel_name("umi") == "UMi" and plotting.channel_name("tdl-c") == "TDL-C"
    assert plotting.channel_name("cdl-a") == "CDL-A" and plotting.channel_name("awgn") == "AWGN"


def test_integer_ticks_stay_whole_with_a_single_round() -> None:
    fig, ax = plotting.subplots()
    ax.plot([1], [27.5], "o")
    plotting.integer_ticks(ax, "x")
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    shown = [t for t in ax.get_xticks() if lo <= t <= hi]
    plt.close(fig)
    assert shown and all(float(t).is_integer() for t in shown)


def test_si_axis_writes_prefixes_not_offsets() -> None:
    fig, ax = plotting.subplots()
    ax.plot([0, 1, 2], [74_000.0, 75_000.0, 76_000.0])
    plotting.si_axis(ax, "y", "Hz")
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels()]
    plt.close(fig)
    assert any("kHz" in t for t in labels) and not any("e" in t.lower() for t in labels)


def test_failed_tiles_are_crossed_where_they_are() -> None:
    fig, ax = plotting.subplots()
    ax.imshow(np.ones((2 * 10 + 2, 3 * 10 + 4, 3)))
    n = plotting.mark_failed_tiles(ax, [False, True, False], tile=10, row=1)
    (line,) = ax.lines
    xs = line.get_xdata()[np.isfinite(line.get_xdata())]
    ys = line.get_ydata()[np.isfinite(line.get_ydata())]
    plt.close(fig)
    assert n == 1
    assert xs.min() == 12 - 0.5 and xs.max() == 22 - 0.5  # the second tile only
    assert ys.min() == 12 - 0.5 and ys.max() == 22 - 0.5  # in the second row
    fig, ax = plotting.subplots()
    assert plotting.mark_failed_tiles(ax, np.zeros(4, bool), tile=10) == 0 and not ax.lines
    plt.close(fig)


def test_save_writes_png_and_pdf_and_closes() -> None:
    fig, ax = plotting.subplots()
    ax.plot([0, 1], [0, 1], color=plotting.color("digital"))
    plotting.caption(fig, ["budget", "settings"])
    written: dict[str, bytes] = {}
    names = plotting.save(fig, "x.png", written.__setitem__)
    assert names == ["x.png", "x.pdf"] and set(written) == {"x.png", "x.pdf"}
    assert written["x.png"].startswith(MAGIC["png"]) and written["x.pdf"].startswith(MAGIC["pdf"])
    assert not plt.fignum_exists(fig.number)


def test_the_same_figure_gives_the_same_bytes() -> None:
    def draw() -> dict[str, bytes]:
        fig, ax = plotting.subplots()
        ax.plot([0, 1, 2], [3, 1, 2], color=plotting.color("csc"))
        plotting.caption(fig, "settings")
        out: dict[str, bytes] = {}
        plotting.save(fig, "f", out.__setitem__)
        return out

    first = draw()
    time.sleep(1.1)  # a PDF's creation date has whole seconds
    assert draw() == first


def test_text_added_after_the_figure_is_made_has_the_style() -> None:
    fig, ax = plotting.subplots()
    title = ax.set_title("added afterwards")
    legend_line = ax.plot([0, 1], [0, 1], label="x")
    legend = ax.legend()
    plt.close(fig)
    assert legend_line and title.get_fontsize() == plotting._RC["axes.titlesize"]
    assert legend.get_texts()[0].get_fontsize() == plotting._RC["legend.fontsize"]


def test_lost_images_are_crossed_and_their_share_written() -> None:
    fig, ax = plotting.subplots()
    ax.plot([0, 5, 10], [12.0, 25.0, 30.0])
    assert plotting.mark_delivery(ax, [0, 5, 10], [12.0, 25.0, 30.0], [0.45, 1.0, 0.9])
    crosses = ax.lines[-1]
    labels = [t.get_text() for t in ax.texts]
    assert list(crosses.get_xdata()) == [0, 10] and crosses.get_marker() == "x"
    assert crosses.get_label() == "digital: some images not delivered"
    assert labels == ["45 %", "90 %"]
    assert not plotting.mark_delivery(ax, [0], [1.0], [1.0])  # nothing lost: nothing drawn
    plotting.mark_delivery(ax, [0, 5], [1.0, 2.0], [1.0, 0.5], every=True, legend=False)
    assert [t.get_text() for t in ax.texts][2:] == ["100 %", "50 %"]
    assert ax.lines[-1].get_label().startswith("_")  # no second legend entry
    plt.close(fig)
