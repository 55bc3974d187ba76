#!/usr/bin/env python3
"""backprop.sklearn as a drop-in: one scikit-learn script, run twice in one process, once
with `from sklearn.neural_network import MLPClassifier, MLPRegressor` and once with
`from backprop.sklearn import ...`; test scores and fit times side by side (issue 18).

The script (experiment() below) is what a scikit-learn user writes: a 75/25 split
(stratified for classes), a Pipeline of StandardScaler and the MLP with every parameter
at its default but random_state; for the regression set the targets are standardised too
(TransformedTargetRegressor), as the default learning rate needs.  Data sets:
scikit-learn's bundled iris, wine, breast_cancer, digits (accuracy) and diabetes (R²),
and a generated one, make_classification(10,000 samples, 40 features, 20 informative,
4 classes, random_state=0).  Scores: mean over the seeds of the held-out accuracy or R²;
seconds: mean time of one fit (the pipeline's).

Usage (the library built; scikit-learn installed):
    BACKPROP_LIBRARY=$PWD/.build/release/libbackprop.so \\
        python3 bindings/python/bench/dropin.py [--seeds 0,1,2] [--sets iris,generated]
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

try:
    import sklearn
    from sklearn import datasets, neural_network
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
except ImportError:  # pragma: no cover - a benchmark, not a test
    sys.exit("dropin.py needs scikit-learn: python3 -m pip install scikit-learn")

import backprop  # noqa: E402
import backprop.sklearn  # noqa: E402
from machine import cpu_description  # noqa: E402


def generated():
    return datasets.make_classification(n_samples=10_000, n_features=40, n_informative=20, n_classes=4,
                                        random_state=0)


#: name -> (loader, is regression)
SETS = {
    "iris": (lambda: datasets.load_iris(return_X_y=True), False),
    "wine": (lambda: datasets.load_wine(return_X_y=True), False),
    "breast_cancer": (lambda: datasets.load_breast_cancer(return_X_y=True), False),
    "digits": (lambda: datasets.load_digits(return_X_y=True), False),
    "diabetes": (lambda: datasets.load_diabetes(return_X_y=True), True),
    "generated": (generated, False),
}


def experiment(module, X, y, regression, seed):
    """The user's script; `module` is sklearn.neural_network or backprop.sklearn.
    Returns (test score, seconds of fit)."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=None if regression else y)
    if regression:
        model = TransformedTargetRegressor(
            regressor=make_pipeline(StandardScaler(), module.MLPRegressor(random_state=seed)),
            transformer=StandardScaler())
    else:
        model = make_pipeline(StandardScaler(), module.MLPClassifier(random_state=seed))
    time.sleep(0.5)  # let OpenBLAS's spinning threads of the previous fit go idle (see quality.py)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sets", default=",".join(SETS))
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    chosen = args.sets.split(",")
    unknown = set(chosen) - set(SETS)
    if unknown:
        parser.error(f"unknown data sets {sorted(unknown)}")
    print(f"CPU: {cpu_description()}")
    print(f"backprop {backprop.version()} ({backprop.kernels()} kernels), scikit-learn {sklearn.__version__}, "
          f"seeds {seeds}\n")
    print(f"{'data set':<14} {'metric':<8} {'scikit-learn':>12} {'backprop':>9} {'Δ points':>9}"
          f" {'sklearn s':>10} {'backprop s':>11} {'speed-up':>9}")
    for name in chosen:
        load, regression = SETS[name]
        X, y = load()
        runs = {module: [experiment(module, X, y, regression, seed) for seed in seeds]
                for module in (neural_network, backprop.sklearn)}
        theirs, ours = (np.mean(runs[m], axis=0) for m in (neural_network, backprop.sklearn))
        print(f"{name:<14} {'R²' if regression else 'accuracy':<8} {theirs[0]:12.4f} {ours[0]:9.4f}"
              f" {100 * (ours[0] - theirs[0]):+9.2f} {theirs[1]:10.3f} {ours[1]:11.3f} {theirs[1] / ours[1]:8.1f}×")


if __name__ == "__main__":
    main()
