"""backprop.sklearn.MLPClassifier: scikit-learn's MLPClassifier trained by the library."""

from __future__ import annotations

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets, type_of_target
from sklearn.utils.multiclass import unique_labels
from sklearn.utils.validation import column_or_1d, validate_data

from ._base import BaseMLP, as_library_inputs

__all__ = ["MLPClassifier"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier: scikit-learn's MLPClassifier, trained by libbackprop.

    The parameters, their defaults and meanings, the fitted attributes and the methods are
    scikit-learn's (``from backprop.sklearn import MLPClassifier`` is the only change a
    script needs); the network minimises the log-loss with a softmax output for more than
    two classes and a logistic output for two classes and for multi-label targets, as
    scikit-learn's does.  Where the library differs, it says so:

    solver : {"adam", "sgd"}
        "lbfgs" raises ValueError: the library trains by stochastic gradient steps only.
    activation : str
        "identity", "logistic", "tanh", "relu", and the library's own hidden activations
        under their own names: "leaky_relu", "gelu", "silu", "softplus", "elu".
    alpha : float
        L2 penalty, applied as the library's weight decay α / batch size (see
        backprop.sklearn._solver: the biases are decayed by the same tiny λ).
    max_fun : int
        Accepted for scikit-learn's signature; used by lbfgs only, so never here.

    The library's extras:

    dropout : float, sequence of float or None
        Inverted dropout of the hidden layers while training (Network's ``dropout``).
    init : str
        The initialisation scheme, one of backprop.INITIALIZATIONS; the default
        "sklearn" draws W and b as scikit-learn does, U(±√(f / (fan_in + fan_out))).
    threads : int or None
        Threads for training (results are bit-identical for any count); None: all cores.
    standardize : bool
        Learn the inputs' mean and deviation on the first fit and standardise inside the
        model (it still takes raw inputs; coefs_[0] then acts on standardised ones).

    Beyond scikit-learn's attributes, ``network`` is the fitted backprop.Network.
    """

    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as in the previous call to "
                        f"fit. Previously got {self.classes_}, `y` has {classes}"
                    )
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {classes}.")
        Y = np.ascontiguousarray(self._label_binarizer.transform(y), dtype=np.float32)
        return as_library_inputs(X), Y

    def _output_activation(self, Y):
        return "softmax" if self._label_binarizer.y_type_ == "multiclass" else "logistic"

    def _library_loss(self):
        return "cross_entropy"

    def _reported_loss(self, loss):
        return float(loss)

    def _stratifies(self):
        return True

    def _validation_score(self, X, Y, w):
        labels = self._label_binarizer.inverse_transform(Y)
        return accuracy_score(labels, self._labels(self._network.predict(X)), sample_weight=w)

    def _labels(self, outputs):
        if self.n_outputs_ == 1:
            outputs = outputs.ravel()
        return self._label_binarizer.inverse_transform(outputs)

    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over X, y, as scikit-learn's partial_fit; ``classes`` (every class y
        may ever hold) is required on the first call, unless y is multi-label."""
        self._check_before_fit(incremental=True)
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight, incremental=True)

    def predict(self, X):
        """Predicted classes (n_samples,), or a label-indicator matrix for multi-label targets."""
        return self._labels(self._outputs(X))

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes), columns in the order of classes_."""
        outputs = self._outputs(X)
        if self.n_outputs_ == 1:
            outputs = outputs.ravel()
        if outputs.ndim == 1:
            return np.vstack([1 - outputs, outputs]).T
        return outputs

    def predict_log_proba(self, X):
        """log(predict_proba(X))."""
        probabilities = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(probabilities, out=probabilities)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags
