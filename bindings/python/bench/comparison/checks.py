"""What every implementation must show before it is timed: the step is real, and the
reference computes what the library computes."""

from __future__ import annotations

import numpy as np

CHECK_STEPS = 31
AGREE_STEPS = 5


def check_impl(impl, spec, batches):
    """Before timing: the step is real. Training: outputs finite, loss falls over
    CHECK_STEPS steps on one batch; returns the losses. Forward: outputs finite, softmax
    rows sum to 1; returns the outputs of the first batch."""
    x, y, lab = batches[0]
    out = np.asarray(impl.forward(x), dtype=np.float32)
    if not np.isfinite(out).all():
        raise RuntimeError(f"{impl.name} {spec['id']}: forward outputs are not finite")
    if spec["kind"] == "forward":
        sums = out.sum(axis=1)
        if np.abs(sums - 1).max() > 1e-4:
            raise RuntimeError(f"{impl.name} {spec['id']}: softmax rows sum to {sums.min()}..{sums.max()}, not 1")
        return out.tolist()
    losses = [float(impl.train_step(x, y, lab, spec["lr"])) for _ in range(CHECK_STEPS)]
    impl.sync()
    out = np.asarray(impl.forward(x), dtype=np.float32)
    if not (np.isfinite(losses).all() and np.isfinite(out).all()):
        raise RuntimeError(f"{impl.name} {spec['id']}: non-finite loss or outputs after training: {losses[-1]}")
    if not losses[-1] < losses[0]:
        raise RuntimeError(
            f"{impl.name} {spec['id']}: the loss did not go down over {CHECK_STEPS} steps on one batch: "
            f"{losses[0]:.6g} -> {losses[-1]:.6g}")
    return losses


def agree(wid, name, lib_check, ref_check, kind):
    """The reference computes what the library computes: same losses (training, from the
    same initial parameters and batch) or same outputs (forward)."""
    a, b = np.asarray(lib_check, dtype=np.float64), np.asarray(ref_check, dtype=np.float64)
    if kind == "forward":
        err = float(np.abs(a - b).max())
        if err > 1e-4:
            raise ValueError(f"{wid}: {name} forward outputs differ from the library's by up to {err:.3g}")
        return f"outputs agree (max |diff| {err:.1e})"
    a, b = a[:AGREE_STEPS], b[:AGREE_STEPS]
    rel = float((np.abs(a - b) / np.maximum(np.abs(a), 1e-6)).max())
    if rel > 2e-3:
        raise ValueError(f"{wid}: {name} losses over the first {AGREE_STEPS} steps {b.tolist()} differ from the library's "
            f"{a.tolist()} (relative {rel:.3g}): not the same training step")
    return f"losses of the first {AGREE_STEPS} steps agree (max rel diff {rel:.1e})"
