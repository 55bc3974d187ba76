"""The flat parameter layout of backprop.h, split into the references' matrices."""

from __future__ import annotations

import numpy as np


def split_parameters(layers, flat):
    """The flat layout of backprop.h: for each layer W (n_l x n_(l-1), row-major), then b."""
    Ws, bs, o = [], [], 0
    for l in range(1, len(layers)):
        n, k = layers[l], layers[l - 1]
        Ws.append(np.array(flat[o:o + n * k], dtype=np.float32).reshape(n, k))
        o += n * k
        bs.append(np.array(flat[o:o + n], dtype=np.float32))
        o += n
    if o != len(flat):
        raise ValueError(f"parameter vector has {len(flat)} floats, the layers need {o}")
    return Ws, bs
