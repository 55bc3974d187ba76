"""What a network is made of, as the library reports it: its layer sizes, activations and
loss (bp_layer_count, bp_layer_size, bp_layer_activation, bp_loss_function), for created
and loaded networks alike, and which networks are classifiers."""

from __future__ import annotations

from . import _lib
from ._codes import ACTIVATION_NAMES, BP_ERROR_UNKNOWN_ENUM, LOSS_NAMES
from .errors import UnknownEnumError

__all__ = ["architecture", "CLASSIFIER_OUTPUTS"]

#: The output activations of classifiers, the library's rule (bp_evaluate() in backprop.h):
#: a softmax or sigmoid output layer, of any width and with either loss.
CLASSIFIER_OUTPUTS = ("softmax", "sigmoid")


def architecture(handle):
    """(layer sizes, activation names, loss name) of a network, as the library reports them
    (bp_layer_count, bp_layer_size, bp_layer_activation, bp_loss_function)."""
    lib = _lib.lib
    count = int(lib.bp_layer_count(handle))
    sizes = tuple(int(lib.bp_layer_size(handle, i)) for i in range(count))
    if count < 2 or 0 in sizes:  # contract violation
        raise RuntimeError(f"the library describes a network with layer sizes {list(sizes)}")
    acts = tuple(
        _name_of(lib.bp_layer_activation(handle, l), ACTIVATION_NAMES, f"layer {l} has activation",
                 "bp_layer_activation")
        for l in range(1, count)
    )
    loss = _name_of(lib.bp_loss_function(handle), LOSS_NAMES, "the network has loss", "bp_loss_function")
    return sizes, acts, loss


def _name_of(code: int, names: dict, what: str, function: str) -> str:
    """The Python name of a code the library reported; UnknownEnumError for a code this
    binding does not know (a newer library than the package)."""
    name = names.get(code)
    if name is None:
        raise UnknownEnumError(
            BP_ERROR_UNKNOWN_ENUM,
            f"{what} code {code}, which this binding does not know (known: "
            + ", ".join(f"{c} {n}" for c, n in names.items())
            + "); update the backprop package to match the library",
            function,
        )
    return name
