"""scikit-learn's solvers on the library: which optimizer and schedule each setting is,
the weight decay that is scikit-learn's alpha, and the learning rate between epochs.

scikit-learn's stochastic solvers, written in the library's terms:
- "adam": the library's Adam with beta_1, beta_2 and epsilon (its learning_rate
  setting does not apply to adam, as in scikit-learn);
- "sgd": plain SGD when momentum is 0, else the library's momentum or Nesterov optimizer
  with μ = momentum.  With a constant η, v ← μv + g; θ ← θ − ηv is scikit-learn's
  v ← μv − ηg; θ ← θ + v (its velocity is −η times the library's), and likewise for
  Nesterov, so the steps are the same;
- learning_rate "invscaling" is the library's invscaling schedule (η0 / (t + 1)^power_t,
  t the samples seen); "adaptive" divides η by 5 each time the loss stagnates (see
  Stagnation), as scikit-learn's does, between the library's epochs.
Where η changes (the adaptive rate, invscaling) the momentum built up is rescaled with it
in the library and not in scikit-learn.  Adam adds ε to √v̂ (as PyTorch and the paper);
scikit-learn adds it to √v before the bias correction, an ε larger by 1/√(1 − β2^t)
early on: the two differ only when ε matters (ε large, or gradients near ε).  A
warm-started fit restarts invscaling's count of samples (scikit-learn runs its first
epoch at η0, then continues from its t_).
- alpha: scikit-learn adds α W / B to each batch's gradient of the weights (B, the
  batch's total sample weight); the library's weight decay is a constant λ, here
  α / B for B the batch size times the mean sample weight.  Two differences are
  left: the library decays the biases too (by the same λ, so by α/B; with the
  default α = 1e-4 and B = 200 that is 5e-7 per step), and its λ does not grow on a
  last, smaller batch.
"""

from __future__ import annotations

__all__ = ["start_solver", "set_weight_decay", "Stagnation"]

#: scikit-learn's adaptive rate stops training rather than go below this.
ADAPTIVE_FLOOR = 1e-6


def _optimizer(estimator) -> tuple:
    """(library optimizer name, its hyperparameters) for the estimator's solver."""
    if estimator.solver == "adam":
        return "adam", {"beta1": estimator.beta_1, "beta2": estimator.beta_2, "epsilon": estimator.epsilon}
    if estimator.momentum == 0:
        return "sgd", {}
    return ("nesterov" if estimator.nesterovs_momentum else "momentum"), {"momentum": estimator.momentum}


def start_solver(estimator, net) -> None:
    """Give `net` a fresh optimizer and schedule for the estimator's solver, as each
    scikit-learn fit() starts a new one (partial_fit keeps its first)."""
    name, hyperparameters = _optimizer(estimator)
    if name != "sgd" and net.get_option("optimizer") == name:
        # Choosing the current optimizer keeps its state (plain SGD has none), while
        # scikit-learn's fit starts from none: going through SGD clears it.
        net.set_optimizer("sgd")
    net.set_optimizer(name, **hyperparameters)
    net.set_schedule("constant")  # which also restarts invscaling's count of samples
    if estimator.solver == "sgd" and estimator.learning_rate == "invscaling":
        net.set_schedule("invscaling", power_t=estimator.power_t)


def set_weight_decay(estimator, net, batch_size: int, mean_weight: float) -> None:
    """The library's λ for scikit-learn's alpha at this batch size (see the module)."""
    net.set_option("weight_decay", estimator.alpha / (batch_size * mean_weight))


class Stagnation:
    """scikit-learn's rule after each epoch: count the epochs in a row whose loss (or,
    with early stopping, validation score) did not improve on the best by tol; past
    n_iter_no_change of them, stop, or with learning_rate="adaptive" (sgd), divide η by
    5 and count again, stopping only once η ≤ 1e-6."""

    def __init__(self, estimator):
        self.estimator = estimator

    def improved_loss(self, loss: float) -> None:
        est = self.estimator
        est._no_improvement_count = est._no_improvement_count + 1 if loss > est.best_loss_ - est.tol else 0
        est.best_loss_ = min(est.best_loss_, loss)

    def improved_score(self, score: float) -> bool:
        """Counts a validation score; True when it is the best so far."""
        est = self.estimator
        est._no_improvement_count = est._no_improvement_count + 1 if score < est.best_validation_score_ + est.tol else 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            return True
        return False

    def should_stop(self) -> bool:
        """After an epoch's count: True to stop training (with scikit-learn's message when verbose)."""
        est = self.estimator
        if est._no_improvement_count <= est.n_iter_no_change:
            return False
        quantity = "Validation score" if est.early_stopping else "Training loss"
        message = f"{quantity} did not improve more than tol={est.tol:f} for {est.n_iter_no_change} consecutive epochs."
        adaptive = est.solver == "sgd" and est.learning_rate == "adaptive"
        if adaptive and est._learning_rate > ADAPTIVE_FLOOR:
            est._learning_rate /= 5.0
            est._no_improvement_count = 0
            if est.verbose:
                print(f"{message} Setting learning rate to {est._learning_rate:f}")
            return False
        if est.verbose:
            print(f"{message} {'Learning rate too small. ' if adaptive else ''}Stopping.")
        return True
