"""Standalone C source for devices: Network.to_c_source over bp_export_c_source."""

from __future__ import annotations

import os

from . import _lib
from ._codes import C_SOURCE_OPTIONS
from ._persistence import _path_bytes, _raise

__all__ = ["CSource"]

_ACCUMULATIONS = ("float", "int32")


class CSource:
    """The to_c_source method of Network."""

    def to_c_source(self, path, prefix="network", int8=False, accumulate="float") -> None:
        """Write the network as C99 source to ``path`` (ending in ".c") and its header
        beside it (".h"): ``<prefix>_predict(const float *input, float *output)`` computes
        one sample's outputs as :meth:`predict` does, with the parameters as static const
        arrays, needing only <math.h> (no libbackprop, no allocation).

        ``int8=True`` stores post-training symmetric int8 weights, one scale per output
        unit; ``accumulate="int32"`` (with int8) also quantises each layer's input to
        int8 and sums the products in integers.  ValueError for a bad prefix, path or
        combination; ModelIOError when the files cannot be written."""
        if accumulate not in _ACCUMULATIONS:
            raise ValueError(f"accumulate is {accumulate!r}; expected 'float' or 'int32'")
        if accumulate == "int32" and not int8:
            raise ValueError("accumulate='int32' needs int8=True (float weights are summed in float)")
        if not isinstance(prefix, str):
            raise ValueError(f"prefix is {prefix!r}; expected a str naming a C identifier")
        flags = (C_SOURCE_OPTIONS["int8"] if int8 else C_SOURCE_OPTIONS["float"]) | (
            C_SOURCE_OPTIONS["int32_accumulate"] if accumulate == "int32" else 0)
        raw = _path_bytes(path)
        with self._exclusive(mutates=False) as handle:
            status = _lib.lib.bp_export_c_source(handle, raw, os.fsencode(prefix), flags)
            if status:
                _raise(status, "bp_export_c_source", path)
