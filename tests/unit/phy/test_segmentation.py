"""Transport-block and code-block segmentation (psfl.phy.digital.segmentation) against values
worked by hand from TS 38.214 §5.1.3.2 and TS 38.212 §5.2.2, §5.4.2.1, §7.2.1 and §7.2.2."""

from __future__ import annotations

import math

import pytest

from psfl.phy.digital.mcs import MCS, mcs_table
from psfl.phy.digital.segmentation import base_graph, segment, tb_layout

TABLE = {m.index: m for m in mcs_table()}
ND = 864  # data REs per slot of the default grid: 72 subcarriers x (14 - 2 pilot) symbols


def test_table_entries_used_below() -> None:
    # 38.214 Table 5.1.3.1-2: index 2 QPSK 308/1024, 20 256QAM 682.5/1024, 27 256QAM 948/1024
    assert (TABLE[2].bits_per_symbol, TABLE[2].code_rate) == (2, pytest.approx(308 / 1024))
    assert (TABLE[20].bits_per_symbol, TABLE[20].code_rate) == (8, pytest.approx(682.5 / 1024))
    assert (TABLE[27].bits_per_symbol, TABLE[27].code_rate) == (8, pytest.approx(948 / 1024))


def test_small_tb_qpsk_one_slot() -> None:
    # G = 864*2 = 1728, N_info = 1728*308/1024 = 519.75 <= 3824: n = max(3, 9-6) = 3,
    # N'_info = 8*floor(519.75/8) = 512 -> smallest TBS of Table 5.1.3.2-1 >= 512 is 528.
    # A = 528 <= 3824: CRC16 (38.212 7.2.1); A <= 3824 and R <= 0.67 -> BG2 (K_cb = 3840);
    # B = 544 <= 3840 -> C = 1, no CB CRC, K' = 544; E = G = 1728.
    t = tb_layout(0, 0, ND, TABLE[2])
    assert (t.num_coded_bits, t.tb_size, t.tb_crc_length) == (1728, 528, 16)
    assert (t.num_cb, t.cb_size, t.cb_crc_length, t.base_graph) == (1, 544, 0, 2)
    assert t.cw_lengths == (1728,)


def test_large_tb_256qam_crc24a_bg1() -> None:
    # G = 6912, N_info = 6912*948/1024 = 6399 > 3824: n = floor(log2(6375)) - 5 = 7,
    # N'_info = max(3840, 128*round(6375/128)) = 6400; R > 1/4 and N' <= 8424 -> C = 1,
    # TBS = 8*ceil(6424/8) - 24 = 6400. A > 3824: CRC24A; R > 0.67 -> BG1 (K_cb = 8448);
    # B = 6424 <= 8448 -> one code block of K' = 6424.
    t = tb_layout(0, 0, ND, TABLE[27])
    assert (t.num_coded_bits, t.tb_size, t.tb_crc_length) == (6912, 6400, 24)
    assert (t.num_cb, t.cb_size, t.cb_crc_length, t.base_graph) == (1, 6424, 0, 1)


def test_several_code_blocks_bg1_crc24b() -> None:
    # 612 subcarriers x 12 data symbols = 7344 REs, MCS 20: G = 58752,
    # N_info = 58752*682.5/1024 = 39158.4375: n = floor(log2(39134.44)) - 5 = 10,
    # N'_info = 1024*round(38.22) = 38912; C = ceil(38936/8424) = 5;
    # TBS = 40*ceil(38936/40) - 24 = 38936. CRC24A: B = 38960; BG1, L = 24 (CRC24B),
    # C = ceil(B/(8448 - 24)) = 5, K' = 38960/5 + 24 = 7816.
    # Rate matching: 7344 symbols over 5 blocks, 7344 mod 5 = 4 -> 1 block of
    # 8*floor(1468.8) = 11744 bits, then 4 of 8*1469 = 11752.
    t = tb_layout(0, 0, 7344, TABLE[20])
    assert (t.tb_size, t.tb_crc_length, t.base_graph) == (38936, 24, 1)
    b = t.tb_size + t.tb_crc_length
    assert t.num_cb == math.ceil(b / (8448 - 24)) == 5
    assert (t.cb_size, t.cb_crc_length) == (7816, 24)
    assert t.cw_lengths == (11744, 11752, 11752, 11752, 11752)
    assert sum(t.cw_lengths) == t.num_coded_bits == 58752
    # each code block's symbols are contiguous and tile the slot
    assert t.cb_symbols == ((0, 1468), (1468, 2937), (2937, 4406), (4406, 5875), (5875, 7344))


def test_low_rate_bg2_two_code_blocks() -> None:
    # R = 1/4 (a rate below MCS 2 of table 2, e.g. table 1's), 12000 symbols QPSK: G = 24000,
    # N_info = 6000: n = floor(log2(5976)) - 5 = 7, N' = 128*round(46.69) = 6016;
    # R <= 1/4 -> C = ceil(6040/3816) = 2, TBS = 16*ceil(6040/16) - 24 = 6024. CRC24A,
    # B = 6048; R <= 0.25 -> BG2 (K_cb = 3840), L = 24, C = ceil(6048/3816) = 2,
    # K' = 3024 + 24 = 3048.
    t = tb_layout(0, 0, 12000, MCS(0, 2, 0.25, 0.0))
    assert (t.tb_size, t.tb_crc_length, t.base_graph) == (6024, 24, 2)
    assert (t.num_cb, t.cb_size, t.cb_crc_length) == (2, 3048, 24)
    assert t.cw_lengths == (12000, 12000)


def test_base_graph_rule() -> None:
    # 38.212 7.2.2: BG2 if A <= 292, or A <= 3824 and R <= 0.67, or R <= 0.25; else BG1
    assert base_graph(292, 0.93) == 2
    assert base_graph(296, 0.93) == 1
    assert base_graph(3824, 0.67) == 2
    assert base_graph(3824, 0.68) == 1
    assert base_graph(3840, 0.5) == 1
    assert base_graph(100000, 0.25) == 2


@pytest.mark.parametrize("k", [100, 863, 864, 865, 3072, 10 * ND + 1])
def test_slot_accounting(k: int) -> None:
    seg = segment(k, ND, TABLE[10])
    assert seg.num_slots == math.ceil(k / ND)
    assert seg.num_slots * ND >= k > (seg.num_slots - 1) * ND
    assert sum(t.num_symbols for t in seg.tbs) == k
    assert [t.first_symbol for t in seg.tbs] == [i * ND for i in range(seg.num_slots)]
    assert seg.payload_bits == sum(t.tb_size for t in seg.tbs)
    assert seg.payload_bytes * 8 == seg.payload_bits  # every TBS is a multiple of 8
    assert seg.num_cbs == sum(t.num_cb for t in seg.tbs)


def test_photo_over_slots() -> None:
    # a 64x96 photo at k/n = 1/6: k = 3072 = 3 full slots + 480 symbols; MCS 27 gives
    # TBS 6400 per full slot and, for the last (G = 3840, N_info = 3555 <= 3824:
    # n = 5, N' = 32*111 = 3552 -> TBS 3624), 3624 -> 3*6400 + 3624 = 22824 bits = 2853 bytes
    seg = segment(3072, ND, TABLE[27])
    assert [t.tb_size for t in seg.tbs] == [6400, 6400, 6400, 3624]
    assert seg.tbs[-1].tb_crc_length == 16 and seg.tbs[-1].base_graph == 1
    assert seg.payload_bytes == 2853 and seg.num_tbs == 4 and seg.num_cbs == 4


def test_short_last_slot_carries_no_tb() -> None:
    # 10 symbols at 256QAM: G = 80, TBS 72 + CRC16 = 88 > 0.95*80 -> no TB in the last slot
    seg = segment(2 * ND + 10, ND, TABLE[27])
    assert seg.num_slots == 3 and seg.num_tbs == 2
    assert not seg.tbs[-1].has_tb and seg.tbs[-1].num_cb == 0
    assert seg.coded_symbols == 2 * ND


def test_errors_name_the_fix() -> None:
    with pytest.raises(ValueError, match="increase k"):
        segment(10, ND, TABLE[27])
    # 7344 REs at MCS 2: TBS > 3824 and R > 0.25 -> BG1 at rate 0.30 < 1/3 (no repetition)
    with pytest.raises(ValueError, match="phy.num_subcarriers"):
        segment(2 * 7344, 7344, TABLE[2])
    with pytest.raises(ValueError, match="positive integer"):
        segment(0, ND, TABLE[2])
