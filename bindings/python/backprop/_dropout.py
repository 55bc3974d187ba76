"""Dropout: the Network property that sets and reads the hidden layers' inverted-dropout
rates (bp_set_dropout / bp_get_dropout).  Training calls (train_step, fit and
forward(X, training=True)) drop units; forward(), predict() and evaluate() never do.
Model files and pickles keep the rates and where the masks stand."""

from __future__ import annotations

import numpy as np

from . import _arrays

__all__ = ["Dropout"]


class Dropout:
    """The dropout property of Network (which keeps the handle, ``_layers`` and ``_seed``)."""

    @property
    def dropout(self) -> list:
        """The dropout rate of each hidden layer (``len(layers) - 2`` floats, 0 where
        nothing is dropped).  Set it to one rate for every hidden layer or to a list of
        one rate per hidden layer, each in [0, 1); 0 or None turns dropout off.  The masks
        are drawn from the network's seed (0 for a network loaded from a file, whose
        saved dropout keeps its own) and the number of training passes since the rates
        were set, so training stays bit-identical for a seed at any thread count."""
        hidden = len(self._layers) - 2
        rates = np.zeros(hidden, dtype=np.float32)
        self._call("bp_get_dropout", _arrays.argument(rates) if hidden else None, hidden, mutates=False)
        return [float(r) for r in rates]

    @dropout.setter
    def dropout(self, rates) -> None:
        self._require_open()
        rates = dropout_rates(rates, len(self._layers) - 2)
        seed = self._seed if self._seed is not None else 0  # a loaded network has no seed of its own
        self._call("bp_set_dropout", _arrays.argument(rates) if rates.size else None, rates.size, seed)
        self._last_batch = None


def dropout_rates(rates, hidden: int) -> np.ndarray:
    """`rates` (None, one number, or one per hidden layer) as ``hidden`` float32 rates;
    their range is the library's to check (it raises with the layer's number)."""
    if rates is None:
        return np.zeros(hidden, dtype=np.float32)
    if np.ndim(rates) == 0:
        rate = _arrays.as_float32(rates, "dropout")
        if hidden == 0 and rate != 0:
            raise ValueError(f"dropout is {float(rate)}, but the network has no hidden layer to drop units of")
        return np.full(hidden, rate, dtype=np.float32)
    values = np.ascontiguousarray(_arrays.as_float32(rates, "dropout"))
    if values.shape != (hidden,):
        raise ValueError(f"dropout has {values.size} rates; expected one per hidden layer ({hidden}), or one number")
    return values
