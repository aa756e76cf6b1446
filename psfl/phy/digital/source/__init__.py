r"""Source coders of the digital baseline: JPEG, WebP, JPEG 2000 and AVIF into a fixed payload.

Each image is coded into exactly the ``P`` payload bytes the MCS gives
(:func:`~psfl.phy.digital.mcs.transport_format`), at the highest quality whose stream fits
(bisection over the coder's quality parameter). Only what the receiver cannot rebuild goes
over the air: headers that are a deterministic function of the image size and the fixed
encoder settings are stripped at the transmitter and rebuilt at the receiver, and the
transmitter checks, for every image, that the rebuilt file equals the encoder's output byte for
byte (a mismatch raises, it is never sent). All four come from Pillow (libjpeg, libwebp,
OpenJPEG, libavif with libaom); none is hand-written.

One module per coder, registered in :data:`SOURCE_CODERS` (:mod:`.registry`, with the base class
:class:`SourceCoder` and its capabilities); :mod:`.codec` codes an image with any of them.
:data:`CODECS` is the tuple of registered names, in the registry's order. A new coder is one
new module here (copy ``webp.py``) and its tests.

=========== ============================================================ ===================
coder       over the air                                                 receiver rebuilds
=========== ============================================================ ===================
jpeg        1 side byte (quality, scale) + entropy-coded scan, padded    header from quality
            with 0xFF fill bytes (T.81 B.1.1.2), as RTP/JPEG (RFC 2435)  and size
webp        side header (length, scale) + VP8 bitstream                  20-byte RIFF header
jpeg2000    side header + packet data of the one tile-part (J2K          main header, SOT,
            codestream, irreversible 9/7, one quality layer, lowest      SOD, EOC
            band ~8 px)
avif        side header + payload of the AV1 frame OBU (libaom, speed    ftyp/meta/mdat boxes
            6, 4:2:0)                                                    (~275 bytes), TD and
                                                                         sequence header OBUs
=========== ============================================================ ===================

The *side header* of webp, jpeg2000 and avif holds the stream length ``n`` and the scale flag
as ``2n + s`` in ``ceil((bitlength(P) + 1) / 8)`` big-endian bytes (1 byte up to P = 127,
2 bytes up to 32767): the receiver knows ``P`` from the MCS, so the width needs no signalling;
``n = 0`` is the "no image" marker. Quality parameters: jpeg 1..100, webp 0..100, avif 0..100
(Pillow's scales; avif stops at 99, where libaom's lossless mode would change the
sequence header), jpeg2000 the target codestream size in bytes handed to OpenJPEG's rate
control as the ratio ``raw / target`` (``raw = 3HW``).

**Downscale fallback** (:func:`source_encode`): the image is also coded at half resolution and
the version with the lower MSE is kept; see :mod:`.codec`.

**Which coder.** Mean PSNR (dB) on 64 held-back 32x32 test patches of the embedded photos, at
the payloads of MCS 2, 5, 9, 14, 20, 27 with k = 512, no channel errors (2026-12-02):

========  =====  =====  =====  =====  =====  =====  ====================
bytes        35     91    151    228    338    471  time per image
========  =====  =====  =====  =====  =====  =====  ====================
jpeg      30.42  33.54  35.57  37.22  38.81  40.24  16 ms
webp      24.68  32.71  34.87  36.84  38.53  39.80  35 ms
jpeg2000  24.66  31.21  33.65  35.72  37.86  40.02  72 ms
avif      29.71  34.72  36.92  38.55  40.03  41.09  239 ms
========  =====  =====  =====  =====  =====  =====  ====================

(times on 2 shared CPU cores, including the bisection; each coder's ``relative_cost`` is its
time over JPEG's). AVIF (AV1 intra, stronger than BPG's HEVC intra) is the strongest from 91
bytes on; abbreviated JPEG wins at the smallest payloads, where every other format's minimum
stream is larger.
"""

from __future__ import annotations

from typing import Any

from psfl.phy.digital.source.avif import AvifCoder
from psfl.phy.digital.source.codec import source_decode, source_encode, to_uint8
from psfl.phy.digital.source.jpeg import JpegCoder
from psfl.phy.digital.source.jpeg2000 import Jpeg2000Coder
from psfl.phy.digital.source.registry import SOURCE_CODERS, Coded, SourceCoder, source_coder
from psfl.phy.digital.source.webp import WebpCoder

__all__ = [
    "CODECS",
    "SOURCE_CODERS",
    "AvifCoder",
    "Coded",
    "Jpeg2000Coder",
    "JpegCoder",
    "SourceCoder",
    "WebpCoder",
    "source_coder",
    "source_decode",
    "source_encode",
    "to_uint8",
]


def __getattr__(name: str) -> Any:
    # CODECS is read from the registry on every access, so that a coder registered later (a
    # plug-in, a test) is offered too.
    if name == "CODECS":
        return SOURCE_CODERS.names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
