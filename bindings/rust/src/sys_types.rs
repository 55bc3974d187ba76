//! The structs of include/backprop.h, laid out as C lays them out (`#[repr(C)]`).
#![allow(non_camel_case_types)]

use std::os::raw::{c_int, c_void};

/// The opaque network handle.
#[repr(C)]
pub struct bp_network {
    _private: [u8; 0],
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct bp_epoch_report {
    pub epoch: usize,
    pub train_loss: f32,
    pub validation_loss: f32,
    pub validation_accuracy: f32,
    pub learning_rate: f32,
}

pub type bp_progress_callback = Option<unsafe extern "C" fn(report: *const bp_epoch_report, user_data: *mut c_void) -> c_int>;

#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct bp_fit_options {
    pub struct_size: usize,
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f32,
    pub shuffle: i32,
    pub seed: u64,
    pub validation_inputs: *const f32,
    pub validation_targets: *const f32,
    pub validation_count: usize,
    pub patience: usize,
    pub min_delta: f32,
    pub restore_best: i32,
    pub target_loss: f32,
    pub progress: bp_progress_callback,
    pub user_data: *mut c_void,
    pub sample_weights: *const f32,
    pub validation_weights: *const f32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct bp_metrics {
    pub struct_size: usize,
    pub loss: f32,
    pub accuracy: f32,
    pub mean_absolute_error: f32,
    pub root_mean_squared_error: f32,
    pub r2: f32,
}
