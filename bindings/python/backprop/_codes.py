"""Every BP_* constant of include/backprop.h that the binding uses, each defined once.

The names Python accepts map to the header's codes: activation ``"sigmoid"`` is
``BP_SIGMOID``, loss ``"mse"`` is ``BP_LOSS_MSE``, optimizer ``"adam"`` is
``BP_OPTIMIZER_ADAM``, option ``"beta1"`` is ``BP_OPTION_BETA1``: the header's name
is the prefix followed by the Python name in capitals.  Status values keep their header
names.  Every other module imports from here, and tests/test_header.py parses the header
and fails on any difference, in either direction.
"""

from __future__ import annotations

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "OPTIMIZERS",
    "OPTIONS",
    "INITIALIZATIONS",
    "RECOMMENDED_INITIALIZATION",
    "SCHEDULES",
    "SCHEDULE_NAMES",
    "ACTIVATION_NAMES",
    "LOSS_NAMES",
    "OPTIMIZER_NAMES",
    "BP_ABI_VERSION",
    "normalise_name",
]

#: The BP_ABI_VERSION this binding was written against ("Version").
BP_ABI_VERSION = 1

#: Activation names and their BP_* codes ("Network lifecycle").
ACTIVATIONS = {
    "sigmoid": 0,  # 1 / (1 + e^-z)
    "tanh": 1,  # tanh(z)
    "relu": 2,  # max(0, z)
    "leaky_relu": 3,  # z if z > 0, else 0.01 z
    "linear": 4,  # z
    "softmax": 5,  # e^z_j / Σ_k e^z_k; output layer only
    "gelu": 6,  # z Φ(z) = ½ z (1 + erf(z / √2)), the exact (erf) form
    "silu": 7,  # z / (1 + e^-z), also called swish
    "softplus": 8,  # ln(1 + e^z)
    "elu": 9,  # z if z > 0, else e^z − 1
}

#: Loss names and their BP_LOSS_* codes.  "cross-entropy" is accepted too (see normalise_name).
LOSSES = {
    "mse": 0,  # ½ ‖a − y‖² per sample
    "cross_entropy": 1,  # needs a softmax or sigmoid output
    "huber": 2,  # ½ r² within ±huber_delta, linear beyond, r = a − y
    "l1": 3,  # Σ |a − y|
}

#: Optimizer names and their BP_OPTIMIZER_* codes ("Optimizers and options").
OPTIMIZERS = {
    "sgd": 0,
    "momentum": 1,
    "nesterov": 2,
    "adam": 3,
    "adamw": 4,
    "rprop": 5,
}

#: Option names and their BP_OPTION_* keys, in the header's order.
OPTIONS = {
    "optimizer": 1,
    "momentum": 2,
    "beta1": 3,
    "beta2": 4,
    "epsilon": 5,
    "weight_decay": 6,
    "clip_norm": 7,
    "rprop_increase": 8,
    "rprop_decrease": 9,
    "rprop_min_step": 10,
    "rprop_max_step": 11,
    "rprop_initial_step": 12,
    "schedule": 13,
    "gamma": 14,
    "step_epochs": 15,
    "warmup_epochs": 16,
    "cycle_epochs": 17,
    "min_lr": 18,
    "power_t": 19,
    "plateau_factor": 20,
    "plateau_patience": 21,
    "plateau_threshold": 22,
    "huber_delta": 23,
}

#: Learning-rate schedules and their BP_SCHEDULE_* codes ("Learning-rate schedules").
SCHEDULES = {
    "constant": 0,  # η = η0
    "step": 1,  # η = η0 γ^⌊e/s⌋
    "exponential": 2,  # η = η0 γ^e
    "cosine": 3,  # linear warm-up over W epochs, cosine annealing to η_min by epoch T
    "invscaling": 4,  # η = η0 / (t+1)^p, t = samples seen
    "plateau": 5,  # η = η0 m, m × factor after more than patience epochs without improvement
}

#: Initialisation schemes and their BP_INIT_* codes ("Parameters and gradients").
INITIALIZATIONS = {
    "he_glorot_uniform": 0,  # bp_create()'s: He uniform for rectifiers, Glorot uniform otherwise; b = 0
    "he_uniform": 1,  # W ~ U(±√(6/fan_in)), b = 0
    "he_normal": 2,  # W ~ N(0, 2/fan_in), b = 0
    "glorot_uniform": 3,  # W ~ U(±√(6/(fan_in+fan_out))), b = 0
    "glorot_normal": 4,  # W ~ N(0, 2/(fan_in+fan_out)), b = 0
    "lecun_normal": 5,  # W ~ N(0, 1/fan_in), b = 0
    "pytorch": 6,  # W, b ~ U(±1/√fan_in): nn.Linear's default
    "sklearn": 7,  # W, b ~ U(±√(f/(fan_in+fan_out))), f = 2 for sigmoid layers, else 6
}

#: The scheme Network draws by default: BP_INIT_RECOMMENDED (the header says why).
RECOMMENDED_INITIALIZATION = "pytorch"

# bp_status values ("Errors"), under their header names.
BP_OK = 0
BP_ERROR_NULL_ARGUMENT = 1
BP_ERROR_INVALID_ARGUMENT = 2
BP_ERROR_UNKNOWN_ENUM = 3
BP_ERROR_INVALID_ARCHITECTURE = 4
BP_ERROR_SIZE_MISMATCH = 5
BP_ERROR_SIZE_OVERFLOW = 6
BP_ERROR_NON_FINITE = 7
BP_ERROR_STATE = 8
BP_ERROR_OUT_OF_MEMORY = 9
BP_ERROR_DIVERGED = 10
BP_ERROR_BUFFER_TOO_SMALL = 11
BP_ERROR_IO = 12
BP_ERROR_NOT_A_MODEL = 13
BP_ERROR_UNSUPPORTED_VERSION = 14
BP_ERROR_TRUNCATED = 15
BP_ERROR_CHECKSUM_MISMATCH = 16
BP_ERROR_CORRUPT_MODEL = 17
BP_ERROR_UNSUPPORTED_MODEL = 18
BP_ERROR_UNSUPPORTED_CPU = 19
BP_ERROR_PEER_FAILED = 20

#: The reductions of bp_fit()'s reduce hook ("Data-parallel training").
BP_REDUCE_SUM = 0
BP_REDUCE_MAX = 1

#: bp_export_c_source()'s option flags ("C source for devices").
C_SOURCE_OPTIONS = {"float": 0, "int8": 1, "int32_accumulate": 2}

#: bp_import_onnx()'s loss argument for the loss the model implies ("ONNX models").
BP_ONNX_LOSS_AUTO = -1

#: The reverse tables: code -> name.
ACTIVATION_NAMES = {code: name for name, code in ACTIVATIONS.items()}
LOSS_NAMES = {code: name for name, code in LOSSES.items()}
OPTIMIZER_NAMES = {code: name for name, code in OPTIMIZERS.items()}
SCHEDULE_NAMES = {code: name for name, code in SCHEDULES.items()}


def normalise_name(value, argument: str, valid: dict) -> str:
    """The key of `valid` that `value` names, case-insensitively and with "-" for "_"
    ("Leaky-ReLU" is "leaky_relu"); a ValueError naming `argument` and listing the valid
    names otherwise."""
    if isinstance(value, str):
        name = value.strip().lower().replace("-", "_")
        if name in valid:
            return name
    listing = ", ".join(repr(name) for name in valid)
    raise ValueError(f"{argument} is {value!r}; expected one of: {listing}")
