"""The optimizer and its hyperparameters: the option methods of Network (bp_set_option,
bp_get_option).  Every option is a double keyed by a BP_OPTION_* code; the optimizer
option holds a BP_OPTIMIZER_* code, which Python shows as its name."""

from __future__ import annotations

import ctypes
import numbers
from ctypes import c_double

import numpy as np

from . import _arrays, _lib
from ._codes import OPTIMIZER_NAMES, OPTIMIZERS, OPTIONS, normalise_name

__all__ = ["OptimizerOptions"]


class OptimizerOptions:
    """The optimizer and option methods of Network (which holds the handle; see
    _lock.LockedHandle for _exclusive)."""

    def set_optimizer(self, name, **hyperparameters) -> None:
        """Choose the optimizer used by update(), train_step() and fit(), and optionally
        some of its hyperparameters.

        ``name``: ``"sgd"`` (the default), ``"momentum"``, ``"nesterov"``, ``"adam"``,
        ``"adamw"`` or ``"rprop"`` (iRprop−, which ignores the learning rate).
        ``hyperparameters``: any option of :attr:`options` except ``optimizer``, e.g.
        ``net.set_optimizer("adam", beta1=0.8, weight_decay=1e-4)``.  The learning rate
        is not an option: it is passed to fit()/train_step()/update().

        Choosing a different optimizer starts its state afresh (moments, step sizes);
        choosing the current one again keeps its state and only changes the given
        hyperparameters.  All or nothing: if a value is refused (ValueError,
        InvalidArgumentError, NonFiniteError), every option keeps its previous value.
        """
        code = self._optimizer_code(name)
        values = {}
        for key, value in hyperparameters.items():
            option = normalise_name(key, "hyperparameter", OPTIONS)
            if option == "optimizer":
                raise ValueError("set_optimizer() takes the optimizer as its first argument, not as optimizer=")
            values[option] = _arrays.as_real(value, option)
        with self._exclusive() as handle:
            previous = self._read_options(handle)
            try:
                self._apply_options(handle, values)
                self._set_option_raw(handle, "optimizer", float(code))
            except BaseException:
                # Back to the previous values.  The optimizer has not changed (it is set
                # last), so its state is untouched.
                try:
                    self._apply_options(handle, {k: v for k, v in previous.items() if k != "optimizer"})
                except Exception:  # pragma: no cover - the previous values were accepted before
                    pass
                raise

    def set_option(self, name, value) -> None:
        """Set one option (bp_set_option): ``"optimizer"`` (a name as for set_optimizer(),
        or a BP_OPTIMIZER_* code) or a hyperparameter (a real number; see :attr:`options`
        for names, ranges and defaults).

        An unknown name raises ValueError; a value out of range InvalidArgumentError, NaN
        or infinity NonFiniteError, an unknown optimizer code UnknownEnumError (all
        ValueErrors).  Changing a hyperparameter keeps the optimizer's state."""
        option = normalise_name(name, "option", OPTIONS)
        if option == "optimizer":
            number = float(self._optimizer_code(value, allow_code=True))
        else:
            number = _arrays.as_real(value, option)
        with self._exclusive() as handle:
            self._set_option_raw(handle, option, number)

    def get_option(self, name):
        """The current value of one option (bp_get_option): the optimizer's name for
        ``"optimizer"``, a float otherwise."""
        option = normalise_name(name, "option", OPTIONS)
        with self._exclusive(mutates=False) as handle:
            return self._get_option_raw(handle, option)

    @property
    def options(self) -> dict:
        """Every option by name, in the header's order (bp_get_option)::

            optimizer           "sgd" | "momentum" | "nesterov" | "adam" | "adamw" | "rprop"  ("sgd")
            momentum            μ for momentum and Nesterov, [0, 1)          (0.9)
            beta1, beta2        Adam's β1, β2, [0, 1)                         (0.9, 0.999)
            epsilon             Adam's ε, ≥ 1.18e-38 (smallest normal float)  (1e-8)
            weight_decay        λ ≥ 0: L2 (g += λθ), decoupled for AdamW     (0)
            clip_norm           max L2 norm of the whole gradient; 0 = off    (0)
            rprop_increase      η+ > 1                                        (1.2)
            rprop_decrease      η− in (0, 1)                                  (0.5)
            rprop_min_step      Δmin ≥ 1.18e-38                               (1e-6)
            rprop_max_step      Δmax ≥ Δmin                                   (50)
            rprop_initial_step  Δ0 in [Δmin, Δmax]                            (0.1)

        A new dict each time; change options with set_option() or set_optimizer()."""
        with self._exclusive(mutates=False) as handle:
            return self._read_options(handle)

    @staticmethod
    def _optimizer_code(value, allow_code: bool = False) -> int:
        if allow_code and isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            return int(value)  # unknown codes: UnknownEnumError from the library
        return OPTIMIZERS[normalise_name(value, "optimizer", OPTIMIZERS)]

    def _get_option_raw(self, handle, option: str):
        value = c_double()
        status = _lib.lib.bp_get_option(handle, OPTIONS[option], ctypes.byref(value))
        if status:
            _lib.check(status, "bp_get_option")
        if option == "optimizer":
            return OPTIMIZER_NAMES.get(int(value.value), int(value.value))
        return float(value.value)

    def _read_options(self, handle) -> dict:
        return {option: self._get_option_raw(handle, option) for option in OPTIONS}

    def _set_option_raw(self, handle, option: str, value: float) -> None:
        status = _lib.lib.bp_set_option(handle, OPTIONS[option], value)
        if status:
            _lib.check(status, "bp_set_option")

    def _apply_options(self, handle, values: dict) -> None:
        """Set several hyperparameters, in whatever order the library's range checks
        allow (raising rprop_min_step above the current rprop_max_step needs the maximum
        first, for example); raises the last refusal when no order works."""
        pending = dict(values)
        while pending:
            failure = None
            done = []
            for option, value in pending.items():
                try:
                    self._set_option_raw(handle, option, value)
                except ValueError as exc:  # InvalidArgumentError, NonFiniteError, UnknownEnumError
                    failure = failure or exc
                else:
                    done.append(option)
            if not done:
                raise failure
            for option in done:
                del pending[option]
