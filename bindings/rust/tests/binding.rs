//! Tests of the safe binding: errors mapped, finite-difference gradients, a 95% fit with a
//! closure that stops it and one that panics, predict from two threads, model bytes and
//! ONNX, and a model file exchanged with the Python package (when BACKPROP_PYTHONPATH
//! names bindings/python, as scripts/test-bindings sets it).
use backprop::*;
use std::process::Command;

fn small(seed: u64) -> Network {
    Network::new(&[3, 5, 4], &[BP_TANH, BP_SOFTMAX], BP_LOSS_CROSS_ENTROPY, seed).unwrap()
}

fn status<T: std::fmt::Debug>(result: Result<T>) -> i32 {
    let error = result.expect_err("expected an error");
    assert!(!error.message.is_empty(), "an error without a message");
    error.status
}

#[test]
fn errors_carry_the_status_and_the_message() {
    let mut net = small(1);
    let (x, y) = (vec![0.5f32; 6], vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
    assert_eq!(status(Network::new(&[2, 3], &[BP_TANH, BP_TANH], BP_LOSS_MSE, 0)), BP_ERROR_SIZE_MISMATCH);
    assert_eq!(status(Network::new(&[2, 3], &[99], BP_LOSS_MSE, 0)), BP_ERROR_UNKNOWN_ENUM);
    assert_eq!(status(Network::new(&[2, 3], &[BP_TANH], BP_LOSS_CROSS_ENTROPY, 0)), BP_ERROR_INVALID_ARCHITECTURE);
    assert_eq!(status(net.predict(&[0.0; 5])), BP_ERROR_SIZE_MISMATCH);
    assert_eq!(status(net.backward(&y)), BP_ERROR_STATE);
    assert_eq!(status(net.update(0.1)), BP_ERROR_STATE);
    assert_eq!(status(net.gradients()), BP_ERROR_STATE);
    assert_eq!(status(net.set_gradients(&vec![0.0; net.parameter_count()])), BP_ERROR_STATE);
    assert_eq!(status(net.predict(&[0.0, f32::NAN, 0.0])), BP_ERROR_NON_FINITE);
    assert_eq!(status(net.train_step(&x, &y, -1.0)), BP_ERROR_INVALID_ARGUMENT);
    assert_eq!(status(net.set_option(999, 1.0)), BP_ERROR_UNKNOWN_ENUM);
    assert_eq!(status(net.set_parameters(&[0.0; 3])), BP_ERROR_SIZE_MISMATCH);
    assert_eq!(status(Network::load("/nonexistent/model.bpm")), BP_ERROR_IO);
    assert_eq!(status(Network::from_bytes(&[1, 2, 3, 4, 5, 6, 7, 8, 9])), BP_ERROR_NOT_A_MODEL);
    assert_eq!(status(Network::from_onnx(&[0x0F, 1, 2], BP_ONNX_LOSS_AUTO)), BP_ERROR_CORRUPT_MODEL);
    assert_eq!(status(Network::load("bad\0path")), BP_ERROR_INVALID_ARGUMENT);
    assert!(check_cpu().is_ok() && abi_matches() && version() == BP_VERSION_STRING);
}

#[test]
fn gradients_match_finite_differences() {
    let mut net = small(5);
    let x = [0.3f32, -1.2, 0.8, 1.5, 0.1, -0.4];
    let y = [0.0f32, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0];
    net.forward(&x, false).unwrap();
    net.backward(&y).unwrap();
    let (analytic, theta) = (net.gradients().unwrap(), net.parameters());
    let doubled: Vec<f32> = analytic.iter().map(|g| g * 2.0).collect();
    net.set_gradients(&doubled).unwrap(); // a data-parallel loop's reduction: read, combine, set
    assert_eq!(net.gradients().unwrap(), doubled);
    let mut worst = 0.0f64;
    for i in 0..theta.len() {
        let eps = 1e-2f32;
        let mut moved = theta.clone();
        moved[i] = theta[i] + eps;
        net.set_parameters(&moved).unwrap();
        let up = net.evaluate(&x, &y).unwrap().0 as f64;
        moved[i] = theta[i] - eps;
        net.set_parameters(&moved).unwrap();
        let down = net.evaluate(&x, &y).unwrap().0 as f64;
        let numeric = (up - down) / (2.0 * eps as f64);
        worst = worst.max((numeric - analytic[i] as f64).abs() / numeric.abs().max(1e-2));
    }
    assert!(worst < 2e-2, "worst relative error {}", worst);
}

fn blobs(count: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let (mut x, mut y, mut state) = (Vec::new(), Vec::new(), seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut uniform = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f32 / (1u64 << 53) as f32
    };
    for i in 0..count {
        let label = i % 3;
        let angle = 2.1 * label as f32;
        x.push(angle.cos() * 2.0 + (uniform() - 0.5) * 1.6);
        x.push(angle.sin() * 2.0 + (uniform() - 0.5) * 1.6);
        y.extend((0..3).map(|k| if k == label { 1.0 } else { 0.0 }));
    }
    (x, y)
}

#[test]
fn fit_reaches_95_percent_and_a_closure_can_stop_it() {
    let mut net = Network::new(&[2, 16, 3], &[BP_RELU, BP_SOFTMAX], BP_LOSS_CROSS_ENTROPY, 7).unwrap();
    net.set_option(BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM as f64).unwrap();
    let ((x, y), (tx, ty)) = (blobs(600, 1), blobs(300, 2));
    let options = FitOptions { epochs: 40, learning_rate: 0.01, ..FitOptions::default() };
    let mut calls = 0;
    let history = net.fit(&x, &y, &options, |report| {
        calls += 1;
        report.epoch < 25
    }).unwrap();
    assert_eq!((calls, history.len(), history[24].epoch), (25, 25, 25));
    let accuracy = net.evaluate(&tx, &ty).unwrap().1;
    assert!(accuracy >= 0.95, "held-out accuracy {}", accuracy);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = net.fit(&x, &y, &options, |_| panic!("from the closure"));
    }));
    let message = panicked.expect_err("the panic comes back").downcast::<&str>().map(|m| *m).unwrap_or("");
    assert_eq!(message, "from the closure");
}

#[test]
fn predict_from_two_threads_gives_the_same_bits() {
    let net = small(9);
    let x: Vec<f32> = (0..3 * 64).map(|i| (i as f32).sin()).collect();
    let expected = net.predict(&x).unwrap();
    std::thread::scope(|scope| {
        let a = scope.spawn(|| (0..50).map(|_| net.predict(&x).unwrap()).last().unwrap());
        let b = scope.spawn(|| (0..50).map(|_| net.predict(&x).unwrap()).last().unwrap());
        assert_eq!(a.join().unwrap(), expected);
        assert_eq!(b.join().unwrap(), expected);
    });
}

#[test]
fn models_round_trip_through_bytes_onnx_and_files() {
    let net = small(11);
    let x = [0.1f32, 0.2, 0.3, -1.0, 0.0, 1.0];
    let expected = net.predict(&x).unwrap();
    assert_eq!(Network::from_bytes(&net.to_bytes().unwrap()).unwrap().predict(&x).unwrap(), expected);
    assert_eq!(Network::from_onnx(&net.to_onnx().unwrap(), BP_ONNX_LOSS_AUTO).unwrap().predict(&x).unwrap(), expected);
    let file = std::env::temp_dir().join(format!("backprop-rust-{}.bpm", std::process::id()));
    net.save(file.to_str().unwrap()).unwrap();
    assert_eq!(Network::load(file.to_str().unwrap()).unwrap().predict(&x).unwrap(), expected);
    std::fs::remove_file(file).unwrap();
}

const EXCHANGE: &str = "
import sys, numpy as np, backprop
net = backprop.Network.load(sys.argv[1])
x = np.float32([[0.5, -1.0, 2.0], [0.0, 0.25, -0.75]])
print(' '.join(repr(float(v)) for v in net.predict(x).ravel()))
theirs = backprop.Network([3, 6, 2], ['gelu', 'softmax'], loss='cross_entropy', seed=4)
theirs.save(sys.argv[2])
print(' '.join(repr(float(v)) for v in theirs.predict(x).ravel()))
";

#[test]
fn a_model_file_crosses_to_python_and_back() {
    let pythonpath = match std::env::var("BACKPROP_PYTHONPATH") {
        Ok(value) => value,
        Err(_) => return eprintln!("BACKPROP_PYTHONPATH unset: the Python exchange is left to scripts/test-bindings"),
    };
    let dir = std::env::temp_dir();
    let (ours, theirs) = (dir.join("backprop-rust-out.bpm"), dir.join("backprop-python-out.bpm"));
    let net = small(21);
    net.save(ours.to_str().unwrap()).unwrap();
    let x = [0.5f32, -1.0, 2.0, 0.0, 0.25, -0.75];
    let output = Command::new("python3").args(["-c", EXCHANGE, ours.to_str().unwrap(), theirs.to_str().unwrap()])
        .env("PYTHONPATH", pythonpath).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Vec<f32>> = text.lines().map(|line| line.split_whitespace().map(|v| v.parse::<f64>().unwrap() as f32).collect()).collect();
    assert_eq!(lines[0], net.predict(&x).unwrap(), "Python's outputs of the Rust model");
    let from_python = Network::load(theirs.to_str().unwrap()).unwrap();
    assert_eq!(from_python.predict(&x).unwrap(), lines[1], "Rust's outputs of the Python model");
}

#[test]
fn scalings_dropout_and_c_source_reach_the_library() {
    let mut net = Network::new(&[3, 6, 4, 2], &[BP_RELU, BP_TANH, BP_LINEAR], BP_LOSS_MSE, 3).unwrap();
    net.set_input_scaling(&[1.0, 2.0, 3.0], &[0.5, 0.5, 2.0]).unwrap();
    assert_eq!(net.input_scaling().unwrap(), (vec![1.0, 2.0, 3.0], vec![0.5, 0.5, 2.0]));
    net.set_target_scaling(&[10.0, -1.0], &[0.25, 4.0]).unwrap();
    assert_eq!(net.target_scaling().unwrap().0, vec![10.0, -1.0]);
    assert_eq!(status(net.set_input_scaling(&[1.0], &[1.0, 2.0])), BP_ERROR_SIZE_MISMATCH);
    net.set_dropout(&[0.5, 0.25], 7).unwrap();
    assert_eq!(net.dropout().unwrap(), vec![0.5, 0.25]);
    let file = std::env::temp_dir().join(format!("backprop_rust_{}.c", std::process::id()));
    net.export_c_source(file.to_str().unwrap(), "rusty", BP_C_SOURCE_INT8).unwrap();
    let header = std::fs::read_to_string(file.with_extension("h")).unwrap();
    assert!(header.contains("void rusty_predict(const float *input, float *output);"));
    std::fs::remove_file(&file).unwrap();
    std::fs::remove_file(file.with_extension("h")).unwrap();
    assert_eq!(status(net.export_c_source("/tmp/x.rs", "rusty", 0)), BP_ERROR_INVALID_ARGUMENT);
}
