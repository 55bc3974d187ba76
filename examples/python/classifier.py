#!/usr/bin/env python3
"""Train a classifier on generated data with the backprop Python binding.

Two interleaved half-moons plus a third Gaussian class in 2-D, a 2-32-32-3 network with
tanh/relu hidden layers and a softmax output, trained with cross-entropy and the Adam
optimizer, with early stopping on a validation set. Prints the test accuracy, saves the
model to classifier.bpm and checks that the reloaded model predicts the same, and, when
matplotlib is installed, saves the loss curves to loss_curve.png (in the current
directory, or the path given as the first argument; the model goes to the same directory).

Run from the repository root, after `pip install ./bindings/python`:

    python3 examples/python/classifier.py

or without installing:

    PYTHONPATH=bindings/python python3 examples/python/classifier.py
"""

import os
import sys

import numpy as np

import backprop


def make_data(n_per_class, rng):
    """Two half-moons and a blob above them: 3 classes, 2 features."""
    t = rng.uniform(0, np.pi, n_per_class)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    t = rng.uniform(0, np.pi, n_per_class)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    blob = rng.normal([0.5, 2.0], 0.25, size=(n_per_class, 2))
    X = np.concatenate([upper, lower, blob]) + rng.normal(0, 0.1, size=(3 * n_per_class, 2))
    y = np.repeat(np.arange(3), n_per_class)
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order]


def main():
    rng = np.random.default_rng(0)
    X, y = make_data(600, rng)
    mean, std = X.mean(axis=0), X.std(axis=0)
    X = (X - mean) / std  # standardise the features
    split = int(0.8 * len(y))
    X_train, y_train, X_test, y_test = X[:split], y[:split], X[split:], y[split:]

    plot_path = sys.argv[1] if len(sys.argv) > 1 else "loss_curve.png"
    out_dir = os.path.dirname(plot_path) or "."

    net = backprop.Network([2, 32, 32, 3], ["tanh", "relu", "softmax"], loss="cross_entropy", seed=1)
    net.set_optimizer("adam")  # beta1=0.9, beta2=0.999 by default; see net.options
    print(net)
    print(f"library {backprop.version()} from {backprop.library_path}")

    history = net.fit(
        X_train,
        y_train,  # integer labels: one-hot encoded by the binding
        epochs=200,
        batch_size=32,
        learning_rate=0.005,
        seed=0,
        validation_data=(X_test, y_test),
        patience=10,  # stop once the validation loss has not improved for 10 epochs...
        restore_best=True,  # ...and keep the best epoch's parameters
        verbose=1,
    )
    loss, accuracy = net.evaluate(X_test, y_test)
    best = int(np.argmin(history["val_loss"]))
    print(f"epochs: {len(history['loss'])} (best {best + 1}), final training loss {history['loss'][-1]:.4f}, "
          f"validation loss {loss:.4f}")
    print(f"test accuracy: {accuracy:.1%}")

    model_path = os.path.join(out_dir, "classifier.bpm")
    net.save(model_path)  # architecture, parameters and Adam's state
    reloaded = backprop.Network.load(model_path)
    assert np.array_equal(reloaded.predict(X_test), net.predict(X_test))
    print(f"saved {model_path} ({os.path.getsize(model_path)} bytes); the reloaded model predicts the same")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 0  # no plot without matplotlib
    path = plot_path
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], label="training loss")
    ax.plot(epochs, history["val_loss"], label="validation loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy")
    ax.set_title(f"2-32-32-3 classifier, test accuracy {accuracy:.1%}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
