"""Input and target scaling: the Network methods that set, read and compute the per-feature
maps the library applies, a^0 = (x − shift) · scale to every input, and for a regressor
(y − shift) · scale to every target with outputs returned as a / scale + shift
(bp_set/get_input_scaling, bp_standardize_inputs and their target twins).  Model files
and pickles keep them."""

from __future__ import annotations

import numpy as np

from . import _arrays

__all__ = ["Scaling"]


class Scaling:
    """The scaling methods of Network (which keeps the handle and ``_layers``)."""

    @property
    def input_scaling(self):
        """``(shift, scale)``, two float32 arrays of ``input_size`` values: every input x
        reaches layer 1 as (x − shift) · scale (bp_get_input_scaling); ``(0, 1)`` when
        the network has none.  Set it with set_input_scaling() or standardize()."""
        return self._get_scaling("input", self.input_size)

    @property
    def target_scaling(self):
        """``(shift, scale)`` of ``output_size`` values each: a regressor's targets reach
        the loss as (y − shift) · scale and its outputs come back as a / scale + shift
        (bp_get_target_scaling); ``(0, 1)`` when it has none."""
        return self._get_scaling("target", self.output_size)

    def set_input_scaling(self, shift, scale) -> None:
        """Make every input reach layer 1 as (x − shift) · scale (bp_set_input_scaling):
        ``shift`` and ``scale`` hold ``input_size`` finite values each; ``None`` for both
        removes the scaling.  Raises ValueError for a wrong shape, NonFiniteError for NaN
        or infinity (nothing changes)."""
        self._set_scaling("input", self.input_size, shift, scale)

    def set_target_scaling(self, shift, scale) -> None:
        """A regressor's target scaling (bp_set_target_scaling), as set_input_scaling():
        ``output_size`` values each, every scale nonzero.  Predictions and metrics are in
        the targets' own units; reported losses are on the scaled targets.  A classifier
        raises InvalidArgumentError."""
        self._set_scaling("target", self.output_size, shift, scale)

    def standardize(self, X) -> None:
        """Set the input scaling that standardises X (bp_standardize_inputs): shift = each
        feature's mean, scale = 1 / its standard deviation (1 for a constant feature), as
        scikit-learn's StandardScaler, so the model then takes raw inputs."""
        X, _ = _arrays.as_inputs(X, self.input_size, "X")
        self._call("bp_standardize_inputs", _arrays.argument(X), X.shape[0])
        self._last_batch = None

    def standardize_targets(self, Y) -> None:
        """Set a regressor's target scaling that standardises Y (bp_standardize_targets)."""
        Y = self._targets(Y, None)
        self._call("bp_standardize_targets", _arrays.argument(Y), Y.shape[0])

    def _get_scaling(self, side: str, width: int):
        self._require_open()
        shift = np.empty(width, dtype=np.float32)
        scale = np.empty(width, dtype=np.float32)
        self._call(f"bp_get_{side}_scaling", _arrays.argument(shift), _arrays.argument(scale), width, mutates=False)
        return shift, scale

    def _set_scaling(self, side: str, width: int, shift, scale) -> None:
        self._require_open()
        if shift is None and scale is None:
            self._call(f"bp_set_{side}_scaling", None, None, 0)
        else:
            vectors = []
            for name, value in (("shift", shift), ("scale", scale)):
                arr = np.ascontiguousarray(_arrays.as_float32(value, name))
                if arr.shape != (width,):
                    raise ValueError(f"{name} has shape {tuple(arr.shape)}; expected ({width},)")
                vectors.append(arr)
            self._call(f"bp_set_{side}_scaling", _arrays.argument(vectors[0]), _arrays.argument(vectors[1]), width)
        self._last_batch = None
