"""scikit-learn models in and out: Network.from_sklearn and Network.to_sklearn.

scikit-learn holds W^l transposed (coefs_[l-1] is n_(l-1) x n_l).  scikit-learn is
imported only inside these methods; backprop.sklearn's estimators convert their
training record too (see backprop.sklearn).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SklearnInterop"]

#: scikit-learn's activation names and the library's of each, both ways.
SKLEARN_ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
LIBRARY_TO_SKLEARN = {library: sklearn for sklearn, library in SKLEARN_ACTIVATIONS.items()}
#: scikit-learn's out_activation_ names and the library's output activation of each.
OUTPUT_ACTIVATIONS = {"softmax": "softmax", "logistic": "sigmoid", "identity": "linear"}


class SklearnInterop:
    """The from_sklearn and to_sklearn methods of Network."""

    @classmethod
    def from_sklearn(cls, estimator) -> "Network":
        """A new network with the weights of a fitted scikit-learn MLPClassifier or
        MLPRegressor, or of a Pipeline of a StandardScaler and one (the scaler becomes the
        input scaling).  A classifier's network outputs its probabilities: softmax for
        several classes, one sigmoid unit (the probability of classes_[1]) for two, a
        sigmoid per label for multi-label; its loss is cross-entropy, a regressor's mse."""
        scaler, mlp = _pipeline_parts(estimator)
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(mlp)
        if mlp.out_activation_ not in OUTPUT_ACTIVATIONS:
            raise ValueError(f"out_activation_ is {mlp.out_activation_!r}; the library has {', '.join(OUTPUT_ACTIVATIONS)}")
        output = OUTPUT_ACTIVATIONS[mlp.out_activation_]
        sizes = [mlp.coefs_[0].shape[0], *(c.shape[1] for c in mlp.coefs_)]
        activations = [SKLEARN_ACTIVATIONS[mlp.activation]] * (len(mlp.coefs_) - 1) + [output]
        loss = "mse" if output == "linear" else "cross_entropy"
        net = cls(sizes, activations, loss=loss, seed=0)
        net.parameters = np.concatenate([np.concatenate([c.T.ravel(), b]) for c, b in zip(mlp.coefs_, mlp.intercepts_)])
        if scaler is not None:
            mean = scaler.mean_ if scaler.with_mean else np.zeros(sizes[0])
            scale = 1 / scaler.scale_ if scaler.with_std else np.ones(sizes[0])
            net.set_input_scaling(mean, scale)
        return net

    def to_sklearn(self, classes=None):
        """A fitted scikit-learn MLPClassifier (softmax or sigmoid output) or MLPRegressor
        (linear output) that predicts what :meth:`predict` does, to float32 rounding.

        Every hidden layer must share one activation scikit-learn has (relu, tanh,
        sigmoid = logistic, linear = identity).  The input scaling is folded into the
        first layer and a regressor's target scaling into the last.  ``classes`` are the
        classifier's labels (default 0, 1, ...: one per softmax unit, two for one sigmoid
        unit); several sigmoid units are a multi-label classifier, whose classes_ are
        0 … n-1 as scikit-learn's own (``classes`` must then hold n labels and is not used)."""
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        from sklearn.preprocessing import LabelBinarizer

        hidden, output = set(self.activations[:-1]), self.activations[-1]
        if len(hidden) > 1 or not hidden <= set(LIBRARY_TO_SKLEARN):
            raise ValueError(f"the hidden activations are {self.activations[:-1]}; scikit-learn's MLPs have one "
                             f"activation for every hidden layer, one of {', '.join(LIBRARY_TO_SKLEARN)}")
        if output not in OUTPUT_ACTIVATIONS.values():
            raise ValueError(f"the output activation is {output!r}; scikit-learn's MLPs end in softmax, "
                             "sigmoid (logistic) or linear (identity)")
        if len(self.layers) < 3:
            raise ValueError("the network has no hidden layer; scikit-learn's MLPs have at least one")
        weights, biases = self._folded_layers()
        is_classifier = output != "linear"
        if not is_classifier:
            shift, scale = (v.astype(np.float64) for v in self.target_scaling)
            weights[-1], biases[-1] = weights[-1] / scale[:, None], biases[-1] / scale + shift
        estimator_class = MLPClassifier if is_classifier else MLPRegressor
        estimator = estimator_class(hidden_layer_sizes=tuple(self.layers[1:-1]),
                                    activation=LIBRARY_TO_SKLEARN[hidden.pop()])
        estimator.coefs_ = [w.T.copy() for w in weights]
        estimator.intercepts_ = biases
        estimator.n_features_in_ = self.layers[0]
        estimator.n_layers_ = len(self.layers)
        estimator.n_outputs_ = self.layers[-1]
        estimator.out_activation_ = next(name for name, library in OUTPUT_ACTIVATIONS.items() if library == output)
        estimator.n_iter_, estimator.t_ = 0, 0
        if is_classifier:
            _set_classes(estimator, LabelBinarizer, classes, output, self.layers[-1])
        return estimator


def _set_classes(estimator, label_binarizer, classes, output, width):
    multilabel = output == "sigmoid" and width > 1
    count = 2 if output == "sigmoid" and width == 1 else width
    classes = np.arange(count) if classes is None else np.asarray(classes)
    if classes.shape != (count,):
        raise ValueError(f"classes has {classes.size} labels; this network's output gives {count}")
    binarizer = label_binarizer()
    binarizer.fit(np.eye(count, dtype=int) if multilabel else classes)
    estimator._label_binarizer = binarizer
    estimator.classes_ = binarizer.classes_ if multilabel else classes


def _pipeline_parts(estimator):
    """(StandardScaler or None, the MLP) of an MLP or a Pipeline of a scaler and an MLP."""
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if isinstance(estimator, (MLPClassifier, MLPRegressor)):
        return None, estimator
    if isinstance(estimator, Pipeline):
        steps = [step for _, step in estimator.steps if step not in (None, "passthrough")]
        if len(steps) == 2 and isinstance(steps[0], StandardScaler) and isinstance(steps[1], (MLPClassifier, MLPRegressor)):
            return steps[0], steps[1]
        if len(steps) == 1 and isinstance(steps[0], (MLPClassifier, MLPRegressor)):
            return None, steps[0]
    raise TypeError(f"estimator is {type(estimator).__name__}; expected a fitted sklearn.neural_network "
                    "MLPClassifier or MLPRegressor, or a Pipeline of a StandardScaler and one")
