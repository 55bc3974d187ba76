"""A plain numpy float64 implementation of the seed's equations, for the tests.

    z^l = W^l a^(l-1) + b^l,  a^l = σ(z^l)
    δ^L = a − y                                  cross-entropy (softmax or sigmoid output)
    δ^L = (a − y) ⊙ σ'(z^L)                      MSE
    δ^L = clamp(a − y, ±δ) ⊙ σ'(z^L)             Huber (δ = 1, its default)
    δ^L = sign(a − y) ⊙ σ'(z^L)                  L1
    δ^L_j = a_j (g_j − Σ_k a_k g_k), g = a − y   MSE with a softmax output (Jacobian product)
    δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l)
    ∂C/∂b^l = mean_x δ^l,  ∂C/∂W^l = mean_x δ^l (a^(l-1))^T

GELU is z Φ(z) with Φ the standard normal distribution, Φ(z) = ½ (1 + erf(z / √2)), and
φ its density; SiLU is z s(z) with s the sigmoid; softplus is ln(1 + e^z) and ELU is z, or
e^z − 1 below 0.
"""

import math

import numpy as np

_erf = np.vectorize(math.erf, otypes=[np.float64])


def normal_cdf(z):
    """Φ(z) = ½ (1 + erf(z / √2))."""
    return 0.5 * (1.0 + _erf(np.asarray(z, dtype=np.float64) / math.sqrt(2.0)))


def normal_pdf(z):
    """φ(z) = e^(−z²/2) / √(2π)."""
    return np.exp(-0.5 * np.square(z)) / math.sqrt(2.0 * math.pi)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def activate(name, z):
    if name == "sigmoid":
        return sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, 0.01 * z)
    if name == "linear":
        return z.copy()
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if name == "gelu":
        return z * normal_cdf(z)
    if name == "silu":
        return z * sigmoid(z)
    if name == "softplus":
        return np.logaddexp(0.0, z)
    if name == "elu":
        return np.where(z > 0, z, np.expm1(np.minimum(z, 0.0)))
    raise ValueError(name)


def derivative(name, z):
    """σ'(z) elementwise (not for softmax)."""
    if name == "sigmoid":
        s = sigmoid(z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, 0.01)
    if name == "linear":
        return np.ones_like(z)
    if name == "gelu":  # Φ(z) + z φ(z)
        return normal_cdf(z) + z * normal_pdf(z)
    if name == "silu":  # s (1 + z (1 − s))
        s = sigmoid(z)
        return s * (1.0 + z * (1.0 - s))
    if name == "softplus":
        return sigmoid(z)
    if name == "elu":
        return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
    raise ValueError(name)


def unflatten(layers, params):
    params = np.asarray(params, dtype=np.float64)
    Ws, bs = [], []
    offset = 0
    for l in range(1, len(layers)):
        n, p = layers[l], layers[l - 1]
        Ws.append(params[offset : offset + n * p].reshape(n, p))
        offset += n * p
        bs.append(params[offset : offset + n])
        offset += n
    assert offset == params.size
    return Ws, bs


def flatten(Ws, bs):
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in zip(Ws, bs)])


def forward(layers, activations, params, X):
    Ws, bs = unflatten(layers, params)
    a = np.asarray(X, dtype=np.float64)
    zs, As = [], [a]
    for W, b, act in zip(Ws, bs, activations):
        z = a @ W.T + b
        a = activate(act, z)
        zs.append(z)
        As.append(a)
    return zs, As


HUBER_DELTA = 1.0  # BP_OPTION_HUBER_DELTA's default


def loss(loss_name, output_activation, a, y):
    if loss_name == "mse":
        return float(np.mean(0.5 * np.sum((a - y) ** 2, axis=1)))
    if loss_name == "huber":
        r = np.abs(a - y)
        return float(np.mean(np.sum(np.where(r <= HUBER_DELTA, 0.5 * r * r, HUBER_DELTA * (r - 0.5 * HUBER_DELTA)), axis=1)))
    if loss_name == "l1":
        return float(np.mean(np.sum(np.abs(a - y), axis=1)))
    if output_activation == "softmax":
        return float(np.mean(-np.sum(y * np.log(a), axis=1)))
    return float(np.mean(-np.sum(y * np.log(a) + (1 - y) * np.log(1 - a), axis=1)))


def gradients(layers, activations, loss_name, params, X, Y):
    """(flat gradients, mean loss, outputs) in float64."""
    Ws, bs = unflatten(layers, params)
    zs, As = forward(layers, activations, params, X)
    y = np.asarray(Y, dtype=np.float64)
    a = As[-1]
    m = a.shape[0]
    out = activations[-1]
    g = {"huber": np.clip(a - y, -HUBER_DELTA, HUBER_DELTA), "l1": np.sign(a - y)}.get(loss_name, a - y)  # C'(a)
    if loss_name == "cross_entropy":
        delta = a - y
    elif out == "softmax":
        delta = a * (g - np.sum(a * g, axis=1, keepdims=True))
    else:
        delta = g * derivative(out, zs[-1])
    gWs = [None] * len(Ws)
    gbs = [None] * len(Ws)
    for l in range(len(Ws) - 1, -1, -1):
        gWs[l] = delta.T @ As[l] / m
        gbs[l] = delta.mean(axis=0)
        if l > 0:
            delta = (delta @ Ws[l]) * derivative(activations[l - 1], zs[l - 1])
    return flatten(gWs, gbs), loss(loss_name, out, a, y), a
