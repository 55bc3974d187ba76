"""The optimizer, the learning-rate schedule and their hyperparameters: the option methods
of Network (bp_set_option, bp_get_option, bp_scheduled_learning_rate, bp_end_epoch).
Every option is a double keyed by a BP_OPTION_* code; the optimizer and schedule options
hold BP_OPTIMIZER_* and BP_SCHEDULE_* codes, which Python shows as their names."""

from __future__ import annotations

import ctypes
import numbers
from ctypes import c_double

import numpy as np

from . import _arrays, _lib
from ._codes import OPTIMIZER_NAMES, OPTIMIZERS, OPTIONS, SCHEDULE_NAMES, SCHEDULES, normalise_name

__all__ = ["OptimizerOptions"]

# The options that choose among named values, with their tables by name and by code.
_CHOICES = {"optimizer": (OPTIMIZERS, OPTIMIZER_NAMES), "schedule": (SCHEDULES, SCHEDULE_NAMES)}


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
        self._choose("optimizer", name, hyperparameters)

    def set_schedule(self, name, **hyperparameters) -> None:
        """Choose the learning-rate schedule that fit() follows and
        scheduled_learning_rate() reports, and optionally its hyperparameters (the
        ``schedule`` rows of :attr:`options`):

            "constant"     η = η0, the learning rate given to fit() (the default)
            "step"         η = η0 γ^⌊e/step_epochs⌋                     gamma, step_epochs
            "exponential"  η = η0 γ^e                                   gamma
            "cosine"       linear warm-up over warmup_epochs, then cosine annealing to
                           min_lr by epoch cycle_epochs (0: fit's epochs)
                                                       warmup_epochs, cycle_epochs, min_lr
            "invscaling"   η = η0 / (t+1)^power_t, t = samples seen     power_t
            "plateau"      η = max(η0 m, min(η0, min_lr)); m × plateau_factor after more
                           than plateau_patience epochs without the monitored loss falling
                           by plateau_threshold  plateau_factor, plateau_patience,
                                                 plateau_threshold, min_lr

        e counts the epochs ended since the schedule was chosen: choosing another
        schedule starts it again, choosing the current one keeps where it stands and only
        changes the given hyperparameters.  Saved in model files, so training resumes on
        schedule.  All or nothing, as set_optimizer()."""
        self._choose("schedule", name, hyperparameters)

    def scheduled_learning_rate(self, base_rate) -> float:
        """η of the next epoch by the schedule, from the base rate η0
        (bp_scheduled_learning_rate), for training loops written by hand: train the
        epoch's steps with it, then call end_epoch()."""
        rate = _arrays.as_real(base_rate, "base_rate")
        out = ctypes.c_float()
        with self._exclusive(mutates=False) as handle:
            _lib.check(_lib.lib.bp_scheduled_learning_rate(handle, rate, ctypes.byref(out)),
                       "bp_scheduled_learning_rate")
        return float(out.value)

    def end_epoch(self, samples, monitored_loss=float("nan")) -> None:
        """End an epoch for the schedule (bp_end_epoch): ``samples`` trained on (the
        invscaling schedule counts them) and the loss the plateau schedule watches (NaN,
        the default, counts as no improvement).  fit() does this itself."""
        count = _arrays.as_int(samples, "samples", minimum=0)
        if count >= 1 << 63:
            raise ValueError(f"samples is {count}; expected at most 2**63 - 1")
        loss = _arrays.as_real(monitored_loss, "monitored_loss")
        with self._exclusive() as handle:
            _lib.check(_lib.lib.bp_end_epoch(handle, count, loss), "bp_end_epoch")

    def _choose(self, choice: str, name, hyperparameters: dict) -> None:
        """Set the hyperparameters, then the optimizer or schedule `choice` to `name`; on
        a refusal, every option goes back to its previous value.  The choice is set last,
        so a refusal leaves its state (moments, the schedule's epochs) untouched."""
        code = self._code(name, choice, _CHOICES[choice][0])
        values = {}
        for key, value in hyperparameters.items():
            option = normalise_name(key, "hyperparameter", OPTIONS)
            if option in _CHOICES:
                raise ValueError(f"set_{choice}() takes the {choice} as its first argument, not {option}=")
            values[option] = _arrays.as_real(value, option)
        with self._exclusive() as handle:
            previous = self._read_options(handle)
            try:
                self._apply_options(handle, values)
                self._set_option_raw(handle, choice, float(code))
            except BaseException:
                try:
                    self._apply_options(handle, {k: v for k, v in previous.items() if k not in _CHOICES})
                except Exception:  # pragma: no cover - the previous values were accepted before
                    pass
                raise

    def set_option(self, name, value) -> None:
        """Set one option (bp_set_option): ``"optimizer"`` or ``"schedule"`` (a name as for
        set_optimizer() and set_schedule(), or a BP_OPTIMIZER_* / BP_SCHEDULE_* code) or
        a hyperparameter (a real number; see :attr:`options`
        for names, ranges and defaults).

        An unknown name raises ValueError; a value out of range InvalidArgumentError, NaN
        or infinity NonFiniteError, an unknown optimizer code UnknownEnumError (all
        ValueErrors).  Changing a hyperparameter keeps the optimizer's state."""
        option = normalise_name(name, "option", OPTIONS)
        if option in _CHOICES:
            number = float(self._code(value, option, _CHOICES[option][0], allow_code=True))
        else:
            number = _arrays.as_real(value, option)
        with self._exclusive() as handle:
            self._set_option_raw(handle, option, number)

    def get_option(self, name):
        """The current value of one option (bp_get_option): a name for ``"optimizer"``
        and ``"schedule"``, a float otherwise."""
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
            schedule            "constant" | "step" | "exponential" | "cosine" |
                                "invscaling" | "plateau" (see set_schedule)   ("constant")
            gamma               γ of step and exponential, (0, 1]            (0.1)
            step_epochs         step's epochs per decay, 1 … 10**6           (10)
            warmup_epochs       cosine's warm-up W, 0 … 10**6, < T           (0)
            cycle_epochs        cosine's T > W; 0 = fit's epochs             (0)
            min_lr              η_min of cosine and plateau, ≥ 0             (0)
            power_t             invscaling's p, ≥ 0                          (0.5)
            plateau_factor      plateau's factor, (0, 1)                     (0.1)
            plateau_patience    plateau's patience, 0 … 10**6 epochs         (10)
            plateau_threshold   plateau's improvement that counts, ≥ 0       (1e-4)
            huber_delta         δ of the "huber" loss, > 0                  (1)

        A new dict each time; change options with set_option() or set_optimizer()."""
        with self._exclusive(mutates=False) as handle:
            return self._read_options(handle)

    @staticmethod
    def _code(value, argument: str, table: dict, allow_code: bool = False) -> int:
        if allow_code and isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
            return int(value)  # unknown codes: UnknownEnumError from the library
        return table[normalise_name(value, argument, table)]

    def _get_option_raw(self, handle, option: str):
        value = c_double()
        status = _lib.lib.bp_get_option(handle, OPTIONS[option], ctypes.byref(value))
        if status:
            _lib.check(status, "bp_get_option")
        if option in _CHOICES:
            names = _CHOICES[option][1]
            return names.get(int(value.value), int(value.value))
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
