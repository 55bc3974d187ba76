"""Parameters and gradients: the methods of Network that read and replace them, in the
flat layout of backprop.h (bp_get_parameters, bp_set_parameters, bp_get_gradients,
bp_set_gradients)."""

from __future__ import annotations

import numpy as np

from . import _arrays
from ._codes import INITIALIZATIONS, normalise_name

__all__ = ["Parameters", "layer_offsets"]


def layer_offsets(sizes) -> tuple:
    """(weights start, biases start, end) in the flat layout, for each layer 1..L of a
    network with layer widths `sizes`: W^l (n_l x n_(l-1), row-major), then b^l."""
    offsets = []
    offset = 0
    for l in range(1, len(sizes)):
        w = sizes[l] * sizes[l - 1]
        offsets.append((offset, offset + w, offset + w + sizes[l]))
        offset += w + sizes[l]
    return tuple(offsets)


class Parameters:
    """The parameter methods of Network, which keeps ``_layers``, ``_parameter_count``
    and ``_offsets`` (layer_offsets(_layers)) next to its handle."""

    @property
    def parameters(self) -> np.ndarray:
        """A float32 copy of all parameters in the flat layout of backprop.h:
        for l = 1..L, W^l row-major (n_l × n_(l-1)), then b^l.

        Assigning an array of ``parameter_count`` finite values replaces them all
        (bp_set_parameters; discards kept activations and pending gradients; the
        optimizer's state is kept)."""
        self._require_open()
        out = np.empty(self._parameter_count, dtype=np.float32)
        self._call("bp_get_parameters", _arrays.argument(out), out.size, mutates=False)
        return out

    @parameters.setter
    def parameters(self, value) -> None:
        self._require_open()
        arr = _arrays.as_float32(value, "parameters")
        if arr.shape != (self._parameter_count,):
            raise ValueError(f"parameters has shape {tuple(arr.shape)}; expected ({self._parameter_count},)")
        _arrays.check_finite(arr, "parameters")
        self._set_parameters_unchecked(arr)

    def _set_parameters_unchecked(self, arr: np.ndarray) -> None:
        self._call("bp_set_parameters", _arrays.argument(arr), arr.size)
        self._last_batch = None

    def initialize(self, init, seed=0) -> None:
        """Draw every parameter afresh by the scheme `init` from `seed` (bp_initialize),
        and start training over: the optimizer's state (moments, step count), kept
        activations and pending gradients are discarded; the optimizer, its options and
        the thread count stay.  `init` is one of INITIALIZATIONS:

            "he_glorot_uniform"  He uniform for rectifier layers, Glorot uniform for the
                                 others, zero biases (bp_create()'s scheme)
            "he_uniform", "he_normal", "glorot_uniform", "glorot_normal", "lecun_normal"
                                 the usual schemes, zero biases
            "pytorch"            W, b ~ U(±1/√fan_in), nn.Linear's default and
                                 RECOMMENDED_INITIALIZATION (Network's default)
            "sklearn"            W, b ~ U(±√(f/(fan_in+fan_out))), f = 2 for sigmoid
                                 layers and 6 otherwise, as scikit-learn's MLP

        The same scheme and seed give the same parameters on every platform."""
        self._require_open()
        name = normalise_name(init, "init", INITIALIZATIONS)
        seed = _arrays.as_seed(seed)
        self._call("bp_initialize", INITIALIZATIONS[name], seed)
        self._last_batch = None

    @property
    def gradients(self) -> np.ndarray:
        """A float32 copy of the gradients of the last backward() (averaged over the
        batch), in the same flat layout as ``.parameters``.  Raises StateError before
        any backward()."""
        self._require_open()
        out = np.empty(self._parameter_count, dtype=np.float32)
        self._call("bp_get_gradients", _arrays.argument(out), out.size, mutates=False)
        return out

    @gradients.setter
    def gradients(self, value) -> None:
        """Assigning ``parameter_count`` finite values replaces the pending gradients of
        the last backward() (bp_set_gradients), which the next update() applies: the
        reduction step of a hand-written data-parallel loop (see
        backprop.distributed.allreduce_gradients).  Raises StateError when no gradients
        wait to be applied."""
        self._require_open()
        arr = _arrays.as_float32(value, "gradients")
        if arr.shape != (self._parameter_count,):
            raise ValueError(f"gradients has shape {tuple(arr.shape)}; expected ({self._parameter_count},)")
        _arrays.check_finite(arr, "gradients")
        self._call("bp_set_gradients", _arrays.argument(np.ascontiguousarray(arr)), arr.size)

    def weights(self, l) -> np.ndarray:
        """A copy of W^l, shape (n_l, n_(l-1)), for l = 1..L."""
        l = self._layer_index(l)
        start, bias, _ = self._offsets[l - 1]
        return self.parameters[start:bias].reshape(self._layers[l], self._layers[l - 1]).copy()

    def biases(self, l) -> np.ndarray:
        """A copy of b^l, shape (n_l,), for l = 1..L."""
        l = self._layer_index(l)
        _, bias, end = self._offsets[l - 1]
        return self.parameters[bias:end].copy()

    def set_weights(self, l, W) -> None:
        """Replace W^l (shape (n_l, n_(l-1))). Discards pending gradients."""
        l = self._layer_index(l)
        shape = (self._layers[l], self._layers[l - 1])
        arr = _arrays.as_float32(W, "W")
        if arr.shape != shape:
            raise ValueError(f"W has shape {tuple(arr.shape)}; expected {shape} for layer {l}")
        _arrays.check_finite(arr, "W")
        start, bias, _ = self._offsets[l - 1]
        params = self.parameters
        params[start:bias] = arr.reshape(-1)
        self._set_parameters_unchecked(params)

    def set_biases(self, l, b) -> None:
        """Replace b^l (shape (n_l,)). Discards pending gradients."""
        l = self._layer_index(l)
        shape = (self._layers[l],)
        arr = _arrays.as_float32(b, "b")
        if arr.shape != shape:
            raise ValueError(f"b has shape {tuple(arr.shape)}; expected {shape} for layer {l}")
        _arrays.check_finite(arr, "b")
        _, bias, end = self._offsets[l - 1]
        params = self.parameters
        params[bias:end] = arr
        self._set_parameters_unchecked(params)

    def _folded_layers(self) -> tuple:
        """([W^l], [b^l]) in float64 with the input scaling folded into layer 1, for
        libraries that have none: W ((x − shift)·scale) + b = (W·diag(scale)) x +
        (b − W (shift·scale))."""
        weights = [self.weights(l).astype(np.float64) for l in range(1, len(self._layers))]
        biases = [self.biases(l).astype(np.float64) for l in range(1, len(self._layers))]
        shift, scale = (v.astype(np.float64) for v in self.input_scaling)
        biases[0] = biases[0] - weights[0] @ (shift * scale)
        weights[0] = weights[0] * scale[None, :]
        return weights, biases
