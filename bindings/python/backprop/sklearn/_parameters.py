"""The hyperparameters of backprop.sklearn's estimators: the rule each value must follow,
and what each means to the library (activation names, the optimizer a solver is, the
schedule a learning_rate is).  Checked when fit starts, as scikit-learn does, so that
set_params() and clone() never raise."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._codes import ACTIVATIONS, INITIALIZATIONS
from .._dropout import dropout_rates
from .._sklearn_interop import OUTPUT_ACTIVATIONS, SKLEARN_ACTIVATIONS

__all__ = ["HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "SKLEARN_ACTIVATIONS", "SUPPORTED_SOLVERS", "check_parameters",
           "hidden_layers"]

#: Every name `activation` accepts: scikit-learn's, then the library's own hidden
#: activations under their own names (softmax is an output only).
HIDDEN_ACTIVATIONS = {
    **SKLEARN_ACTIVATIONS,
    **{name: name for name in ACTIVATIONS if name not in SKLEARN_ACTIVATIONS.values() and name != "softmax"},
}

#: The solvers the library trains with; scikit-learn's "lbfgs" is not one of them.
SUPPORTED_SOLVERS = ("adam", "sgd")

_LEARNING_RATES = ("constant", "invscaling", "adaptive")


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_bool(value) -> bool:
    return isinstance(value, (bool, np.bool_))


def _real_in(low, high, low_closed=True, high_closed=False):
    def check(value):
        if not _is_real(value) or math.isnan(value):
            return False
        above = value >= low if low_closed else value > low
        below = value <= high if high_closed else value < high
        return above and below

    left, right = "[" if low_closed else "(", "]" if high_closed else ")"
    return check, f"a float in the range {left}{low}, {high}{right}"


def _integer_from(low):
    return (lambda value: _is_integer(value) and value >= low), f"an int in the range [{low}, inf)"


_BOOLEAN = (_is_bool, "an instance of 'bool'")
_INF = math.inf

#: name -> (check, description) of every hyperparameter with a plain rule.
_RULES = {
    "alpha": _real_in(0, _INF),
    "batch_size": ((lambda v: v == "auto" or (_is_integer(v) and v >= 1)), "'auto' or an int in the range [1, inf)"),
    "learning_rate_init": _real_in(0, _INF, low_closed=False),
    "power_t": _real_in(0, _INF),
    "max_iter": _integer_from(1),
    "shuffle": _BOOLEAN,
    "tol": _real_in(0, _INF),
    "warm_start": _BOOLEAN,
    # scikit-learn takes momentum = 1; the library's momentum is in [0, 1), and μ = 1
    # would never forget a gradient.
    "momentum": _real_in(0, 1),
    "nesterovs_momentum": _BOOLEAN,
    "early_stopping": _BOOLEAN,
    "validation_fraction": _real_in(0, 1),
    "beta_1": _real_in(0, 1),
    "beta_2": _real_in(0, 1),
    # The library's ε is at least FLT_MIN: a float32 ε below it would be 0 or subnormal.
    "epsilon": _real_in(float(np.finfo(np.float32).tiny), _INF),
    "n_iter_no_change": ((lambda v: v == _INF or (_is_integer(v) and v >= 1)), "an int in the range [1, inf) or inf"),
    "max_fun": _integer_from(1),
    "threads": ((lambda v: v is None or (_is_integer(v) and 0 <= v <= 256)), "None or an int in the range [0, 256]"),
    "standardize": _BOOLEAN,
    "verbose": ((lambda v: _is_bool(v) or _is_integer(v)), "a bool or an int"),
}

_CHOICES = {
    "activation": tuple(HIDDEN_ACTIVATIONS),
    "learning_rate": _LEARNING_RATES,
    "init": tuple(INITIALIZATIONS),
}


def _invalid(estimator, name: str, value, expected: str) -> ValueError:
    return ValueError(
        f"The '{name}' parameter of {type(estimator).__name__} must be {expected}. Got {value!r} instead."
    )


def hidden_layers(estimator) -> list:
    """hidden_layer_sizes as a list of widths (an int is one hidden layer; () none)."""
    sizes = estimator.hidden_layer_sizes
    if _is_integer(sizes):
        sizes = [sizes]
    try:
        sizes = list(sizes)
    except TypeError:
        raise _invalid(estimator, "hidden_layer_sizes", sizes, "an int or a sequence of ints, each >= 1") from None
    if not all(_is_integer(width) and width >= 1 for width in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
    return [int(width) for width in sizes]


def check_parameters(estimator) -> None:
    """Raise ValueError naming the first hyperparameter of `estimator` that breaks its rule,
    before fit changes anything."""
    rates = dropout_rates(estimator.dropout, len(hidden_layers(estimator)))
    if not np.all((rates >= 0) & (rates < 1)):
        raise _invalid(estimator, "dropout", estimator.dropout,
                       "None, or a rate in [0, 1) for every hidden layer or one per hidden layer")
    if estimator.solver not in SUPPORTED_SOLVERS:
        supported = ", ".join(repr(s) for s in SUPPORTED_SOLVERS)
        raise ValueError(
            f"solver={estimator.solver!r} is not supported by backprop.sklearn; the supported solvers are "
            f"{supported} (the library trains by stochastic gradient steps only)"
        )
    for name, choices in _CHOICES.items():
        value = getattr(estimator, name)
        if not (isinstance(value, str) and value in choices):
            raise _invalid(estimator, name, value, "a str among {" + ", ".join(repr(c) for c in choices) + "}")
    for name, (check, expected) in _RULES.items():
        value = getattr(estimator, name)
        if not check(value):
            raise _invalid(estimator, name, value, expected)
