"""backprop.sklearn.MLPRegressor: scikit-learn's MLPRegressor trained by the library."""

from __future__ import annotations

import inspect

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import BaseMLP, as_library_inputs

__all__ = ["MLPRegressor"]

#: `loss` values and the library's loss of each: scikit-learn's squared error, and the
#: library's robust losses under their own names.  scikit-learn's "poisson" needs an
#: exponential output, which the library lacks.
LOSSES = {"squared_error": "mse", "huber": "huber", "l1": "l1"}


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor: scikit-learn's MLPRegressor, trained by libbackprop.

    As backprop.sklearn.MLPClassifier (see it for solver, activation, alpha and the
    library's extras: dropout, init, threads, standardize), with an identity output and
    ``loss``: "squared_error" (scikit-learn's ½ mean squared error, reported as
    scikit-learn reports it: averaged over outputs too), or the library's "huber" (δ = 1)
    and "l1".  "poisson" raises ValueError.  Single- and multi-output targets.
    """

    # The parameters are the base's plus `loss`, declared once there and here: sklearn reads
    # them from the signature, which must not hide them behind **kwargs.
    def __init__(self, *args, loss="squared_error", **kwargs):
        super().__init__(*args, **kwargs)
        self.loss = loss

    __init__.__signature__ = inspect.signature(BaseMLP.__init__).replace(
        parameters=[
            *inspect.signature(BaseMLP.__init__).parameters.values(),
            inspect.Parameter("loss", inspect.Parameter.KEYWORD_ONLY, default="squared_error"),
        ]
    )

    def _validate_input(self, X, y, incremental, reset):
        if self.loss not in LOSSES:
            supported = ", ".join(repr(name) for name in LOSSES)
            raise ValueError(f"loss={self.loss!r} is not supported by backprop.sklearn; the supported losses are "
                             f"{supported}")
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        Y = np.ascontiguousarray(y.reshape(y.shape[0], -1), dtype=np.float32)
        if not np.isfinite(Y).all():
            raise ValueError("y holds values too large for float32")
        return as_library_inputs(X), Y

    def _output_activation(self, Y):
        return "identity"

    def _library_loss(self):
        return LOSSES[self.loss]

    def _reported_loss(self, loss):
        # The library's squared error is ½‖a − y‖² per sample, scikit-learn's ½ mean over
        # the outputs too; their gradients are the same (scikit-learn's δ is a − y).
        if self.loss == "squared_error":
            return float(loss) / self.n_outputs_
        return float(loss)

    def _validation_score(self, X, Y, w):
        return r2_score(Y, self._network.predict(X), sample_weight=w)

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over X, y, as scikit-learn's partial_fit."""
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predictions (n_samples,) for one output, else (n_samples, n_outputs)."""
        outputs = self._outputs(X)
        return outputs.ravel() if outputs.shape[1] == 1 else outputs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
