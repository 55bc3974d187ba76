"""Input scaling: the Network methods that set, read and compute the per-feature map
a^0 = (x − shift) · scale the library applies to every input (bp_set_input_scaling,
bp_get_input_scaling, bp_standardize_inputs).  Model files and pickles keep it."""

from __future__ import annotations

import numpy as np

from . import _arrays

__all__ = ["Scaling"]


class Scaling:
    """The input-scaling methods of Network (which keeps the handle and ``_layers``)."""

    @property
    def input_scaling(self):
        """``(shift, scale)``, two float32 arrays of ``input_size`` values: every input x
        reaches layer 1 as (x − shift) · scale (bp_get_input_scaling); ``(0, 1)`` when
        the network has none.  Set it with set_input_scaling() or standardize()."""
        self._require_open()
        shift = np.empty(self.input_size, dtype=np.float32)
        scale = np.empty(self.input_size, dtype=np.float32)
        self._call("bp_get_input_scaling", _arrays.argument(shift), _arrays.argument(scale), shift.size,
                   mutates=False)
        return shift, scale

    def set_input_scaling(self, shift, scale) -> None:
        """Make every input reach layer 1 as (x − shift) · scale (bp_set_input_scaling):
        ``shift`` and ``scale`` hold ``input_size`` finite values each; ``None`` for both
        removes the scaling.  Raises ValueError for a wrong shape, NonFiniteError for NaN
        or infinity (nothing changes)."""
        self._require_open()
        if shift is None and scale is None:
            self._call("bp_set_input_scaling", None, None, 0)
        else:
            vectors = []
            for name, value in (("shift", shift), ("scale", scale)):
                arr = np.ascontiguousarray(_arrays.as_float32(value, name))
                if arr.shape != (self.input_size,):
                    raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected ({self.input_size},)")
                vectors.append(arr)
            self._call("bp_set_input_scaling", _arrays.argument(vectors[0]), _arrays.argument(vectors[1]),
                       self.input_size)
        self._last_batch = None

    def standardize(self, X) -> None:
        """Set the input scaling that standardises X (bp_standardize_inputs): shift = each
        feature's mean, scale = 1 / its standard deviation (1 for a constant feature), as
        scikit-learn's StandardScaler, so the model then takes raw inputs."""
        X, _ = _arrays.as_inputs(X, self.input_size, "X")
        self._call("bp_standardize_inputs", _arrays.argument(X), X.shape[0])
        self._last_batch = None
