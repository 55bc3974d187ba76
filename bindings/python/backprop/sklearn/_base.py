"""What MLPClassifier and MLPRegressor share: scikit-learn's parameters and fitted
attributes over one backprop Network, and scikit-learn's training loop around the
library's epochs.

Each epoch is one library epoch (Network.fit(epochs=1): shuffled mini-batches, every
step in C without the GIL), so what scikit-learn does between epochs stays as
scikit-learn does it: the loss it reports (the L2 term included), tol and
n_iter_no_change, early stopping on the validation score with the best parameters
restored at the end, the adaptive learning rate, verbose lines and the
ConvergenceWarning."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._dropout import dropout_rates
from .._parameters import layer_offsets
from ..errors import DivergedError
from ..network import Network
from . import _conversion, _solver
from ._parameters import HIDDEN_ACTIVATIONS, OUTPUT_ACTIVATIONS, check_parameters, hidden_layers

__all__ = ["BaseMLP"]

_SEED_LIMIT = (1 << 63) - 1


def _seed(rng) -> int:
    """One library seed drawn from a numpy RandomState."""
    return int(rng.randint(0, _SEED_LIMIT, dtype=np.int64))


def as_library_inputs(X) -> np.ndarray:
    """Validated inputs (dense or scipy sparse) as the C-contiguous float32 the library reads."""
    if hasattr(X, "toarray"):
        X = X.toarray()
    return np.ascontiguousarray(X, dtype=np.float32)


class BaseMLP(BaseEstimator):
    """The shared base (not an estimator by itself); see MLPClassifier for the parameters."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        solver="adam",
        alpha=0.0001,
        batch_size="auto",
        learning_rate="constant",
        learning_rate_init=0.001,
        power_t=0.5,
        max_iter=200,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=False,
        warm_start=False,
        momentum=0.9,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_fun=15000,
        dropout=None,
        init="sklearn",
        threads=None,
        standardize=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dropout = dropout
        self.init = init
        self.threads = threads
        self.standardize = standardize

    # ------------------------------------------------------------------ what subclasses say
    # _validate_input(X, y, incremental, reset) -> (X, Y): float32 inputs, 2-D float32 targets
    # _output_activation(Y) -> scikit-learn's out_activation_ for these targets
    # _library_loss() -> the library's loss name
    # _reported_loss(loss) -> scikit-learn's loss from the library's data loss
    # _validation_score(X, Y, w) -> scikit-learn's score on the validation split

    # ------------------------------------------------------------------ fitting

    def fit(self, X, y, sample_weight=None):
        """Fit the model to data matrix X and targets y, as scikit-learn's fit.

        ``sample_weight`` weighs each sample's loss and gradient (Σ w C / Σ w per batch)."""
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(self, X, y, sample_weight, incremental):
        self._check_before_fit(incremental)
        first_pass = not hasattr(self, "_network") or not (self.warm_start or incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        w = None
        if sample_weight is not None:
            w = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
            w = np.ascontiguousarray(w, dtype=np.float32)
        if not first_pass and Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} outputs; the fitted model has {self.n_outputs_}")
        rng = check_random_state(self.random_state)
        if first_pass:
            self._initialize(X, Y, rng)
        net = self._network
        self._configure(net)
        if not incremental or not getattr(self, "_solver_started", False):
            _solver.start_solver(self, net)
            self._learning_rate = float(self.learning_rate_init)
            self._solver_started = True
        train, validation = self._split(X, Y, w, rng)
        self._train(net, train, validation, rng, incremental)
        return self

    def _check_before_fit(self, incremental) -> None:
        """Every refusal that needs no data, before anything fitted changes."""
        check_parameters(self)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_network")

    def _initialize(self, X, Y, rng) -> None:
        """A new network and scikit-learn's fresh fitted state, as its _initialize."""
        hidden = hidden_layers(self)
        sklearn_output = self._output_activation(Y)
        layers = [X.shape[1], *hidden, Y.shape[1]]
        activations = [HIDDEN_ACTIVATIONS[self.activation]] * len(hidden) + [OUTPUT_ACTIVATIONS[sklearn_output]]
        net = Network(layers, activations, loss=self._library_loss(), seed=_seed(rng), init=self.init,
                      dropout=self.dropout)
        if self.standardize:
            net.standardize(X)
        self._network = net
        self.n_outputs_ = Y.shape[1]
        self.n_layers_ = len(layers)
        self.out_activation_ = sklearn_output
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        self._best_parameters = net.parameters
        if self.early_stopping:
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
            self.best_loss_ = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    def _configure(self, net) -> None:
        """The settings a warm-started fit takes up anew: threads and dropout."""
        net.threads = 0 if self.threads is None else self.threads
        hidden = len(net.layers) - 2
        if hidden and not np.array_equal(net.dropout, dropout_rates(self.dropout, hidden)):
            net.dropout = self.dropout

    def _split(self, X, Y, w, rng):
        """(train, validation) triples (X, Y, w); validation is None without early stopping."""
        if not self.early_stopping:
            return (X, Y, w), None
        stratify = Y if self.n_outputs_ == 1 and self._stratifies() else None
        arrays = (X, Y) if w is None else (X, Y, w)
        parts = train_test_split(*arrays, random_state=rng, test_size=self.validation_fraction, stratify=stratify)
        X_train, X_val, Y_train, Y_val = parts[:4]
        w_train, w_val = (None, None) if w is None else parts[4:]
        if X_val.shape[0] < 2:
            raise ValueError(
                "The validation set is too small. Increase 'validation_fraction' or the size of your dataset."
            )
        return (X_train, Y_train, w_train), (X_val, Y_val, w_val)

    def _stratifies(self) -> bool:
        return False

    def _batch_size(self, n: int) -> int:
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
        return int(np.clip(self.batch_size, 1, n))

    def _train(self, net, train, validation, rng, incremental) -> None:
        """scikit-learn's epochs: as few library runs as its rules allow (one, unless the
        adaptive rate changes η), each epoch's bookkeeping in the run's callback."""
        X, Y, w = train
        n = X.shape[0]
        batch_size = self._batch_size(n)
        total_weight = float(n if w is None else w.sum())
        _solver.set_weight_decay(self, net, batch_size, total_weight / n)
        # scikit-learn adds ½α‖W‖² / (batch weight) per batch to the loss: per epoch,
        # batches / Σw times ½α‖W‖², W as each batch starts (here: as the epoch starts).
        penalty = 0.5 * self.alpha * (-(-n // batch_size)) / total_weight  # Σw > 0: checked by the library
        epochs = 1 if incremental else self.max_iter
        stagnation = _solver.Stagnation(self)
        state = {"squares": self._squares(net), "done": 0, "stop": False}

        def after_epoch(_epoch, logs):
            self.loss_ = self._reported_loss(logs["loss"]) + penalty * state["squares"]
            self.loss_curve_.append(self.loss_)
            state["squares"] = self._squares(net)
            state["done"] += 1
            self.n_iter_ += 1
            self.t_ += n
            if self.verbose:
                print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}")
            if validation is None:
                stagnation.improved_loss(self.loss_)
            else:
                self._validate(net, validation, stagnation)
            rate = self._learning_rate
            state["stop"] = stagnation.should_stop()
            return state["stop"] or self._learning_rate != rate  # a new η needs a new run

        self.n_iter_ = 0
        try:
            while state["done"] < epochs and not state["stop"]:
                try:
                    net.fit(X, Y, epochs=epochs - state["done"], batch_size=batch_size,
                            learning_rate=self._learning_rate, shuffle=bool(self.shuffle), seed=_seed(rng),
                            sample_weight=w, callback=after_epoch, verbose=0, restore_best=False)
                except DivergedError as exc:
                    raise ValueError(
                        "Solver produced non-finite parameter weights. The input data may contain large values "
                        "and need to be preprocessed."
                    ) from exc
            if not incremental and not state["stop"] and self.n_iter_ == self.max_iter:
                warnings.warn(
                    f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the optimization "
                    "hasn't converged yet.",
                    ConvergenceWarning,
                )
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        if validation is not None:
            net.parameters = self._best_parameters

    def _squares(self, net) -> float:
        """‖W‖² over every layer's weights (not the biases), as scikit-learn's L2 term."""
        return sum(float(np.dot(W.ravel(), W.ravel())) for W in self._weights(net))

    def _validate(self, net, validation, stagnation) -> None:
        score = self._validation_score(*validation)
        self.validation_scores_.append(score)
        if self.verbose:
            print(f"Validation score: {score:f}")
        if stagnation.improved_score(score):
            self._best_parameters = net.parameters

    # ------------------------------------------------------------------ the fitted model

    def _outputs(self, X) -> np.ndarray:
        """The network's outputs for X (validated as scikit-learn's predict does), float64."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return self._network.predict(as_library_inputs(X)).astype(np.float64)

    @staticmethod
    def _weights(net) -> list:
        params = net.parameters
        sizes = net.layers
        return [params[start:bias].reshape(sizes[l + 1], sizes[l])
                for l, (start, bias, _) in enumerate(layer_offsets(sizes))]

    @property
    def coefs_(self) -> list:
        """Weight matrices as scikit-learn holds them: coefs_[i] is (n_in, n_out), the
        transpose of the library's W^(i+1); float32 copies (assign a list to replace them).
        With standardize=True, coefs_[0] acts on the standardised inputs."""
        check_is_fitted(self)
        return [W.T.copy() for W in self._weights(self._network)]

    @coefs_.setter
    def coefs_(self, coefs) -> None:
        check_is_fitted(self)
        for l, coef in enumerate(coefs, start=1):
            self._network.set_weights(l, np.asarray(coef).T)

    @property
    def intercepts_(self) -> list:
        """Bias vectors: intercepts_[i] is b^(i+1), (n_out,); float32 copies (assignable)."""
        check_is_fitted(self)
        params = self._network.parameters
        return [params[bias:end].copy() for _, bias, end in layer_offsets(self._network.layers)]

    @intercepts_.setter
    def intercepts_(self, intercepts) -> None:
        check_is_fitted(self)
        for l, intercept in enumerate(intercepts, start=1):
            self._network.set_biases(l, intercept)

    @property
    def network(self) -> Network:
        """The fitted backprop Network itself (save it, run it from C, ...)."""
        check_is_fitted(self)
        return self._network

    @classmethod
    def from_sklearn(cls, estimator):
        """This estimator, fitted as the fitted scikit-learn estimator of the same name
        (sklearn.neural_network.MLPClassifier or MLPRegressor) is: its parameters, weights,
        classes and training record, so that both predict the same.  scikit-learn's
        optimizer state (Adam's moments, the velocities) does not cross over: the next fit
        or partial_fit starts a fresh one.  A model trained with solver="lbfgs" keeps that
        parameter, so it predicts but refuses to fit until set_params(solver="adam")."""
        return _conversion.from_sklearn(cls, estimator)

    def to_sklearn(self):
        """The fitted scikit-learn estimator of the same name that predicts as this one does."""
        return _conversion.to_sklearn(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __setstate__(self, state):
        super().__setstate__(state)
        if "_network" in state:
            self._configure(self._network)  # threads are not part of a model file

