"""Hand-built ONNX graphs for the import tests (test_onnx_import.py,
test_onnx_malformed.py): a chain builder (x -> affine layers, activations and no-ops
-> y) and the few graphs a chain cannot express (Conv, If, Loop, external data).
Imported by those modules only after they have checked that onnx exists."""

import itertools

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FLOAT = TensorProto.FLOAT
SQRT2 = np.float32(1.4142135)


def model_of(graph, opset=17, ir_version=None):
    """A model of `graph` for the default domain at `opset`, with the lowest IR version
    that allows it (8 for opset 17, as the export writes) unless told."""
    opsets = [helper.make_opsetid("", opset)]
    if ir_version is None:
        ir_version = max(8, helper.find_min_ir_version_for(opsets))
    return helper.make_model(graph, opset_imports=opsets, ir_version=ir_version, producer_name="test_onnx")


class Chain:
    """Builds a chain graph node by node: every method consumes the current tensor
    (``self.tensor``, ``self.width`` features wide) and makes its result current.

    ``weights`` says how constant tensors are stored: "raw" (initializers with
    raw_data), "float_data" (initializers with float_data/double_data) or "constant"
    (Constant nodes).  ``dtype`` is float32, or float64 for a graph entirely in double.
    """

    def __init__(self, n_in, seed=0, opset=17, weights="raw", dtype=np.float32, batch="N"):
        self.rng = np.random.default_rng(seed)
        self.opset, self.weights, self.dtype, self.batch = opset, weights, np.dtype(dtype), batch
        self.elem_type = helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes, self.initializers = [], []
        self.inputs = [helper.make_tensor_value_info("x", self.elem_type, [batch, n_in])]
        self.tensor, self.width = "x", n_in
        self._ids = itertools.count()

    def fresh(self, prefix):
        return f"{prefix}{next(self._ids)}"

    # ---------------------------------------------------------------- tensors and nodes

    def constant(self, array, prefix="c", dtype=None):
        """A constant tensor (stored the builder's way); returns its name."""
        array = np.asarray(array, dtype=dtype or self.dtype)
        name = self.fresh(prefix)
        if self.weights == "float_data" and array.dtype in (np.float32, np.float64):
            tensor = helper.make_tensor(name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape,
                                        array.ravel().tolist())
        else:
            tensor = numpy_helper.from_array(array, name)  # raw_data
        if self.weights == "constant":
            self.nodes.append(helper.make_node("Constant", [], [name], name=self.fresh("const"), value=tensor))
        else:
            self.initializers.append(tensor)
        return name

    def random(self, *shape):
        return (self.rng.normal(size=shape) * 0.5).astype(self.dtype)

    def apply(self, op, *inputs, name=None, width=None, **attributes):
        """Append `op`; its inputs are `inputs` with None standing for the current tensor
        (just the current tensor without `inputs`).  Returns the node."""
        inputs = [self.tensor if i is None else i for i in (inputs or (None,))]
        output = self.fresh("t")
        node = helper.make_node(op, inputs, [output], name=name or self.fresh(op.lower()), **attributes)
        self.nodes.append(node)
        self.tensor = output
        if width is not None:
            self.width = width
        return node

    # ---------------------------------------------------------------- affine layers

    def gemm(self, n_out, trans_b=1, alpha=None, beta=None, bias="vector", name=None, trans_a=None):
        """Gemm(x, B, C): B is (n_out, width) with transB=1, else (width, n_out); C is
        (n_out,) for bias "vector", (1, n_out) for "row", absent for None.  alpha, beta
        and transA are written only when given."""
        B = self.random(n_out, self.width) if trans_b else self.random(self.width, n_out)
        inputs = [None, self.constant(B, "W")]
        if bias is not None:
            inputs.append(self.constant(self.random(n_out) if bias == "vector" else self.random(1, n_out), "b"))
        attributes = {"transB": trans_b}
        for key, value in (("alpha", alpha), ("beta", beta), ("transA", trans_a)):
            if value is not None:
                attributes[key] = value
        return self.apply("Gemm", *inputs, name=name, width=n_out, **attributes)

    def matmul(self, n_out, add=None, bias="vector"):
        """MatMul(x, B) with B (width, n_out), then with add="right" Add(·, c) or with
        add="left" Add(c, ·), c of shape (n_out,) or, for bias "row", (1, n_out)."""
        self.apply("MatMul", None, self.constant(self.random(self.width, n_out), "W"), width=n_out)
        if add is not None:
            c = self.constant(self.random(n_out) if bias == "vector" else self.random(1, n_out), "b")
            self.apply("Add", *((None, c) if add == "right" else (c, None)))

    # ---------------------------------------------------------------- decomposed activations

    def silu(self, sigmoid_first=False):
        """z · Sigmoid(z) as Mul(z, Sigmoid(z)), or Mul(Sigmoid(z), z)."""
        z = self.tensor
        self.apply("Sigmoid")
        self.apply("Mul", *((None, z) if sigmoid_first else (z, None)))

    def torch_gelu(self):
        """torch's exact GELU: Mul(Mul(z, Add(Erf(Div(z, 1.4142135)), 1)), 0.5)."""
        z = self.tensor
        self.apply("Div", None, self.constant(SQRT2, "sqrt2"))
        self.apply("Erf")
        self.apply("Add", None, self.constant(1.0, "one"))
        self.apply("Mul", z, None)
        self.apply("Mul", None, self.constant(0.5, "half"))

    def batchnorm(self, name):
        """BatchNormalization with identity statistics (scale 1, bias 0, mean 0, var 1)."""
        ones, zeros = np.ones(self.width), np.zeros(self.width)
        stats = [self.constant(v, "bn") for v in (ones, zeros, zeros, ones)]
        self.apply("BatchNormalization", None, *stats, name=name)

    def reshape(self, first):
        """Reshape to the constant int64 shape [first, width] (first is -1 or 0)."""
        self.apply("Reshape", None, self.constant([first, self.width], "shape", dtype=np.int64))

    # ---------------------------------------------------------------- the model

    def graph(self, extra_inputs=()):
        output = helper.make_tensor_value_info(self.tensor, self.elem_type, [self.batch, self.width])
        return helper.make_graph(self.nodes, "chain", self.inputs + list(extra_inputs), [output], self.initializers)

    def model(self, extra_inputs=(), ir_version=None):
        return model_of(self.graph(extra_inputs), self.opset, ir_version)


def two_layer(hidden, output=None, n_in=4, n_hidden=6, n_out=3, **chain_options):
    """Gemm -> `hidden` -> Gemm -> `output`: each a function of the Chain (None: nothing)."""
    g = Chain(n_in, **chain_options)
    g.gemm(n_hidden)
    if hidden is not None:
        hidden(g)
    g.gemm(n_out)
    if output is not None:
        output(g)
    return g


def with_initializers_as_inputs(model):
    """The model with every initializer also listed in graph.input (the old IR style)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    for tensor in model.graph.initializer:
        model.graph.input.append(helper.make_tensor_value_info(tensor.name, tensor.data_type, tensor.dims))
    return model


def with_external_weights(model):
    """The model with its first initializer's data moved to an external file (which does
    not exist: the importer must refuse before reading anything)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    tensor = model.graph.initializer[0]
    tensor.ClearField("raw_data")
    tensor.ClearField("float_data")
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", "weights.bin"), ("offset", "0"), ("length", str(4 * int(np.prod(tensor.dims))))):
        tensor.external_data.append(onnx.StringStringEntryProto(key=key, value=value))
    return model


def conv_first(name="conv1"):
    """x (N, 1, 8) -> Conv `name` -> Flatten -> Gemm: a valid model the library cannot represent."""
    W = numpy_helper.from_array(np.ones((2, 1, 3), np.float32), "conv_W")
    G = numpy_helper.from_array(np.ones((3, 12), np.float32), "G")
    nodes = [
        helper.make_node("Conv", ["x", "conv_W"], ["c"], name=name),
        helper.make_node("Flatten", ["c"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "G"], ["y"], name="gemm", transB=1),
    ]
    graph = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("x", FLOAT, ["N", 1, 8])],
                              [helper.make_tensor_value_info("y", FLOAT, ["N", 3])], [W, G])
    return model_of(graph)


def _subgraph(name, op, source, inputs=()):
    """A one-node subgraph computing op(source) from the outer scope's `source`."""
    out = f"{name}_out"
    return helper.make_graph([helper.make_node(op, [source], [out], name=f"{name}_{op.lower()}")], name,
                             list(inputs), [helper.make_tensor_value_info(out, FLOAT, None)])


def control_flow_in_chain(op, name):
    """Gemm -> `op` node `name` (an If choosing Relu/Sigmoid, or a Loop running Relu once)
    -> Gemm: valid models with a control-flow node in the chain."""
    g = Chain(4)
    g.gemm(6)
    z = g.tensor
    if op == "If":
        cond = g.constant(np.array(True), "cond", dtype=np.bool_)
        g.apply("If", cond, name=name, then_branch=_subgraph("then", "Relu", z),
                else_branch=_subgraph("else", "Sigmoid", z))
    else:  # a Loop of 1 iteration, its loop-carried value v <- Relu(v)
        trips = g.constant(np.array(1), "trips", dtype=np.int64)
        cond = g.constant(np.array(True), "cond", dtype=np.bool_)
        body = helper.make_graph(
            [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="keep_going"),
             helper.make_node("Relu", ["v_in"], ["v_out"], name="body_relu")],
            "body",
            [helper.make_tensor_value_info("i", TensorProto.INT64, []),
             helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
             helper.make_tensor_value_info("v_in", FLOAT, None)],
            [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
             helper.make_tensor_value_info("v_out", FLOAT, None)],
        )
        g.apply("Loop", trips, cond, z, name=name, body=body)
    g.gemm(3)
    return g.model()


def with_weight_type(model, data_type):
    """The model with its first Gemm's B initializer converted to `data_type` (int8 or
    float16): well-formed protobuf, but weights the library does not read."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    gemm = next(n for n in model.graph.node if n.op_type == "Gemm")
    index = next(i for i, t in enumerate(model.graph.initializer) if t.name == gemm.input[1])
    old = model.graph.initializer[index]
    array = numpy_helper.to_array(old).astype(helper.tensor_dtype_to_np_dtype(data_type))
    model.graph.initializer[index].CopyFrom(numpy_helper.from_array(array, old.name))
    return model
