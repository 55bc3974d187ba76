"""PyTorch models in and out: Network.from_torch and Network.to_torch.

A torch ``nn.Linear`` holds W^l as the library does (n_l x n_(l-1), y = x W^T + b), so
the weights are copied as they are.  torch is imported only inside these methods.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ._codes import ACTIVATIONS, normalise_name

__all__ = ["TorchInterop"]

#: Each activation's torch module and the settings that make it the library's σ; the
#: import refuses a module whose settings differ (a LeakyReLU of slope 0.2...).
TORCH_ACTIVATIONS = {
    "relu": ("ReLU", {}),
    "tanh": ("Tanh", {}),
    "sigmoid": ("Sigmoid", {}),
    "leaky_relu": ("LeakyReLU", {"negative_slope": 0.01}),
    "gelu": ("GELU", {"approximate": "none"}),
    "silu": ("SiLU", {}),
    "softplus": ("Softplus", {"beta": 1.0, "threshold": 20.0}),
    "elu": ("ELU", {"alpha": 1.0}),
    "softmax": ("Softmax", {"dim": -1}),
}
#: Modules that change nothing at inference: skipped by the import.  Every module is
#: matched by its exact class (a subclass may compute anything in its forward).
TORCH_NO_OPS = ("Identity", "Dropout", "Flatten")


class TorchInterop:
    """The from_torch and to_torch methods of Network."""

    @classmethod
    def from_torch(cls, module, activations=None, loss=None) -> "Network":
        """A new network with the weights of a PyTorch model: an ``nn.Sequential`` of
        ``nn.Linear`` layers and the supported activations (ReLU, Tanh, Sigmoid,
        LeakyReLU(0.01), GELU, SiLU, Softplus, ELU, Softmax over the last dimension;
        Identity, Dropout and a Flatten are skipped), or a ``state_dict`` of Linear
        layers ("0.weight", "0.bias", "2.weight"...) with ``activations`` naming one
        activation per layer.  A layer with no activation after it is linear.

        ``loss`` None is "cross_entropy" for a softmax or sigmoid output, else "mse".
        Raises ValueError naming a module or key the library cannot represent."""
        if isinstance(module, Mapping):
            layers = _layers_of_state_dict(module, activations)
        else:
            if activations is not None:
                raise ValueError("activations= is for a state_dict; a module names its own")
            layers = _layers_of_module(module)
        return _network(cls, layers, loss)

    def to_torch(self):
        """An ``nn.Sequential`` (float32, eval mode) that computes :meth:`predict`'s
        outputs: an ``nn.Linear`` per layer and its activation module.  The input
        scaling is folded into the first Linear; a target scaling into the last one
        when the output is linear, else it becomes a diagonal Linear after the output."""
        import torch
        from torch import nn

        weights, biases = self._folded_layers()
        modules = []
        target = tuple(v.astype(np.float64) for v in self.target_scaling)
        if not target[0].any() and (target[1] == 1).all():
            target = None  # the network has none
        for l, (w, b, sigma) in enumerate(zip(weights, biases, self.activations), start=1):
            if l == len(weights) and target is not None and sigma == "linear":
                w, b = w / target[1][:, None], b / target[1] + target[0]
                target = None
            modules.append(_linear(nn, torch, w, b))
            if sigma != "linear":
                name, settings = TORCH_ACTIVATIONS[sigma]
                modules.append(getattr(nn, name)(**settings))
        if target is not None:
            modules.append(_linear(nn, torch, np.diag(1 / target[1]), target[0]))
        return nn.Sequential(*modules).eval()


def _linear(nn, torch, w, b):
    layer = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)))
        layer.bias.copy_(torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)))
    return layer


def _modules(module):
    """The leaf modules of nested nn.Sequentials, in order."""
    children = list(module.children())
    if not _is(module, "Sequential"):
        return [module]
    return [leaf for child in children for leaf in _modules(child)]


def _is(module, torch_name) -> bool:
    """Whether `module` is exactly torch.nn's `torch_name` class."""
    from torch import nn

    return type(module) is getattr(nn, torch_name)


def _activation_of(module, index) -> str:
    kind = type(module).__name__
    for name, (torch_name, settings) in TORCH_ACTIVATIONS.items():
        if not _is(module, torch_name):
            continue
        for setting, expected in settings.items():
            value = getattr(module, setting)
            if setting == "dim" and value in (-1, 1):
                continue
            if value != expected and not (isinstance(expected, float) and abs(value - expected) <= 1e-6):
                raise ValueError(f"module {index} is {module!r}: the library's {name} has {setting}={expected!r}")
        return name
    raise ValueError(f"module {index} is {kind}; the library reads Linear layers and "
                     f"{', '.join(torch_name for torch_name, _ in TORCH_ACTIVATIONS.values())}")


def _layers_of_module(module) -> list:
    """[(W, b, activation or None)] of an nn.Sequential."""
    if not _is(module, "Sequential"):
        raise ValueError(f"module is {type(module).__name__}; expected an nn.Sequential (or a state_dict)")
    layers = []
    for index, leaf in enumerate(_modules(module)):
        kind = type(leaf).__name__
        if any(_is(leaf, no_op) for no_op in TORCH_NO_OPS):
            if kind == "Flatten" and (layers or leaf.start_dim != 1):
                raise ValueError(f"module {index} is {leaf!r}: only a leading Flatten(start_dim=1) is a no-op")
            continue
        if _is(leaf, "Linear"):
            bias = leaf.bias.detach().cpu().numpy() if leaf.bias is not None else np.zeros(leaf.out_features)
            layers.append([leaf.weight.detach().cpu().numpy(), bias, None])
            continue
        activation = _activation_of(leaf, index)
        if not layers or layers[-1][2] is not None:
            raise ValueError(f"module {index} ({kind}) does not follow a Linear layer")
        layers[-1][2] = activation
    return layers


def _layers_of_state_dict(state, activations) -> list:
    """[(W, b, activation)] of a state_dict's "<i>.weight" / "<i>.bias" pairs, in order."""
    if activations is None:
        raise ValueError("a state_dict holds no activations: pass activations=[...], one per Linear layer")
    arrays = {key: value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
              for key, value in state.items()}
    layers = []
    for key, array in arrays.items():
        if key.endswith(".weight") and array.ndim == 2:
            bias = arrays.get(key[:-len("weight")] + "bias", np.zeros(array.shape[0]))
            if bias.shape != (array.shape[0],):
                raise ValueError(f"state_dict key {key[:-len('weight')] + 'bias'!r} has shape {bias.shape}; "
                                 f"{key!r} has {array.shape[0]} rows")
            layers.append([array, bias, None])
        elif not (key.endswith(".bias") and key[:-len("bias")] + "weight" in arrays):
            raise ValueError(f"state_dict key {key!r} (shape {array.shape}) is not a Linear layer's weight or bias")
    names = list(activations)
    if len(names) != len(layers):
        raise ValueError(f"activations has {len(names)} names for {len(layers)} Linear layers")
    for layer, name in zip(layers, names):
        layer[2] = normalise_name(name, "activation", ACTIVATIONS)
    return layers


def _network(cls, layers, loss):
    if not layers:
        raise ValueError("the model has no Linear layer")
    for l in range(1, len(layers)):
        if layers[l][0].shape[1] != layers[l - 1][0].shape[0]:
            raise ValueError(f"Linear layer {l + 1} takes {layers[l][0].shape[1]} inputs; "
                             f"the layer before gives {layers[l - 1][0].shape[0]}")
    activations = [activation or "linear" for _, _, activation in layers]
    if loss is None:
        loss = "cross_entropy" if activations[-1] in ("softmax", "sigmoid") else "mse"
    sizes = [layers[0][0].shape[1], *(w.shape[0] for w, _, _ in layers)]
    net = cls(sizes, activations, loss=loss, seed=0)
    net.parameters = np.concatenate([np.concatenate([w.ravel(), b]) for w, b, _ in layers]).astype(np.float32)
    return net
