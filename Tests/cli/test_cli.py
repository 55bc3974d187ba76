"""End-to-end tests of the backprop-cli executable: train, predict, evaluate and info on
generated CSV and IDX data, and the errors for bad data and bad command lines.

Build the binary first:
    flock /tmp/swift-build.lock swift build -c release --product backprop-cli
The tests run <repo>/.build/release/backprop-cli, or $BACKPROP_CLI when set.
"""

import csv
import os
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("BACKPROP_CLI", REPO / ".build" / "release" / "backprop-cli"))

BLOBS_FEATURES = 4
BLOBS_CLASSES = 3
TRAIN_FLAGS = [
    "--layers", "4,16,3", "--activations", "relu,softmax", "--loss", "cross-entropy",
    "--epochs", "30", "--batch", "32", "--lr", "0.01", "--optimizer", "adam", "--seed", "7",
]


def cli(*arguments, cwd):
    """Runs the tool in `cwd`, so that messages name files as the test wrote them."""
    if not BINARY.is_file():
        pytest.fail(
            f"{BINARY} does not exist; build it with "
            "`flock /tmp/swift-build.lock swift build -c release --product backprop-cli`",
            pytrace=False)
    return subprocess.run([str(BINARY), *map(str, arguments)], cwd=cwd, capture_output=True, text=True, timeout=120)


def write_blobs(path, rows=600, seed=0):
    """Three Gaussian blobs in 4 dimensions, with a header and the class in the last column."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0, 0, 0, 0], [3, 3, 0, 1], [0, 3, 3, -2]], dtype=float)
    labels = rng.integers(0, BLOBS_CLASSES, rows)
    features = centers[labels] + rng.normal(0, 1, (rows, BLOBS_FEATURES))
    with open(path, "w") as file:
        file.write("a,b,c,d,class\n")
        for row, label in zip(features, labels):
            file.write(",".join(f"{value:.5f}" for value in row) + f",{label}\n")
    return features, labels


def write_idx(directory, count=240, side=6, seed=0):
    """IDX images (one bright band of rows per class, plus noise) and their IDX labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, count).astype(np.uint8)
    images = rng.integers(0, 60, (count, side, side)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[2 * label: 2 * label + 2, :] += 180
    (directory / "images.idx").write_bytes(struct.pack(">IIII", 0x803, count, side, side) + images.tobytes())
    (directory / "labels.idx").write_bytes(struct.pack(">II", 0x801, count) + labels.tobytes())
    return images, labels


def files_in(directory):
    return sorted(path.name for path in Path(directory).iterdir())


@pytest.fixture
def blobs(tmp_path):
    write_blobs(tmp_path / "train.csv", seed=0)
    write_blobs(tmp_path / "test.csv", rows=300, seed=1)
    return tmp_path


@pytest.fixture
def model(blobs):
    result = cli("train", "--data", "train.csv", *TRAIN_FLAGS, "--out", "model.bpm", cwd=blobs)
    assert result.returncode == 0, result.stderr
    return blobs / "model.bpm"


# The main path


def test_train_predict_evaluate_reach_95_percent(blobs, model):
    evaluation = cli("evaluate", "--model", model, "--data", "test.csv", cwd=blobs)
    assert evaluation.returncode == 0, evaluation.stderr
    accuracy_line = next(line for line in evaluation.stdout.splitlines() if line.startswith("accuracy"))
    accuracy = float(accuracy_line.split()[1].rstrip("%"))
    assert accuracy >= 95, evaluation.stdout
    assert "confusion matrix" in evaluation.stdout

    prediction = cli("predict", "--model", model, "--data", "test.csv", "--out", "predictions.csv", cwd=blobs)
    assert prediction.returncode == 0, prediction.stderr
    with open(blobs / "predictions.csv") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["class", "p0", "p1", "p2"]
    assert len(rows) == 1 + 300
    table = np.array(rows[1:], dtype=float)
    np.testing.assert_allclose(table[:, 1:].sum(axis=1), 1, atol=1e-5)  # softmax rows
    np.testing.assert_array_equal(table[:, 0], table[:, 1:].argmax(axis=1))
    true_labels = np.loadtxt(blobs / "test.csv", delimiter=",", skiprows=1)[:, -1]
    assert (table[:, 0] == true_labels).mean() == pytest.approx(accuracy / 100, abs=1e-3)


def test_confusion_matrix_counts_every_sample(blobs, model):
    output = cli("evaluate", "--model", model, "--data", "test.csv", cwd=blobs).stdout.splitlines()
    header = output.index("confusion matrix (rows: true class, columns: predicted class)")
    rows = [line.split() for line in output[header + 2: header + 2 + BLOBS_CLASSES]]
    counts = np.array([[int(value) for value in row[1:]] for row in rows])
    assert counts.shape == (3, 3)
    assert counts.sum() == 300
    labels = np.loadtxt(blobs / "test.csv", delimiter=",", skiprows=1)[:, -1]
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(labels.astype(int), minlength=3))


def test_predict_to_stdout_drops_the_label_column_or_takes_unlabelled_rows(blobs, model):
    labelled = cli("predict", "--model", model, "--data", "test.csv", cwd=blobs)
    assert labelled.returncode == 0, labelled.stderr
    features = np.loadtxt(blobs / "test.csv", delimiter=",", skiprows=1)[:, :-1]
    np.savetxt(blobs / "features.csv", features, delimiter=",", fmt="%.5f")
    unlabelled = cli("predict", "--model", model, "--data", "features.csv", cwd=blobs)
    assert unlabelled.returncode == 0, unlabelled.stderr
    assert unlabelled.stdout == labelled.stdout


def test_info_describes_the_model(model, blobs):
    result = cli("info", model, cwd=blobs)
    assert result.returncode == 0, result.stderr
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["layers"] == "4,16,3"
    assert lines["activations"] == "relu,softmax"
    assert lines["loss"] == "cross-entropy"
    assert lines["parameters"] == str(4 * 16 + 16 + 16 * 3 + 3)
    assert lines["optimizer"].startswith("adam: beta1 0.9, beta2 0.999")
    assert lines["schedule"] == "constant"
    assert lines["inputs"] == "used as they are"
    assert str(model.stat().st_size) in lines["file"]


def test_the_same_seed_gives_byte_identical_models(blobs):
    for name, seed in [("a.bpm", 3), ("b.bpm", 3), ("c.bpm", 4)]:
        flags = [*TRAIN_FLAGS[:-2], "--seed", seed, "--validation-split", "0.2", "--quiet"]
        result = cli("train", "--data", "train.csv", *flags, "--out", name, cwd=blobs)
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
    assert (blobs / "a.bpm").read_bytes() == (blobs / "b.bpm").read_bytes()
    assert (blobs / "a.bpm").read_bytes() != (blobs / "c.bpm").read_bytes()


def test_init_chooses_the_scheme_and_the_default_is_the_recommended_one(blobs):
    outputs = {}
    for name, init in [("default.bpm", None), ("named.bpm", "PyTorch"), ("legacy.bpm", "he-glorot-uniform")]:
        flags = TRAIN_FLAGS + (["--init", init] if init else [])
        result = cli("train", "--data", "train.csv", *flags, "--out", name, cwd=blobs)
        assert result.returncode == 0, result.stderr
        outputs[name] = result.stdout
    assert "pytorch initialisation, adam" in outputs["default.bpm"]
    assert "he-glorot-uniform initialisation, adam" in outputs["legacy.bpm"]
    assert (blobs / "default.bpm").read_bytes() == (blobs / "named.bpm").read_bytes()
    assert (blobs / "default.bpm").read_bytes() != (blobs / "legacy.bpm").read_bytes()


def test_a_schedule_shows_its_rate_and_info_where_it_stands(blobs):
    epochs = TRAIN_FLAGS.index("--epochs")
    flags = TRAIN_FLAGS[:epochs] + ["--epochs", "4"] + TRAIN_FLAGS[epochs + 2:]
    flags += ["--schedule", "step", "--gamma", "0.5", "--step-epochs", "2"]
    result = cli("train", "--data", "train.csv", *flags, "--out", "s.bpm", cwd=blobs)
    assert result.returncode == 0, result.stderr
    assert "adam with learning rate 0.01 on the step schedule" in result.stdout
    rates = [line.split("lr ")[1].strip() for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert rates == ["0.01", "0.01", "0.005", "0.005"], result.stdout
    info = cli("info", "s.bpm", cwd=blobs)
    assert "schedule     step: gamma 0.5, step-epochs 2; after 4 epochs" in info.stdout, info.stdout


def test_standardize_stores_the_scaling_so_raw_data_predicts(tmp_path):
    write_blobs(tmp_path / "raw.csv")
    rows = np.loadtxt(tmp_path / "raw.csv", delimiter=",", skiprows=1)
    rows[:, :4] = rows[:, :4] * [1000, 0.001, -50, 1] + [4000, 0, 0, -300]  # features far from unit scale
    np.savetxt(tmp_path / "wide.csv", rows, delimiter=",", fmt="%.6g", header="a,b,c,d,class", comments="")
    flags = ["--layers", "4,16,3", "--epochs", "30", "--lr", "0.01", "--optimizer", "adam", "--seed", "7", "--quiet"]
    result = cli("train", "--data", "wide.csv", *flags, "--standardize", "--out", "m.bpm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    evaluation = cli("evaluate", "--model", "m.bpm", "--data", "wide.csv", cwd=tmp_path)
    accuracy = float(evaluation.stdout.split("accuracy")[1].split("%")[0])
    assert accuracy >= 95, evaluation.stdout
    info = dict(line.split(None, 1) for line in cli("info", "m.bpm", cwd=tmp_path).stdout.splitlines())
    assert info["inputs"].startswith("scaled")


def test_dropout_is_stored_and_a_bad_rate_is_refused(blobs):
    flags = ["--data", "train.csv", "--hidden", "16,8", "--epochs", "20", "--optimizer", "adam", "--lr", "0.01", "--quiet"]
    result = cli("train", *flags, "--dropout", "0.2,0.1", "--out", "m.bpm", cwd=blobs)
    assert result.returncode == 0, result.stderr
    info = dict(line.split(None, 1) for line in cli("info", "m.bpm", cwd=blobs).stdout.splitlines())
    assert info["dropout"].startswith("0.2,0.1 (hidden layers, while training"), info
    evaluation = cli("evaluate", "--model", "m.bpm", "--data", "train.csv", cwd=blobs)
    assert float(evaluation.stdout.split("accuracy")[1].split("%")[0]) >= 90, evaluation.stdout
    for rates, message in (("0.2,0.1,0.3", "--dropout has 3 rates; the network has 2 hidden layers"),
                           ("1", "it must be in [0, 1)"), ("x", "is not a number")):
        refused = cli("train", *flags, "--dropout", rates, "--out", "n.bpm", cwd=blobs)
        assert refused.returncode == 2 and message in refused.stderr, refused.stderr
        assert not (blobs / "n.bpm").exists()


def test_validation_split_and_patience_stop_early_and_report(blobs):
    result = cli(
        "train", "--data", "train.csv", "--layers", "4,16,3", "--optimizer", "adam", "--lr", "0.05",
        "--epochs", "500", "--validation-split", "0.25", "--patience", "3", "--out", "model.bpm", cwd=blobs)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "450 training samples from train.csv, 150 held out for validation" in lines[1]
    epochs = [line for line in lines if line.startswith("epoch")]
    assert epochs and all("val loss" in line and "val acc" in line for line in epochs)
    assert len(epochs) <= 52  # not redrawn on a pipe: plain lines, thinned to about 50
    assert any(line.startswith("stopped early after epoch") for line in lines)
    validation = next(line for line in lines if line.startswith("validation"))
    assert float(validation.split("accuracy")[1].strip().rstrip("%")) >= 95


def test_hidden_sizes_the_input_and_output_layers_from_the_data(blobs):
    result = cli("train", "--data", "train.csv", "--hidden", "8", "--epochs", "2", "--out", "model.bpm", cwd=blobs)
    assert result.returncode == 0, result.stderr
    info = cli("info", "model.bpm", cwd=blobs).stdout
    assert "4,8,3" in info and "relu,softmax" in info


@pytest.mark.parametrize("hidden", ["gelu", "silu"])
def test_activations_that_read_z_train_save_and_describe(blobs, hidden):
    result = cli(
        "train", "--data", "train.csv", "--layers", "4,16,3", "--activations", f"{hidden},softmax",
        "--loss", "cross-entropy", "--optimizer", "adam", "--lr", "0.01", "--epochs", "30", "--quiet",
        "--out", f"{hidden}.bpm", cwd=blobs)
    assert result.returncode == 0, result.stderr
    info = cli("info", f"{hidden}.bpm", cwd=blobs)
    assert dict(line.split(None, 1) for line in info.stdout.splitlines())["activations"] == f"{hidden},softmax"
    evaluation = cli("evaluate", "--model", f"{hidden}.bpm", "--data", "test.csv", cwd=blobs)
    assert evaluation.returncode == 0, evaluation.stderr
    assert float(evaluation.stdout.split("accuracy")[1].split("%")[0]) >= 95


def test_label_column_by_name_and_header_options(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (300, 2))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int)
    with open(tmp_path / "binary.csv", "w") as file:
        file.write("y, x1, x2\n")
        for label, (a, b) in zip(labels, x):
            file.write(f"{label}, {a:.4f}, {b:.4f}\n")
    result = cli(
        "train", "--data", "binary.csv", "--label-column", "y", "--layers", "2,8,1", "--activations", "tanh,sigmoid",
        "--optimizer", "adam", "--lr", "0.05", "--epochs", "50", "--out", "binary.bpm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    evaluation = cli("evaluate", "--model", "binary.bpm", "--data", "binary.csv", "--label-column", "0", cwd=tmp_path)
    assert evaluation.returncode == 0, evaluation.stderr
    assert float(evaluation.stdout.split("accuracy")[1].split("%")[0]) >= 95
    prediction = cli("predict", "--model", "binary.bpm", "--data", "binary.csv", "--label-column", "y", cwd=tmp_path)
    assert prediction.stdout.splitlines()[0] == "class,p1"
    forced = cli("train", "--data", "binary.csv", "--no-header", "--layers", "2,1", "--out", "x.bpm", cwd=tmp_path)
    assert forced.returncode == 1
    assert 'binary.csv:1:1: "y" is not a number' in forced.stderr


# L1's gradient keeps its size at the minimum: Adam settles only as its rate decays.
@pytest.mark.parametrize("loss", [["mse"], ["huber", "--huber-delta", "0.5"], ["l1", "--schedule", "exponential",
                                                                             "--gamma", "0.95"],
                                  ["mse", "--standardize"]])
def test_regression_with_each_regression_loss(tmp_path, loss):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (400, 2))
    np.savetxt(tmp_path / "regression.csv", np.column_stack([x, x[:, 0] - 0.5 * x[:, 1]]), delimiter=",", fmt="%.5f")
    result = cli(
        "train", "--data", "regression.csv", "--layers", "2,1", "--activations", "linear", "--loss", *loss,
        "--optimizer", "adam", "--lr", "0.05", "--epochs", "100", "--out", "regression.bpm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    evaluation = cli("evaluate", "--model", "regression.bpm", "--data", "regression.csv", cwd=tmp_path)
    measures = dict(line.split(None, 1) for line in evaluation.stdout.splitlines())
    assert float(measures["rmse"]) < 0.01 and float(measures["mae"]) < 0.01 and float(measures["r2"]) > 0.999
    prediction = cli("predict", "--model", "regression.bpm", "--data", "regression.csv", cwd=tmp_path)
    lines = prediction.stdout.splitlines()
    assert lines[0] == "output0" and len(lines) == 401


def test_idx_round_trip(tmp_path):
    images, labels = write_idx(tmp_path)
    result = cli(
        "train", "--data", "images.idx", "--labels", "labels.idx", "--layers", "36,16,3", "--activations",
        "sigmoid,softmax", "--lr", "0.5", "--epochs", "30", "--out", "idx.bpm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    evaluation = cli("evaluate", "--model", "idx.bpm", "--data", "images.idx", "--labels", "labels.idx", cwd=tmp_path)
    assert evaluation.returncode == 0, evaluation.stderr
    assert f"samples   {len(labels)}" in evaluation.stdout
    assert float(evaluation.stdout.split("accuracy")[1].split("%")[0]) >= 95
    prediction = cli("predict", "--model", "idx.bpm", "--data", "images.idx", cwd=tmp_path)
    assert len(prediction.stdout.splitlines()) == 1 + len(labels)


# Bad data: a message naming the place, a non-zero status, and no output file


@pytest.mark.parametrize("contents, message", [
    ("a,b,c\n1,2,0\n3,4,1\n5,abc,1\n", 'data.csv:4:2: "abc" is not a number'),
    ("1,2,0\n3,4,1\n\n5,6\n", "data.csv:4: 2 columns, expected 3"),
    ("1,2,0\n3,4,3\n", "data.csv:2:3: label 3 is out of range"),
    ("1,2,0\n3,4,1.5\n", "data.csv:2:3: label 1.5 is out of range"),
    ("", "data.csv: the file is empty"),
    ("\n  \n", "data.csv: the file is empty"),
    ("x,y,label\n", "data.csv: no data rows after the header"),
    ("1,2,0\nnan,4,1\n", 'data.csv:2:1: "nan" is not a finite number'),
    ("1,2,0\n3,inf,1\n", 'data.csv:2:2: "inf" is not a finite number'),
    ("1,2,0\n3,1e39,1\n", 'data.csv:2:2: "1e39" is beyond the range of 32-bit floats'),
    ("1,2,0\n3,,1\n", "data.csv:2:2: empty field, expected a number"),
    ('1,2,0\n3,"4",1\n', "data.csv:2:2: quoted fields are not supported"),
])
def test_bad_csv_fails_with_its_location_and_writes_nothing(tmp_path, contents, message):
    (tmp_path / "data.csv").write_text(contents)
    result = cli("train", "--data", "data.csv", "--layers", "2,3", "--out", "model.bpm", cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert files_in(tmp_path) == ["data.csv"]


def test_predict_on_bad_data_leaves_no_predictions_file(blobs, model):
    (blobs / "bad.csv").write_text("1,2,3,4\n1,2,x,4\n")
    result = cli("predict", "--model", model, "--data", "bad.csv", "--out", "predictions.csv", cwd=blobs)
    assert result.returncode == 1
    assert 'bad.csv:2:3: "x" is not a number' in result.stderr
    assert not (blobs / "predictions.csv").exists()
    assert not [name for name in files_in(blobs) if name.startswith("predictions")]


def test_features_must_match_the_input_layer(blobs, model):
    result = cli("train", "--data", "train.csv", "--layers", "64,32,3", "--out", "other.bpm", cwd=blobs)
    assert result.returncode == 1
    assert "train.csv has 4 feature columns but the network of --layers 64,32,3 takes 64 inputs" in result.stderr
    (blobs / "wide.csv").write_text("1,2,3,4,5,6\n")
    result = cli("predict", "--model", model, "--data", "wide.csv", cwd=blobs)
    assert result.returncode == 1
    assert "wide.csv has 6 feature columns but the model takes 4 inputs" in result.stderr


def test_gzip_is_refused_with_a_hint(tmp_path):
    (tmp_path / "images.gz").write_bytes(b"\x1f\x8b\x08\x00" + bytes(16))
    result = cli("train", "--data", "images.gz", "--labels", "labels.idx", "--hidden", "4", "--out", "m.bpm", cwd=tmp_path)
    assert result.returncode == 1
    assert "images.gz is gzip-compressed" in result.stderr and "gunzip" in result.stderr


def test_idx_size_and_type_are_checked(tmp_path):
    write_idx(tmp_path, count=10)
    data = (tmp_path / "images.idx").read_bytes()
    (tmp_path / "short.idx").write_bytes(data[:-1])
    result = cli("train", "--data", "short.idx", "--labels", "labels.idx", "--hidden", "4", "--out", "m.bpm", cwd=tmp_path)
    assert result.returncode == 1
    assert "short.idx: the IDX header declares 10×6×6 = 360 bytes of data but the file holds 359" in result.stderr
    (tmp_path / "few.idx").write_bytes(struct.pack(">II", 0x801, 9) + bytes(9))
    result = cli("train", "--data", "images.idx", "--labels", "few.idx", "--hidden", "4", "--out", "m.bpm", cwd=tmp_path)
    assert "few.idx has 9 labels but images.idx has 10 images" in result.stderr
    (tmp_path / "floats.idx").write_bytes(struct.pack(">II", 0x0D01, 1) + bytes(4))
    result = cli("train", "--data", "floats.idx", "--hidden", "4", "--out", "m.bpm", cwd=tmp_path)
    assert "IDX element type 0xd is not supported" in result.stderr
    assert not (tmp_path / "m.bpm").exists()


def test_a_model_in_a_missing_directory_fails_before_training(blobs):
    result = cli("train", "--data", "train.csv", *TRAIN_FLAGS, "--out", "missing/model.bpm", cwd=blobs)
    assert result.returncode == 1
    assert "cannot write missing/model.bpm: directory missing: No such file or directory" in result.stderr
    assert result.stdout == ""
    result = cli("predict", "--model", "missing.bpm", "--data", "test.csv", cwd=blobs)
    assert result.returncode == 1
    assert "cannot open missing.bpm" in result.stderr


def test_export_and_import_round_trip_through_onnx(blobs, model):
    exported = cli("export", "model.bpm", "--out", "model.onnx", cwd=blobs)
    assert exported.returncode == 0, exported.stderr
    assert "ONNX opset 17" in exported.stdout
    imported = cli("import", "model.onnx", "--out", "back.bpm", cwd=blobs)
    assert imported.returncode == 0, imported.stderr
    assert "loss cross-entropy" in imported.stdout  # from the export's metadata
    predictions = [cli("predict", "--model", name, "--data", "test.csv", cwd=blobs).stdout for name in ("model.bpm", "back.bpm")]
    assert predictions[0] == predictions[1] and predictions[0].count("\n") == 301
    huber = cli("import", "model.onnx", "--out", "huber.bpm", "--loss", "mse", cwd=blobs)
    assert huber.returncode == 0 and "loss mse" in huber.stdout


def test_export_as_c_source_writes_the_source_and_its_header(blobs, model):
    result = cli("export", "model.bpm", "--format", "c", "--out", "blobs.c", "--prefix", "blobs", "--int8", cwd=blobs)
    assert result.returncode == 0, result.stderr
    assert "int8 weights" in result.stdout
    header, source = (blobs / "blobs.h").read_text(), (blobs / "blobs.c").read_text()
    assert "void blobs_predict(const float *input, float *output);" in header and "#define BLOBS_INPUT_SIZE 4" in header
    assert '#include "blobs.h"' in source and "static const signed char blobs_w1[64]" in source


@pytest.mark.parametrize("arguments,status,message", [
    (["export", "model.bpm", "--out", "x.c", "--format", "cpp"], 2, '"cpp" is not a format'),
    (["export", "model.bpm", "--out", "x.onnx", "--int8"], 2, "are for --format c"),
    (["export", "model.bpm", "--out", "x.cc", "--format", "c"], 1, 'does not end in ".c"'),
    (["export", "model.bpm", "--out", "x.c", "--format", "c", "--prefix", "9lives"], 1, "not a C identifier"),
    (["export", "model.bpm", "--out", "x.c", "--format", "c", "--int32-accumulate"], 1, "needs int8 weights"),
    (["export", "model.bpm"], 2, "--out"),
    (["import", "model.bpm", "--out", "x.bpm"], 1, "a backprop model file, not an ONNX model"),
    (["import", "missing.onnx", "--out", "x.bpm"], 1, "missing.onnx"),
    (["import", "model.onnx", "--out", "x.bpm", "--loss", "hinge"], 2, 'unknown loss "hinge"'),
])
def test_export_and_import_errors_name_the_problem_and_write_nothing(blobs, model, arguments, status, message):
    assert cli("export", "model.bpm", "--out", "model.onnx", cwd=blobs).returncode == 0
    before = files_in(blobs)
    result = cli(*arguments, cwd=blobs)
    assert result.returncode == status and message in result.stderr, result.stderr
    assert files_in(blobs) == before


# The command line


@pytest.mark.parametrize("command", ["train", "predict", "evaluate", "info", "export", "import"])
def test_every_command_has_help(tmp_path, command):
    for flag in ["--help", "-h"]:
        result = cli(command, flag, cwd=tmp_path)
        assert result.returncode == 0
        assert result.stdout.startswith(f"usage: backprop-cli {command}")
    assert cli("help", command, cwd=tmp_path).stdout == result.stdout


def test_tool_help_and_version(tmp_path):
    result = cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    for command in ["train", "predict", "evaluate", "info", "export", "import"]:
        assert f"  {command} " in result.stdout
    assert cli("--version", cwd=tmp_path).stdout == "backprop-cli 0.1.0\n"
    no_command = cli(cwd=tmp_path)
    assert no_command.returncode == 2 and "usage: backprop-cli <command>" in no_command.stderr


@pytest.mark.parametrize("arguments, message", [
    (["--bogus"], "unknown option --bogus"),
    (["--epochs", "x"], '--epochs: "x" is not an integer'),
    (["--epochs", "0"], "--epochs is 0; it must be at least 1"),
    (["--lr"], "--lr needs a value"),
    (["--lr", "-1"], "--lr is -1; it must be at least 0"),
    (["--activations", "relu,swish"], 'unknown activation "swish"'),
    (["--huber-delta", "0.5"], "--huber-delta has no effect on the cross-entropy loss; it is used by huber"),
    (["--loss", "hinge"], 'unknown loss "hinge"; expected one of mse, cross-entropy, huber, l1'),
    (["--schedule", "warm"], 'unknown learning-rate schedule "warm"; expected one of constant, step'),
    (["--gamma", "0.5"], "--gamma has no effect on the constant learning-rate schedule; it is used by step, "
                         "exponential (choose one with --schedule)"),
    (["--schedule", "step", "--step-epochs", "1.5"], "step epochs is 1.5; it must be a whole number"),
    (["--init", "xavier"], 'unknown initialisation "xavier"; expected one of he-glorot-uniform, he-uniform'),
    (["--momentum", "0.5"], "--momentum has no effect on the sgd optimizer"),
    (["--optimizer", "momentum", "--momentum", "1.5"], "momentum is 1.5; it must be in [0, 1)"),
    (["--activations", "softmax,softmax"], "layer 1 uses softmax"),
    (["--validation-split", "1"], "--validation-split is 1.0; it must be a fraction between 0 and 1"),
    (["--header", "--no-header"], "--header and --no-header contradict each other"),
    (["--label-column", "species"], 'train.csv has no column named "species"; its columns are a, b, c, d, class'),
    (["--hidden", "8"], "--layers and --hidden are alternatives"),
    (["--epochs", "3", "--epochs", "4"], "--epochs is given twice"),
    (["stray"], 'unexpected argument "stray"'),
])
def test_usage_errors_exit_2_with_the_usage(blobs, arguments, message):
    result = cli("train", "--data", "train.csv", "--layers", "4,8,3", "--out", "m.bpm", *arguments, cwd=blobs)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "usage: backprop-cli train" in result.stderr
    assert not (blobs / "m.bpm").exists()


def test_unknown_command_exits_2(tmp_path):
    result = cli("fit", cwd=tmp_path)
    assert result.returncode == 2
    assert 'unknown command "fit"' in result.stderr
