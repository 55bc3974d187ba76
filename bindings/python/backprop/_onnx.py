"""ONNX models in and out: the methods of Network over bp_export_onnx,
bp_export_onnx_to_buffer, bp_import_onnx and bp_import_onnx_from_buffer.

The library writes and reads ONNX itself (see the header's "ONNX models"): this module
needs neither onnx nor protobuf, and imports neither.
"""

from __future__ import annotations

import ctypes
from ctypes import c_void_p

from . import _lib
from ._codes import BP_ONNX_LOSS_AUTO, LOSSES, normalise_name
from ._persistence import _buffer_bytes, _path_bytes, _raise

__all__ = ["ONNXInterop"]


class ONNXInterop:
    """The to_onnx and from_onnx methods of Network."""

    def to_onnx(self, path=None):
        """The network as an ONNX model (opset 17): written to ``path`` (atomically, like
        :meth:`save`) and None returned, or, without a path, returned as ``bytes``.

        One Gemm per layer and its activation, the input scaling in front and the
        target scaling behind, a dynamic batch dimension, and the loss, library version
        and layers in the metadata (``backprop.loss``, ``backprop.version``,
        ``backprop.layers``).  onnxruntime's outputs are :meth:`predict`'s."""
        with self._exclusive(mutates=False) as handle:
            if path is None:
                return _buffer_bytes(_lib.lib.bp_export_onnx_to_buffer, "bp_export_onnx_to_buffer", handle)
            raw = _path_bytes(path)
            status = _lib.lib.bp_export_onnx(handle, raw)
            if status:
                _raise(status, "bp_export_onnx", path)
            return None

    @classmethod
    def from_onnx(cls, source, loss=None) -> "Network":
        """A new network from an ONNX model: ``source`` is a path (str or os.PathLike) or
        the model's bytes (bytes, bytearray, memoryview).

        ``loss`` None takes the loss a backprop export recorded, else "cross_entropy"
        for a softmax or sigmoid output and "mse" for any other.  The import reads the
        multilayer perceptrons of torch.onnx, tf2onnx and skl2onnx (Gemm or MatMul + Add
        layers, their activations, input scaling, a classifier's post-processing, which
        is dropped); anything else raises UnsupportedModelError naming the node.
        Malformed data raises CorruptModelError, TruncatedModelError or NotAModelError;
        an unreadable file ModelIOError."""
        code = BP_ONNX_LOSS_AUTO if loss is None else LOSSES[normalise_name(loss, "loss", LOSSES)]
        handle = c_void_p()
        if isinstance(source, (bytes, bytearray, memoryview)):
            data = bytes(source)
            status = _lib.lib.bp_import_onnx_from_buffer(data, len(data), code, ctypes.byref(handle))
            if status:
                _raise(status, "bp_import_onnx_from_buffer")
        else:
            raw = _path_bytes(source)
            status = _lib.lib.bp_import_onnx(raw, code, ctypes.byref(handle))
            if status:
                _raise(status, "bp_import_onnx", source)
        if not handle:
            raise RuntimeError("bp_import_onnx returned BP_OK but no handle")  # contract violation
        return cls._from_handle(handle)
