"""Thread safety of one Network: a readers-writer lock around its library handle.

bp_predict() and bp_evaluate() only read a network, so any number of threads may run them
at once (shared holds); every other call holds the network alone (exclusive holds).
:class:`LockedHandle` is the part of Network that takes these holds; bp_fit() holds the
network for its whole run and calls back into Python on the same thread, which may then
read the network but not change it.
"""

from __future__ import annotations

import contextlib
import threading

from . import _lib
from ._codes import BP_ERROR_STATE
from .errors import StateError

__all__ = ["SharedLock", "SharedHold", "LockedHandle"]


class SharedLock:
    """A readers-writer lock: any number of shared holders, or one exclusive holder.

    An exclusive holder takes ``_gate``, then waits for the shared holders inside to
    leave; a shared holder enters under ``_mutex`` only while the gate is free, and
    otherwise queues on the gate, so a waiting exclusive holder keeps new shared holders
    out (no writer starvation).  ``_readers`` and ``_waiting`` (True while the gate's
    holder waits for the readers) change under ``_mutex``, the lock of the ``_idle``
    condition, and the exclusive holder reads ``_readers`` under it too: a shared holder
    that found the gate free is then either seen by it or sees the gate taken.  Each hold
    is two uncontended acquisitions, and a shared holder notifies only when someone
    waits: a small predict() or train_step() spends little more in the lock than a C call.
    Not reentrant.
    """

    __slots__ = ("_gate", "_mutex", "_idle", "_readers", "_waiting")

    def __init__(self):
        self._gate = threading.Lock()
        self._mutex = threading.Lock()
        self._idle = threading.Condition(self._mutex)
        self._readers = 0
        self._waiting = False

    def acquire(self) -> None:
        self._gate.acquire()
        mutex = self._mutex
        mutex.acquire()
        try:
            if self._readers:
                self._waiting = True
                try:
                    while self._readers:
                        self._idle.wait()
                finally:
                    self._waiting = False
        except BaseException:
            mutex.release()
            self._gate.release()
            raise
        mutex.release()

    def release(self) -> None:
        self._gate.release()

    def acquire_shared(self) -> None:
        mutex = self._mutex
        mutex.acquire()
        if not self._gate.locked():
            self._readers += 1
            mutex.release()
            return
        mutex.release()
        with self._gate:  # behind the exclusive holder, which keeps the gate until it is done
            with mutex:
                self._readers += 1

    def release_shared(self) -> None:
        mutex = self._mutex
        mutex.acquire()
        self._readers -= 1
        if self._waiting and not self._readers:
            self._idle.notify()
        mutex.release()


class SharedHold:
    """The context manager of LockedHandle._shared(); a class rather than a
    contextlib.contextmanager generator, which would add about 1 µs to every predict()."""

    __slots__ = ("_net", "_lock")

    def __init__(self, net: "LockedHandle"):
        self._net = net
        self._lock = None  # the lock to release on exit, if taken

    def __enter__(self):
        net = self._net
        if net._fit_thread is not None and net._in_fit_callback():
            return net._require_open()
        lock = net._lock
        lock.acquire_shared()
        try:
            handle = net._require_open()
        except BaseException:
            lock.release_shared()
            raise
        self._lock = lock
        return handle

    def __exit__(self, *exc_info):
        if self._lock is not None:
            self._lock.release_shared()
        return False


class LockedHandle:
    """How a Network reaches its handle: ``_handle`` (None once closed), guarded by
    ``_lock`` (a SharedLock), with ``_fit_thread`` the id of the thread running bp_fit()
    on it, if any.  Network._init_state sets them, and ``_last_batch`` (the batch of the
    last forward(), which bp_fit() replaces)."""

    def _closed_error(self) -> StateError:
        return StateError(BP_ERROR_STATE, "the network is closed", None)

    def _require_open(self):
        handle = self._handle
        if not handle:
            raise self._closed_error()
        return handle

    def _in_fit_callback(self) -> bool:
        """True on the thread running bp_fit() on this network (so: inside its callback)."""
        return self._fit_thread is not None and self._fit_thread == threading.get_ident()

    def _check_not_in_fit(self, what: str) -> None:
        if self._in_fit_callback():
            raise StateError(
                BP_ERROR_STATE,
                f"{what} cannot change the network from inside a fit() callback; return True from the "
                "callback to stop training, and change the network after fit() returns",
                None,
            )

    @contextlib.contextmanager
    def _exclusive(self, mutates: bool = True):
        """Hold the network exclusively; yields the handle.

        Inside a fit() callback the thread already holds it (bp_fit() is running):
        read-only calls (`mutates` False) go ahead, changes raise StateError."""
        if self._in_fit_callback():
            if mutates:
                self._check_not_in_fit("this call")
            yield self._require_open()
            return
        self._lock.acquire()
        try:
            yield self._require_open()
        finally:
            self._lock.release()

    def _shared(self) -> SharedHold:
        """Hold the network shared with other readers (bp_predict, bp_evaluate): a
        context manager that yields the handle.  Inside a fit() callback the thread
        already holds it exclusively (bp_fit() is running)."""
        return SharedHold(self)

    @contextlib.contextmanager
    def _fitting(self):
        """Hold the network exclusively for bp_fit(), marking this thread so that its
        progress callback can read the network (see _exclusive)."""
        self._check_not_in_fit("fit()")
        self._lock.acquire()
        try:
            handle = self._require_open()
            self._fit_thread = threading.get_ident()
            try:
                yield handle
            finally:
                self._fit_thread = None
                self._last_batch = None
        finally:
            self._lock.release()

    def _call(self, function: str, *args, mutates: bool = True) -> None:
        """Call a status-returning C function with the handle first, holding the network
        exclusively (the fast path of _exclusive, for the per-step calls)."""
        fn = getattr(_lib.lib, function)
        if self._fit_thread is not None and self._in_fit_callback():
            if mutates:
                self._check_not_in_fit(function.replace("bp_", "", 1) + "()")
            status = fn(self._require_open(), *args)
            if status:
                _lib.check(status, function)
            return
        lock = self._lock
        lock.acquire()
        try:
            handle = self._handle
            if not handle:
                raise self._closed_error()
            status = fn(handle, *args)
            if status:
                _lib.check(status, function)  # reads bp_last_error() on this thread, now
        finally:
            lock.release()
