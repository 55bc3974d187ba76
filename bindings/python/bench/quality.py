#!/usr/bin/env python3
"""How good are the models the library trains? Test scores of backprop networks, one
column per initialisation scheme (BP_INIT_*), beside scikit-learn's MLPClassifier or
MLPRegressor with the same architecture and training settings, in one run.

The benchmark behind the choice of the Python package's and the CLI's default scheme
(issue 17); the figures belong in the note with the CPU they ran on.

Data sets (each split 75/25, stratified for classes, by the run's seed; inputs
standardised with the training part's mean and deviation):
  iris, wine, breast_cancer, digits  scikit-learn's bundled classification sets;
  diabetes                           scikit-learn's bundled regression set (R², targets
                                     standardised like the inputs, MSE loss, linear output);
  tabular                            make_classification(20,000 samples, 100 features,
                                     20 informative, 5 classes, random_state=0): issue 17's
                                     100-256-128-5 task.
Settings, the same for every column: ReLU hidden layers, a softmax output with
cross-entropy (classes) or a linear one with MSE (regression), Adam with learning rate
1e-3 and scikit-learn's β1, β2, ε, no weight decay (alpha=0 for scikit-learn), shuffled
mini-batches, a fixed number of epochs (scikit-learn's tol and early stopping disabled
so both run the same epochs). Scores: accuracy or R² on the held-out part, mean and
[min..max] over the seeds; seconds: mean training time of one fit.

Usage (the library built; scikit-learn installed, e.g. python3 -m pip install scikit-learn):
    BACKPROP_LIBRARY=$PWD/.build/release/libbackprop.so \\
        python3 bindings/python/bench/quality.py [--seeds 0,1,2] [--sets iris,tabular] [--schemes pytorch,sklearn]
"""

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import backprop  # noqa: E402

try:
    from sklearn import datasets
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier, MLPRegressor
except ImportError:  # pragma: no cover - a benchmark, not a test
    sys.exit("quality.py needs scikit-learn: python3 -m pip install scikit-learn")


@dataclass(frozen=True)
class Task:
    name: str
    load: object  # () -> (X, y)
    hidden: tuple
    epochs: int
    batch: int
    regression: bool = False


def tabular():
    return datasets.make_classification(
        n_samples=20_000, n_features=100, n_informative=20, n_classes=5, random_state=0)


TASKS = [
    Task("iris", lambda: datasets.load_iris(return_X_y=True), (100,), 200, 32),
    Task("wine", lambda: datasets.load_wine(return_X_y=True), (100,), 200, 32),
    Task("breast_cancer", lambda: datasets.load_breast_cancer(return_X_y=True), (100,), 100, 32),
    Task("digits", lambda: datasets.load_digits(return_X_y=True), (100,), 50, 32),
    Task("diabetes", lambda: datasets.load_diabetes(return_X_y=True), (100,), 50, 32, regression=True),
    Task("tabular", tabular, (256, 128), 20, 64),
]


def split(task, X, y, seed):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=None if task.regression else y)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1
    X_train, X_test = ((part - mean) / std for part in (X_train, X_test))
    if task.regression:
        y_mean, y_std = y_train.mean(), y_train.std()
        y_train, y_test = ((part - y_mean) / y_std for part in (y_train, y_test))
    return (X_train.astype(np.float32), X_test.astype(np.float32),
            y_train.astype(np.float32 if task.regression else np.int64), y_test)


def score(task, predicted, y_test):
    if task.regression:
        residual = ((y_test - predicted.ravel()) ** 2).sum()
        return 1 - residual / ((y_test - y_test.mean()) ** 2).sum()
    return float((predicted.argmax(axis=1) == y_test).mean())


def settle():
    """Waits before a timed fit until the previous one's threads are idle: OpenBLAS's
    workers spin for a while after each call, and on a 2-core machine they took a third
    of the next backprop fit's time."""
    time.sleep(0.5)


def run_backprop(task, data, scheme, seed):
    X_train, X_test, y_train, y_test = data
    outputs = 1 if task.regression else int(y_train.max()) + 1
    layers = [X_train.shape[1], *task.hidden, outputs]
    activations = ["relu"] * len(task.hidden) + ["linear" if task.regression else "softmax"]
    net = backprop.Network(layers, activations, loss="mse" if task.regression else "cross_entropy",
                           seed=seed, init=scheme)
    net.set_optimizer("adam", beta1=0.9, beta2=0.999, epsilon=1e-8)
    targets = y_train.reshape(-1, 1) if task.regression else y_train
    settle()
    start = time.perf_counter()
    net.fit(X_train, targets, epochs=task.epochs, batch_size=task.batch, learning_rate=1e-3, seed=seed, verbose=0)
    seconds = time.perf_counter() - start
    return score(task, net.predict(X_test), y_test), seconds


def run_sklearn(task, data, seed):
    X_train, X_test, y_train, y_test = data
    model_class = MLPRegressor if task.regression else MLPClassifier
    model = model_class(
        hidden_layer_sizes=task.hidden, activation="relu", solver="adam", alpha=0.0, batch_size=task.batch,
        learning_rate_init=1e-3, max_iter=task.epochs, shuffle=True, random_state=seed, tol=0.0,
        n_iter_no_change=task.epochs + 1, early_stopping=False)
    settle()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter reached: on purpose
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    if task.regression:
        return score(task, model.predict(X_test), y_test), seconds
    return score(task, model.predict_proba(X_test), y_test), seconds


def cell(values):
    values = np.asarray(values)
    return f"{values.mean():.3f} [{values.min():.3f}..{values.max():.3f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sets", default=",".join(t.name for t in TASKS))
    parser.add_argument("--schemes", default=",".join(backprop.INITIALIZATIONS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    chosen = args.sets.split(",")
    schemes = args.schemes.split(",")
    unknown = set(chosen) - {t.name for t in TASKS}
    if unknown:
        parser.error(f"unknown data sets {sorted(unknown)}")

    print(f"backprop {backprop.version()}, scikit-learn {__import__('sklearn').__version__}, seeds {seeds}")
    columns = [*schemes, "scikit-learn"]
    means = {column: [] for column in columns}
    for task in (t for t in TASKS if t.name in chosen):
        X, y = task.load()
        results = {column: ([], []) for column in columns}
        for seed in seeds:
            data = split(task, X, y, seed)
            for scheme in schemes:
                s, t = run_backprop(task, data, scheme, seed)
                results[scheme][0].append(s)
                results[scheme][1].append(t)
            s, t = run_sklearn(task, data, seed)
            results["scikit-learn"][0].append(s)
            results["scikit-learn"][1].append(t)
        metric = "R²" if task.regression else "accuracy"
        print(f"\n{task.name} ({len(X)} samples, {X.shape[1]} features, {metric}, "
              f"{'-'.join(map(str, (X.shape[1], *task.hidden)))}-out, {task.epochs} epochs, batch {task.batch})")
        best = max(np.mean(results[c][0]) for c in columns)
        for column in columns:
            scores, seconds = results[column]
            means[column].append(np.mean(scores))
            mark = "  <- best" if np.mean(scores) == best else ""
            print(f"  {column:<18} {cell(scores)}   {np.mean(seconds):7.2f} s{mark}")
    print("\nmean score over the data sets (higher is better):")
    for column in sorted(columns, key=lambda c: -np.mean(means[c])):
        print(f"  {column:<18} {np.mean(means[column]):.4f}")


if __name__ == "__main__":
    main()
