"""A guard against a pylibiio 0.25 crash.

pylibiio frees an ``iio_context`` in ``Context.__del__`` and an ``iio_buffer`` in
``Buffer.__del__``. When a context and one of its buffers end up in the same garbage cycle (a
pyadi object referenced from an exception's traceback is enough), Python finalizes them in
arbitrary order; freeing the buffer after its context reads freed memory and the process dies
with a segmentation fault (seen here in CI). :func:`install` counts each context's live buffers
and makes ``Context.__del__`` leave the C context alone while any is left: the buffer is then
freed safely and only that context's memory and socket stay until the process exits. Contexts
without buffers (the normal case after ``rx_destroy_buffer``/``tx_destroy_buffer``) are freed
as before, which closes their connection.
"""

from __future__ import annotations

__all__ = ["install"]


def install() -> bool:
    """Patch ``iio.Context`` and ``iio.Buffer`` (idempotent). False when pylibiio cannot load."""
    try:
        import iio
    except (ImportError, OSError, AttributeError):  # libiio missing: nothing to guard
        return False
    if getattr(iio.Context, "_psfl_guarded", False):
        return True
    ctx_del, buf_init, buf_del = iio.Context.__del__, iio.Buffer.__init__, iio.Buffer.__del__

    def box_of(ctx: object) -> list[int]:
        box = getattr(ctx, "_psfl_live_buffers", None)
        if box is None:
            box = [0]
            ctx._psfl_live_buffers = box
        return box

    def context_del(self) -> None:
        if box_of(self)[0] == 0:
            ctx_del(self)

    def buffer_init(self, device, *args, **kwargs) -> None:
        buf_init(self, device, *args, **kwargs)
        self._psfl_box = box_of(device.ctx)
        self._psfl_box[0] += 1

    def buffer_del(self) -> None:
        buf_del(self)
        box = getattr(self, "_psfl_box", None)
        if box is not None:
            box[0] -= 1
            self._psfl_box = None

    iio.Context.__del__ = context_del
    iio.Buffer.__init__ = buffer_init
    iio.Buffer.__del__ = buffer_del
    iio.Context._psfl_guarded = True
    return True
