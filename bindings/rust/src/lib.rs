//! Rust binding of libbackprop: train and run multilayer perceptrons by backpropagation.
//!
//! [`Network`] owns a `bp_network` and releases it on drop. Its borrows are the C header's
//! thread-safety contract: [`Network::predict`] and [`Network::evaluate`] take `&self`
//! (they only read the network, and may run on many threads at once), everything that
//! changes it takes `&mut self`. Every failure is an [`Error`] with the C status and
//! `bp_last_error()`'s text. Slices go in and out without copies.
//!
//! ```
//! use backprop::{Network, FitOptions, BP_TANH, BP_SIGMOID, BP_LOSS_MSE};
//!
//! let mut net = Network::new(&[2, 4, 1], &[BP_TANH, BP_SIGMOID], BP_LOSS_MSE, 42)?;
//! let x = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
//! let y = [0.0, 1.0, 1.0, 0.0];
//! let options = FitOptions { epochs: 2000, batch_size: 4, learning_rate: 0.5, ..FitOptions::default() };
//! let history = net.fit(&x, &y, &options, |report| report.train_loss > 0.001)?; // false stops
//! let out = net.predict(&x)?;
//! assert!(out[1] > 0.5 && out[0] < 0.5, "{:?} after {} epochs", out, history.len());
//! # Ok::<(), backprop::Error>(())
//! ```

mod error;
mod sys;
mod sys_types;

use std::fmt;
use std::os::raw::{c_int, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

pub use error::{Error, Result};
use error::{check, expect_len, mismatch, path, text};
pub use sys::*;

/// The library's version string (`bp_version()`).
pub fn version() -> String {
    text(unsafe { bp_version() })
}

/// Whether this CPU runs the library (`bp_check_cpu()`), and its kernels (`bp_kernels()`).
pub fn check_cpu() -> Result<()> {
    check(unsafe { bp_check_cpu() })
}

pub fn kernels() -> String {
    text(unsafe { bp_kernels() })
}

/// Whether the loaded library has the ABI these declarations were generated from.
pub fn abi_matches() -> bool {
    unsafe { bp_abi_version() == BP_ABI_VERSION }
}

/// `bp_fit()`'s options, with the header's defaults.
#[derive(Clone, Debug)]
pub struct FitOptions {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    pub shuffle: bool,
    pub seed: u64,
    pub patience: usize,
    pub min_delta: f32,
    pub restore_best: bool,
    pub target_loss: f32,
}

impl Default for FitOptions {
    fn default() -> Self {
        let c = default_options();
        FitOptions {
            epochs: c.epochs,
            batch_size: c.batch_size,
            learning_rate: c.learning_rate,
            shuffle: c.shuffle != 0,
            seed: c.seed,
            patience: c.patience,
            min_delta: c.min_delta,
            restore_best: c.restore_best != 0,
            target_loss: c.target_loss,
        }
    }
}

fn default_options() -> bp_fit_options {
    let mut c = std::mem::MaybeUninit::<bp_fit_options>::zeroed();
    // SAFETY: the library fills exactly the struct of the size given.
    unsafe {
        bp_fit_options_init_sized(c.as_mut_ptr(), std::mem::size_of::<bp_fit_options>());
        c.assume_init()
    }
}

/// A multilayer perceptron of the library.
pub struct Network {
    raw: *mut bp_network,
}

// SAFETY: a network may move between threads (the library keeps no thread affinity), and
// `&Network` only reaches bp_predict, bp_evaluate and the size readers, which the header
// allows on many threads at once while nothing changes the network; `&mut` calls are
// exclusive by the borrow rules.
unsafe impl Send for Network {}
unsafe impl Sync for Network {}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sizes: Vec<usize> = (0..self.layer_count()).map(|l| self.layer_size(l)).collect();
        write!(f, "Network({:?}, {} parameters)", sizes, self.parameter_count())
    }
}

impl Drop for Network {
    fn drop(&mut self) {
        unsafe { bp_destroy(self.raw) }
    }
}

struct Progress<F> {
    callback: F,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

/// The C callback of `fit`: a panic in the closure is caught here, stops training and is
/// resumed after bp_fit returns, so it never unwinds into C.
unsafe extern "C" fn progress_trampoline<F: FnMut(&bp_epoch_report) -> bool>(report: *const bp_epoch_report, user: *mut c_void) -> c_int {
    let progress = &mut *(user as *mut Progress<F>);
    match catch_unwind(AssertUnwindSafe(|| (progress.callback)(&*report))) {
        Ok(keep_going) => keep_going as c_int,
        Err(panic) => {
            progress.panic = Some(panic);
            0
        }
    }
}

impl Network {
    fn adopt(create: impl FnOnce(*mut *mut bp_network) -> i32) -> Result<Network> {
        let mut raw = ptr::null_mut();
        check(create(&mut raw))?;
        Ok(Network { raw })
    }

    /// `bp_create()`: layer sizes (input first), one BP_* activation per layer after it, a BP_LOSS_* loss.
    pub fn new(layers: &[usize], activations: &[i32], loss: i32, seed: u64) -> Result<Network> {
        if activations.len() + 1 != layers.len() {
            return Err(Error {
                status: BP_ERROR_SIZE_MISMATCH,
                message: format!("{} activations for {} layers; expected one per layer after the input", activations.len(), layers.len()),
            });
        }
        Network::adopt(|out| unsafe { bp_create(layers.as_ptr(), layers.len(), activations.as_ptr(), loss, seed, out) })
    }

    pub fn load(file: &str) -> Result<Network> {
        let file = path(file)?;
        Network::adopt(|out| unsafe { bp_load(file.as_ptr(), out) })
    }

    pub fn from_bytes(model: &[u8]) -> Result<Network> {
        Network::adopt(|out| unsafe { bp_load_from_buffer(model.as_ptr() as *const c_void, model.len(), out) })
    }

    /// `bp_import_onnx_from_buffer()`; `loss` a BP_LOSS_* or BP_ONNX_LOSS_AUTO.
    pub fn from_onnx(model: &[u8], loss: i32) -> Result<Network> {
        Network::adopt(|out| unsafe { bp_import_onnx_from_buffer(model.as_ptr() as *const c_void, model.len(), loss, out) })
    }

    pub fn import_onnx(file: &str, loss: i32) -> Result<Network> {
        let file = path(file)?;
        Network::adopt(|out| unsafe { bp_import_onnx(file.as_ptr(), loss, out) })
    }

    pub fn input_size(&self) -> usize { unsafe { bp_input_size(self.raw) } }
    pub fn output_size(&self) -> usize { unsafe { bp_output_size(self.raw) } }
    pub fn parameter_count(&self) -> usize { unsafe { bp_parameter_count(self.raw) } }
    pub fn layer_count(&self) -> usize { unsafe { bp_layer_count(self.raw) } }
    pub fn layer_size(&self, index: usize) -> usize { unsafe { bp_layer_size(self.raw, index) } }
    pub fn activation(&self, layer: usize) -> i32 { unsafe { bp_layer_activation(self.raw, layer) } }
    pub fn loss(&self) -> i32 { unsafe { bp_loss_function(self.raw) } }
    pub fn thread_count(&self) -> usize { unsafe { bp_thread_count(self.raw) } }

    /// The rows of a slice of `width`-wide rows: whole rows, at least one.
    fn rows(values: &[f32], width: usize, what: &str) -> Result<usize> {
        if width == 0 || values.is_empty() || values.len() % width != 0 {
            return Err(mismatch(what, values.len(), &format!("a positive multiple of {}", width)));
        }
        Ok(values.len() / width)
    }

    fn rows_of_both(&self, inputs: &[f32], targets: &[f32]) -> Result<usize> {
        let count = Network::rows(inputs, self.input_size(), "inputs")?;
        if targets.len() != count * self.output_size() {
            return Err(mismatch("targets", targets.len(), &(count * self.output_size()).to_string()));
        }
        Ok(count)
    }

    /// `bp_predict()` into `outputs` (batch × output size).
    pub fn predict_into(&self, inputs: &[f32], outputs: &mut [f32]) -> Result<()> {
        let batch = Network::rows(inputs, self.input_size(), "inputs")?;
        if outputs.len() != batch * self.output_size() {
            return Err(mismatch("outputs", outputs.len(), &(batch * self.output_size()).to_string()));
        }
        check(unsafe { bp_predict(self.raw, inputs.as_ptr(), batch, outputs.as_mut_ptr()) })
    }

    pub fn predict(&self, inputs: &[f32]) -> Result<Vec<f32>> {
        let mut outputs = vec![0.0; inputs.len() / self.input_size().max(1) * self.output_size()];
        self.predict_into(inputs, &mut outputs)?;
        Ok(outputs)
    }

    /// `bp_evaluate()`: (mean loss, accuracy; NaN accuracy for a regressor).
    pub fn evaluate(&self, inputs: &[f32], targets: &[f32]) -> Result<(f32, f32)> {
        let count = self.rows_of_both(inputs, targets)?;
        let (mut loss, mut accuracy) = (0.0, 0.0);
        check(unsafe { bp_evaluate(self.raw, inputs.as_ptr(), targets.as_ptr(), count, &mut loss, &mut accuracy) })?;
        Ok((loss, accuracy))
    }

    /// `bp_forward()` (or `bp_forward_train()`), keeping the activations for `backward`.
    pub fn forward(&mut self, inputs: &[f32], training: bool) -> Result<Vec<f32>> {
        let batch = Network::rows(inputs, self.input_size(), "inputs")?;
        let mut outputs = vec![0.0; batch * self.output_size()];
        let call = if training { bp_forward_train } else { bp_forward };
        check(unsafe { call(self.raw, inputs.as_ptr(), batch, outputs.as_mut_ptr()) })?;
        Ok(outputs)
    }

    /// `bp_backward()`: δ and the gradients of the last forward batch; returns its loss.
    pub fn backward(&mut self, targets: &[f32]) -> Result<f32> {
        let batch = Network::rows(targets, self.output_size(), "targets")?;
        let mut loss = 0.0;
        check(unsafe { bp_backward(self.raw, targets.as_ptr(), batch, &mut loss) })?;
        Ok(loss)
    }

    pub fn update(&mut self, learning_rate: f32) -> Result<()> {
        check(unsafe { bp_update(self.raw, learning_rate) })
    }

    pub fn train_step(&mut self, inputs: &[f32], targets: &[f32], learning_rate: f32) -> Result<f32> {
        let batch = self.rows_of_both(inputs, targets)?;
        let mut loss = 0.0;
        check(unsafe { bp_train_step(self.raw, inputs.as_ptr(), targets.as_ptr(), batch, learning_rate, &mut loss) })?;
        Ok(loss)
    }

    /// `bp_fit()` with a closure called after every epoch: false stops training. A panic in
    /// it stops training and resumes once bp_fit has returned. Returns the epochs' reports.
    pub fn fit<F: FnMut(&bp_epoch_report) -> bool>(&mut self, inputs: &[f32], targets: &[f32], options: &FitOptions, callback: F) -> Result<Vec<bp_epoch_report>> {
        let count = self.rows_of_both(inputs, targets)?;
        let mut progress = Progress { callback, panic: None };
        let mut c = default_options();
        c.epochs = options.epochs;
        c.batch_size = options.batch_size;
        c.learning_rate = options.learning_rate;
        c.shuffle = options.shuffle as i32;
        c.seed = options.seed;
        c.patience = options.patience;
        c.min_delta = options.min_delta;
        c.restore_best = options.restore_best as i32;
        c.target_loss = options.target_loss;
        c.progress = Some(progress_trampoline::<F>);
        c.user_data = &mut progress as *mut Progress<F> as *mut c_void;
        let mut history = vec![bp_epoch_report::default(); options.epochs];
        let mut epochs = 0;
        let status = unsafe { bp_fit(self.raw, inputs.as_ptr(), targets.as_ptr(), count, &c, history.as_mut_ptr(), history.len(), &mut epochs) };
        if let Some(panic) = progress.panic.take() {
            std::panic::resume_unwind(panic);
        }
        check(status)?;
        history.truncate(epochs);
        Ok(history)
    }

    pub fn set_option(&mut self, key: i32, value: f64) -> Result<()> {
        check(unsafe { bp_set_option(self.raw, key, value) })
    }

    pub fn option(&self, key: i32) -> Result<f64> {
        let mut value = 0.0;
        check(unsafe { bp_get_option(self.raw, key, &mut value) })?;
        Ok(value)
    }

    pub fn set_threads(&mut self, threads: usize) -> Result<()> {
        check(unsafe { bp_set_threads(self.raw, threads) })
    }

    /// θ in the flat layout (for l = 1…L: W^l row-major, then b^l).
    pub fn parameters(&self) -> Vec<f32> {
        let mut out = vec![0.0; self.parameter_count()];
        // The count is the network's own, so this cannot fail.
        let _ = check(unsafe { bp_get_parameters(self.raw, out.as_mut_ptr(), out.len()) });
        out
    }

    pub fn set_parameters(&mut self, values: &[f32]) -> Result<()> {
        check(unsafe { bp_set_parameters(self.raw, values.as_ptr(), values.len()) })
    }

    /// ∂C/∂θ of the last backward pass, in the parameters' layout.
    pub fn gradients(&self) -> Result<Vec<f32>> {
        let mut out = vec![0.0; self.parameter_count()];
        check(unsafe { bp_get_gradients(self.raw, out.as_mut_ptr(), out.len()) })?;
        Ok(out)
    }

    /// Replaces the last backward pass's pending gradients (a data-parallel reduction).
    pub fn set_gradients(&mut self, values: &[f32]) -> Result<()> {
        check(unsafe { bp_set_gradients(self.raw, values.as_ptr(), values.len()) })
    }

    pub fn save(&self, file: &str) -> Result<()> {
        let file = path(file)?;
        check(unsafe { bp_save(self.raw, file.as_ptr()) })
    }

    fn written(&self, write: unsafe extern "C" fn(*const bp_network, *mut c_void, usize, *mut usize) -> i32) -> Result<Vec<u8>> {
        let mut size = 0;
        check(unsafe { write(self.raw, ptr::null_mut(), 0, &mut size) })?;
        let mut bytes = vec![0u8; size];
        check(unsafe { write(self.raw, bytes.as_mut_ptr() as *mut c_void, bytes.len(), &mut size) })?;
        Ok(bytes)
    }

    pub fn backward_weighted(&mut self, targets: &[f32], weights: &[f32]) -> Result<f32> {
        let batch = Network::rows(targets, self.output_size(), "targets")?;
        expect_len("weights", weights.len(), batch)?;
        let mut loss = 0.0;
        check(unsafe { bp_backward_weighted(self.raw, targets.as_ptr(), weights.as_ptr(), batch, &mut loss) })?;
        Ok(loss)
    }

    pub fn train_step_weighted(&mut self, inputs: &[f32], targets: &[f32], weights: &[f32], learning_rate: f32) -> Result<f32> {
        let batch = self.rows_of_both(inputs, targets)?;
        expect_len("weights", weights.len(), batch)?;
        let mut loss = 0.0;
        check(unsafe { bp_train_step_weighted(self.raw, inputs.as_ptr(), targets.as_ptr(), weights.as_ptr(), batch, learning_rate, &mut loss) })?;
        Ok(loss)
    }

    pub fn evaluate_weighted(&self, inputs: &[f32], targets: &[f32], weights: &[f32]) -> Result<(f32, f32)> {
        let count = self.rows_of_both(inputs, targets)?;
        expect_len("weights", weights.len(), count)?;
        let (mut loss, mut accuracy) = (0.0, 0.0);
        check(unsafe { bp_evaluate_weighted(self.raw, inputs.as_ptr(), targets.as_ptr(), weights.as_ptr(), count, &mut loss, &mut accuracy) })?;
        Ok((loss, accuracy))
    }

    /// `bp_evaluate_metrics()` without weights or a confusion matrix.
    pub fn evaluate_metrics(&self, inputs: &[f32], targets: &[f32]) -> Result<bp_metrics> {
        let count = self.rows_of_both(inputs, targets)?;
        let mut metrics = bp_metrics { struct_size: std::mem::size_of::<bp_metrics>(), ..bp_metrics::default() };
        check(unsafe { bp_evaluate_metrics(self.raw, inputs.as_ptr(), targets.as_ptr(), ptr::null(), count, &mut metrics, ptr::null_mut(), 0) })?;
        Ok(metrics)
    }

    pub fn scheduled_learning_rate(&self, base_rate: f32) -> Result<f32> {
        let mut rate = 0.0;
        check(unsafe { bp_scheduled_learning_rate(self.raw, base_rate, &mut rate) })?;
        Ok(rate)
    }

    pub fn end_epoch(&mut self, samples: usize, monitored_loss: f32) -> Result<()> {
        check(unsafe { bp_end_epoch(self.raw, samples, monitored_loss) })
    }

    /// `bp_set_dropout()`: one rate per hidden layer.
    pub fn set_dropout(&mut self, rates: &[f32], seed: u64) -> Result<()> {
        check(unsafe { bp_set_dropout(self.raw, rates.as_ptr(), rates.len(), seed) })
    }

    pub fn dropout(&self) -> Result<Vec<f32>> {
        let mut rates = vec![0.0; self.layer_count().saturating_sub(2)];
        check(unsafe { bp_get_dropout(self.raw, rates.as_mut_ptr(), rates.len()) })?;
        Ok(rates)
    }

    pub fn initialize(&mut self, scheme: i32, seed: u64) -> Result<()> {
        check(unsafe { bp_initialize(self.raw, scheme, seed) })
    }

    /// `bp_set_input_scaling()`: every input reaches layer 1 as (x − shift) · scale.
    pub fn set_input_scaling(&mut self, shift: &[f32], scale: &[f32]) -> Result<()> {
        expect_len("scale", scale.len(), shift.len())?;
        check(unsafe { bp_set_input_scaling(self.raw, shift.as_ptr(), scale.as_ptr(), shift.len()) })
    }

    /// (shift, scale) of the input scaling ((0, 1) without one).
    pub fn input_scaling(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        let (mut shift, mut scale) = (vec![0.0; self.input_size()], vec![0.0; self.input_size()]);
        check(unsafe { bp_get_input_scaling(self.raw, shift.as_mut_ptr(), scale.as_mut_ptr(), shift.len()) })?;
        Ok((shift, scale))
    }

    pub fn standardize_inputs(&mut self, inputs: &[f32]) -> Result<()> {
        let count = Network::rows(inputs, self.input_size(), "inputs")?;
        check(unsafe { bp_standardize_inputs(self.raw, inputs.as_ptr(), count) })
    }

    pub fn set_target_scaling(&mut self, shift: &[f32], scale: &[f32]) -> Result<()> {
        expect_len("scale", scale.len(), shift.len())?;
        check(unsafe { bp_set_target_scaling(self.raw, shift.as_ptr(), scale.as_ptr(), shift.len()) })
    }

    pub fn target_scaling(&self) -> Result<(Vec<f32>, Vec<f32>)> {
        let (mut shift, mut scale) = (vec![0.0; self.output_size()], vec![0.0; self.output_size()]);
        check(unsafe { bp_get_target_scaling(self.raw, shift.as_mut_ptr(), scale.as_mut_ptr(), shift.len()) })?;
        Ok((shift, scale))
    }

    pub fn standardize_targets(&mut self, targets: &[f32]) -> Result<()> {
        let count = Network::rows(targets, self.output_size(), "targets")?;
        check(unsafe { bp_standardize_targets(self.raw, targets.as_ptr(), count) })
    }

    pub fn export_onnx(&self, file: &str) -> Result<()> {
        let file = path(file)?;
        check(unsafe { bp_export_onnx(self.raw, file.as_ptr()) })
    }

    /// `bp_export_c_source()`: `file` ends in ".c"; `options` BP_C_SOURCE_* flags.
    pub fn export_c_source(&self, file: &str, prefix: &str, options: u32) -> Result<()> {
        let (file, prefix) = (path(file)?, path(prefix)?);
        check(unsafe { bp_export_c_source(self.raw, file.as_ptr(), prefix.as_ptr(), options) })
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>> { self.written(bp_save_to_buffer) }
    pub fn to_onnx(&self) -> Result<Vec<u8>> { self.written(bp_export_onnx_to_buffer) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_whole_and_at_least_one() {
        assert_eq!(Network::rows(&[0.0; 6], 3, "x").unwrap(), 2);
        assert_eq!(Network::rows(&[0.0; 5], 3, "x").unwrap_err().status, BP_ERROR_SIZE_MISMATCH);
        assert_eq!(Network::rows(&[], 3, "x").unwrap_err().status, BP_ERROR_SIZE_MISMATCH);
    }

    #[test]
    fn the_default_options_are_the_headers() {
        let options = FitOptions::default();
        assert_eq!((options.epochs, options.batch_size, options.shuffle, options.restore_best), (10, 32, true, true));
        assert!((options.learning_rate - 0.01).abs() < 1e-7);
    }
}
