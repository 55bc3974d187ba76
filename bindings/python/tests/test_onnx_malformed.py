"""ONNX import of malformed bytes: each kind of broken protobuf raises its own error
(not a model, truncated, corrupt), hostile lengths and tensor sizes are refused without
allocating, and every cut or flip of an exported model gives a clean BackpropError or a
working network."""

import numpy as np
import pytest

import backprop as bp

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import helper  # noqa: E402

from onnx_checks import inputs, random_network, relu, scale_inputs  # noqa: E402
from onnx_graphs import two_layer  # noqa: E402


# ---------------------------------------------------------------- malformed bytes


def varint(value):
    out = bytearray()
    while True:
        out.append((value & 0x7F) | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def field_starts(blob):
    """The offsets where the top-level protobuf fields of the valid message `blob` start
    (and its length): a cut anywhere else ends inside a field."""
    def read_varint(pos):
        value = shift = 0
        while True:
            value |= (blob[pos] & 0x7F) << shift
            shift += 7
            pos += 1
            if blob[pos - 1] < 0x80:
                return value, pos

    starts, pos = [], 0
    while pos < len(blob):
        starts.append(pos)
        key, pos = read_varint(pos)
        wire = key & 7
        if wire == 0:
            pos = read_varint(pos)[1]
        elif wire == 2:
            length, pos = read_varint(pos)
            pos += length
        else:
            pos += {1: 8, 5: 4}[wire]
    assert pos == len(blob)
    return set(starts) | {len(blob)}


MALFORMED = {
    "empty": (b"", bp.NotAModelError),
    "ir_version_only": (b"\x08\x08", bp.NotAModelError),
    "no_graph": (onnx.ModelProto(ir_version=8, opset_import=[helper.make_opsetid("", 17)]).SerializeToString(),
                 bp.NotAModelError),
    "varint_cut": (b"\x08", bp.TruncatedModelError),
    "graph_runs_past_the_end": (b"\x3a\x05ab", bp.TruncatedModelError),
    "hostile_graph_length": (b"\x3a" + varint(2**62) + b"\x12\x00", bp.TruncatedModelError),
    # the graph's length fits; its first node's runs past the graph (and the data)
    "hostile_node_length": (b"\x3a\x0b\x0a" + varint(2**62) + b"\x00",
                            (bp.TruncatedModelError, bp.CorruptModelError)),
    "field_number_zero": (b"\x00\x01", bp.CorruptModelError),
    "wire_type_7": (b"\x0f\x00", bp.CorruptModelError),
    "overlong_varint": (b"\x08" + b"\xff" * 10 + b"\x01", bp.CorruptModelError),
    "text": (b"not an onnx model, just text", bp.CorruptModelError),  # 'n': wire type 6
}


@pytest.mark.parametrize("case", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bytes_raise_the_matching_error(case):
    blob, error = case
    with pytest.raises(error):
        bp.Network.from_onnx(blob)


def test_a_backprop_model_file_is_not_an_onnx_model():
    with pytest.raises(bp.NotAModelError, match="a backprop model file, not an ONNX model"):
        bp.Network.from_onnx(random_network([3, 4, 2], ["relu", "linear"]).to_bytes())


def test_hostile_tensor_sizes_are_refused_without_allocating():
    model = two_layer(relu).model()
    huge = model.graph.initializer[0]
    del huge.dims[:]
    huge.dims.extend([2**31, 2**31, 2**31])  # 2^93 elements, 24 bytes of data
    with pytest.raises((bp.CorruptModelError, bp.TruncatedModelError, bp.UnsupportedModelError)):
        bp.Network.from_onnx(model.SerializeToString())


def fuzz_blob():
    net = random_network([6, 10, 7, 3], ["gelu", "tanh", "softmax"], loss="cross_entropy")
    scale_inputs(net)
    return net.to_onnx()


def load_or_backprop_error(blob):
    """from_onnx(blob): the network it loads (which must then predict), or the
    BackpropError it raises; any other exception fails the test."""
    try:
        net = bp.Network.from_onnx(blob)
    except bp.BackpropError as error:
        return error
    try:
        net.predict(inputs(3, net.input_size))
    except bp.BackpropError:
        pass
    return net


def test_every_truncation_is_a_clean_error():
    blob = fuzz_blob()
    starts = field_starts(blob)
    step = max(1, len(blob) // 300)
    for cut in range(0, len(blob), step):
        result = load_or_backprop_error(blob[:cut])
        if cut not in starts:  # ends inside a field: a length runs past the end
            assert isinstance(result, bp.TruncatedModelError), (cut, result)


def test_flipped_bytes_give_a_clean_error_or_a_network():
    blob = fuzz_blob()
    rng = np.random.default_rng(20240611)
    outcomes = set()
    for _ in range(300):
        flipped = bytearray(blob)
        for position in rng.integers(0, len(blob), size=rng.integers(1, 4)):
            flipped[position] ^= int(rng.integers(1, 256))
        outcomes.add(type(load_or_backprop_error(bytes(flipped))))
    assert bp.Network in outcomes  # flips inside the weights still give a model
    assert outcomes - {bp.Network}  # and some flips break it
