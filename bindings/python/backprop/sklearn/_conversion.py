"""Conversions between backprop.sklearn's estimators and scikit-learn's fitted
MLPClassifier / MLPRegressor: the same layers, weights, classes and training record, so
both predict the same (to float32 rounding: the library computes in float32).

scikit-learn holds W^l transposed (coefs_[l-1] is n_(l-1) × n_l) and computes in its
inputs' precision; the library's input scaling, which scikit-learn's MLPs lack, is folded
into the first layer on the way out: W (x − shift)·scale + b = (W·diag(scale)) x +
(b − W (shift·scale))."""

from __future__ import annotations

import copy

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..network import Network
from ._parameters import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, SKLEARN_ACTIVATIONS

__all__ = ["from_sklearn", "to_sklearn"]

#: Fitted attributes copied as they are, both ways, when the source has them.
_RECORD = (
    "n_features_in_", "feature_names_in_", "n_outputs_", "n_layers_", "out_activation_", "n_iter_", "t_",
    "loss_", "loss_curve_", "best_loss_", "validation_scores_", "best_validation_score_", "classes_",
    "_label_binarizer", "_no_improvement_count",
)


def _sklearn_class(estimator_class):
    from sklearn import neural_network

    return getattr(neural_network, estimator_class.__name__)


def _shared_parameters(source, target_class) -> dict:
    names = target_class._get_param_names()
    return {name: value for name, value in source.get_params(deep=False).items() if name in names}


def _copy_record(source, target) -> None:
    for name in _RECORD:
        if hasattr(source, name):
            setattr(target, name, copy.deepcopy(getattr(source, name)))


def from_sklearn(cls, estimator):
    """A fitted `cls` (backprop's MLPClassifier or MLPRegressor) from scikit-learn's."""
    expected = _sklearn_class(cls)
    if not isinstance(estimator, expected):
        raise TypeError(f"{cls.__name__}.from_sklearn() takes a sklearn.neural_network.{expected.__name__}; "
                        f"got {type(estimator).__name__}")
    check_is_fitted(estimator)
    if estimator.out_activation_ not in OUTPUT_ACTIVATIONS:
        raise ValueError(f"the estimator's out_activation_ is {estimator.out_activation_!r}; the library has "
                         f"{', '.join(repr(name) for name in OUTPUT_ACTIVATIONS)}")
    result = cls(**_shared_parameters(estimator, cls))
    coefs, intercepts = estimator.coefs_, estimator.intercepts_
    layers = [coefs[0].shape[0], *(c.shape[1] for c in coefs)]
    output = OUTPUT_ACTIVATIONS[estimator.out_activation_]
    activations = [SKLEARN_ACTIVATIONS[estimator.activation]] * (len(coefs) - 1) + [output]
    net = Network(layers, activations, loss=result._library_loss(), seed=0)
    net.parameters = np.concatenate([np.concatenate([c.T.ravel(), b]) for c, b in zip(coefs, intercepts)])
    result._network = net
    _copy_record(estimator, result)
    result._best_parameters = net.parameters
    return result


def _sklearn_layers(estimator) -> tuple:
    """(coefs, intercepts) in float64 as scikit-learn holds them, input scaling folded in."""
    weights, biases = estimator.network._folded_layers()
    return [w.T.copy() for w in weights], biases


def to_sklearn(estimator):
    """scikit-learn's fitted estimator from backprop's `estimator`."""
    check_is_fitted(estimator)
    if estimator.activation not in SKLEARN_ACTIVATIONS:
        library_only = [name for name in HIDDEN_ACTIVATIONS if name not in SKLEARN_ACTIVATIONS]
        raise ValueError(f"activation={estimator.activation!r} has no scikit-learn counterpart (scikit-learn has "
                         f"{', '.join(repr(n) for n in SKLEARN_ACTIVATIONS)}; the library adds "
                         f"{', '.join(repr(n) for n in library_only)})")
    if getattr(estimator, "loss", "squared_error") != "squared_error":
        raise ValueError(f"loss={estimator.loss!r} has no scikit-learn counterpart (MLPRegressor's is 'squared_error')")
    target_class = _sklearn_class(type(estimator))
    result = target_class(**_shared_parameters(estimator, target_class))
    _copy_record(estimator, result)
    result.coefs_, result.intercepts_ = _sklearn_layers(estimator)
    result._best_coefs = [c.copy() for c in result.coefs_]
    result._best_intercepts = [b.copy() for b in result.intercepts_]
    return result
