"""The optional JAX reference (a column only when jax imports)."""

from __future__ import annotations

import numpy as np

from .parameters import split_parameters


class JaxMLP:
    """The same step in JAX, jit-compiled (explicit equations, no autodiff)."""

    name = "jax"

    def __init__(self, spec, flat, threads):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        layers, acts, loss_kind = spec["layers"], spec["acts"], spec["loss"]
        Ws, bs = split_parameters(layers, flat)
        self.params = [(jnp.asarray(w), jnp.asarray(b)) for w, b in zip(Ws, bs)]
        self._pending = None

        def activate(z, act):
            if act == "relu":
                return jnp.maximum(z, 0)
            if act == "sigmoid":
                return jax.nn.sigmoid(z)
            return jax.nn.softmax(z, axis=1)

        def forward(params, X):
            a = X
            As = [X]
            for (W, b), act in zip(params, acts):
                a = activate(a @ W.T + b, act)
                As.append(a)
            return As

        def step(params, X, Y, lr):
            m = X.shape[0]
            As = forward(params, X)
            aL = As[-1]
            delta = aL - Y
            if loss_kind == "mse":
                loss = 0.5 * jnp.sum(delta * delta) / m
                if acts[-1] == "sigmoid":
                    delta = delta * aL * (1 - aL)
            else:
                loss = -jnp.sum(Y * jnp.log(jnp.maximum(aL, 1e-38))) / m
            scale = lr / m
            new = list(params)
            for l in range(len(params), 0, -1):
                W, b = params[l - 1]
                a_prev = As[l - 1]
                if l > 1:
                    prev = delta @ W
                    if acts[l - 2] == "relu":
                        prev = prev * (a_prev > 0)
                    else:
                        prev = prev * a_prev * (1 - a_prev)
                new[l - 1] = (W - scale * (delta.T @ a_prev), b - scale * jnp.sum(delta, axis=0))
                if l > 1:
                    delta = prev
            return new, loss

        self._step = jax.jit(step, donate_argnums=0)
        self._forward = jax.jit(lambda p, X: forward(p, X)[-1])

    def forward(self, X):
        return np.asarray(self._forward(self.params, X))

    def train_step(self, X, Y, labels, lr):
        self.params, loss = self._step(self.params, X, Y, np.float32(lr))
        self._pending = loss
        return loss

    def sync(self):
        self.jax.block_until_ready(self.params)

    def check_finite_state(self):
        for W, _ in self.params:
            if not bool(self.jnp.isfinite(W).all()):
                raise RuntimeError("jax: weights became non-finite")
