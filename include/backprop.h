/*
 * backprop.h — the one public header of libbackprop.
 *
 * An embeddable engine that trains multilayer perceptrons with the backpropagation
 * algorithm, in the notation of the seed documents:
 *
 *   z^l = W^l a^(l-1) + b^l,  a^l = σ_l(z^l)                       bp_forward
 *   δ^L = C'(a^L) ⊙ σ'(z^L)                                        bp_backward
 *   δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l)                          bp_backward
 *   ∂C/∂b^l = (1/m) Σ_x δ^l_x,  ∂C/∂W^l = (1/m) Σ_x δ^l_x (a^(l-1)_x)^T   bp_backward
 *   W ← W − η ∂C/∂W,  b ← b − η ∂C/∂b                              bp_update
 *
 * Conventions used by every function below:
 *  - All numbers are float32. Matrices are row-major with one sample per row
 *    (batch x width), which is numpy's C order.
 *  - Every function that can fail returns a bp_status: BP_OK (0) on success, or one of the
 *    BP_ERROR_* values. On failure nothing observable has changed, and bp_last_error()
 *    returns a message naming the offending argument and the value that was expected.
 *  - The library never prints, aborts or exits, and never keeps a pointer passed to it
 *    after the call returns. Buffers are always owned by the caller, except the handle
 *    returned by bp_create(), which the caller releases with bp_destroy().
 *  - Thread-safety: different networks may be used from different threads at the same
 *    time. One network must not be used by two threads at once (guard it with a lock),
 *    except bp_predict() and bp_evaluate(), which only read it. The other functions that
 *    take a const bp_network* (bp_get_gradients(), bp_save(), ...) count as use: they may
 *    write out state the network keeps in another form. The functions without a network
 *    argument are safe from any thread.
 *  - fork(): use the library in a child only if the parent had not used it before the
 *    fork (the Swift runtime's locks do not survive fork). With Python's multiprocessing,
 *    use the "spawn" or "forkserver" start method.
 *  - Results are bit-identical for a given seed, batch size and data on one machine, and
 *    for any thread count. A sample's outputs may differ in the last bits between batch
 *    sizes, since small and large batches use different matrix kernels.
 *  - Floating-point mode: every function computes in the library's own mode, whatever
 *    the caller's: round to nearest, no exception traps, and subnormal floats (below
 *    1.18e-38 in magnitude) flushed to zero, as results and as inputs (x86-64: MXCSR FTZ
 *    and DAZ; AArch64: FPCR.FZ). So a value that would be subnormal is 0, which is what
 *    keeps a converged network from training several times slower (subnormal arithmetic
 *    runs in microcode), and results do not depend on the caller's rounding mode, traps
 *    or FTZ setting. The caller's mode, status flags included, is restored before every
 *    function returns, on failure too, and bp_fit()'s progress callback runs in it.
 *  - CPU: a packaged library (scripts/package) is built for x86-64-v3 (AVX2, FMA, BMI2,
 *    as in Intel Haswell and AMD Zen cores and later), with the AVX-512 kernels chosen at
 *    run time. On a CPU below that, loading it is safe and every function that returns a
 *    bp_status returns BP_ERROR_UNSUPPORTED_CPU, and bp_last_error() names the missing
 *    features, instead of executing an instruction the CPU lacks (see bp_check_cpu());
 *    the check and its message are C, so a refused call runs none of the library's Swift
 *    code. A build from source targets the machine it is built on and checks nothing,
 *    unless BACKPROP_TARGET_CPU names haswell or skylake-avx512.
 *  - Versions: the SONAME of a packaged library is libbackprop.so.<BP_VERSION_MAJOR>
 *    (libbackprop.so.0 while the version is 0.x). Within a SONAME the ABI only grows:
 *    functions, constants and struct fields (behind struct_size) are added, never changed
 *    or removed, and BP_ABI_VERSION stays. A change that would break a program built
 *    against an older header (a changed prototype, struct layout or constant meaning)
 *    bumps BP_ABI_VERSION and the major version, and so the SONAME, so that both
 *    libraries can be installed side by side.
 */
#ifndef BACKPROP_H
#define BACKPROP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*-************************************************************************
 *  Version
 **************************************************************************/
#define BP_VERSION_MAJOR 0
#define BP_VERSION_MINOR 1
#define BP_VERSION_PATCH 0
#define BP_VERSION_STRING "0.1.0"

/* Bumped whenever a prototype, a struct or the meaning of a constant changes
 * incompatibly. Compare BP_ABI_VERSION (what you compiled against) with
 * bp_abi_version() (what you loaded) to detect a mismatched library. */
#define BP_ABI_VERSION 1

/*! bp_abi_version() :
 *  @return the BP_ABI_VERSION the loaded library was built with. */
uint32_t bp_abi_version(void);

/*! bp_version() :
 *  @return the library's version as a static, NUL-terminated string ("0.1.0").
 *          The caller must not free it. */
const char *bp_version(void);

/*! bp_kernels() :
 *  Which matrix kernels this process uses, chosen once for the whole process:
 *  "avx512" (an 8 x 32 register tile in AVX-512 registers, on an x86-64 CPU and OS with
 *  AVX-512 F, CD, BW, DQ and VL) or "portable" (a 6 x 16 tile built for the CPU the
 *  library was built for; see the README's portable build). The environment variable
 *  BACKPROP_KERNELS=portable, set before the process creates or loads its first network
 *  or first calls this function, forces the portable kernels; any other value is
 *  ignored, and later changes have no effect. The
 *  choice never changes a result: both tiles compute every element with the same
 *  multiply-adds in the same order.
 *  Independently of the tile, the products of bp_forward, bp_backward and the training
 *  calls (not bp_predict or bp_evaluate) that multiply by the output a^l or the error
 *  δ^l of a ReLU layer skip that operand's zeros (units that are off) when at most 40% of
 *  its first 16K values are nonzero. They leave out only terms that add zero, so results
 *  are bit-identical, except that a zero can differ in sign when a product underflows,
 *  and a hidden activation that overflowed to infinity makes NaN only in the dense
 *  product (such a step diverges anyway). BACKPROP_SPARSE=off in the environment,
 *  read the first time a network could skip zeros, turns this off, to compare.
 *  Thread-safe.
 *  @return a static, NUL-terminated string. The caller must not free it. */
const char *bp_kernels(void);

/*-************************************************************************
 *  Errors
 **************************************************************************/
typedef int32_t bp_status;

#define BP_OK                          0
#define BP_ERROR_NULL_ARGUMENT         1  /* a required pointer argument is NULL */
#define BP_ERROR_INVALID_ARGUMENT      2  /* a value is out of its documented range (0 sizes, negative rates...) */
#define BP_ERROR_UNKNOWN_ENUM          3  /* an activation, loss, optimizer or option key that is not a BP_* constant */
#define BP_ERROR_INVALID_ARCHITECTURE  4  /* softmax on a hidden layer, cross-entropy without sigmoid/softmax output */
#define BP_ERROR_SIZE_MISMATCH         5  /* a count does not match the network (e.g. bp_parameter_count()) */
#define BP_ERROR_SIZE_OVERFLOW         6  /* sizes whose product does not fit in size_t, or beyond the documented limits */
#define BP_ERROR_NON_FINITE            7  /* a NaN or infinity where a finite number is required */
#define BP_ERROR_STATE                 8  /* the call is not valid now (bp_backward before bp_forward...) */
#define BP_ERROR_OUT_OF_MEMORY         9  /* memory could not be allocated, or exceeds the machine's memory */
#define BP_ERROR_DIVERGED             10  /* the loss or a gradient is NaN/infinite; parameters left unchanged */
#define BP_ERROR_BUFFER_TOO_SMALL     11  /* bp_save_to_buffer(): capacity is below the model's size */
#define BP_ERROR_IO                   12  /* the operating system refused a file operation (see bp_last_error()) */
#define BP_ERROR_NOT_A_MODEL          13  /* the data does not start with the model magic */
#define BP_ERROR_UNSUPPORTED_VERSION  14  /* a model format version this library cannot read */
#define BP_ERROR_TRUNCATED            15  /* the model ends before its declared contents */
#define BP_ERROR_CHECKSUM_MISMATCH    16  /* the model's CRC-32 does not match: the bytes were damaged */
#define BP_ERROR_CORRUPT_MODEL        17  /* the checksum is valid but a field is impossible */
#define BP_ERROR_UNSUPPORTED_MODEL    18  /* a valid ONNX model that is not a network this library has */
#define BP_ERROR_UNSUPPORTED_CPU      19  /* this CPU lacks instructions this build needs (see bp_check_cpu()) */
#define BP_ERROR_PEER_FAILED          20  /* another process of a distributed bp_fit() could not start training,
                                             or (from a hook) the communication with the others failed */

/*! bp_status_string() :
 *  @return a static, NUL-terminated description of any status value, including values
 *          this version does not know ("unknown status"). Never NULL; do not free. */
const char *bp_status_string(bp_status status);

/*! bp_last_error() :
 *  @return the detailed message of the most recent failed call made by the calling
 *          thread ("layer 2 has 0 units; every layer needs at least one unit"), or ""
 *          if no call on this thread has failed. Successful calls do not clear it.
 *          The string is owned by the library and stays valid until the next failing
 *          call on the same thread; copy it to keep it. Thread-local: safe to call from
 *          any thread. */
const char *bp_last_error(void);

/*! bp_check_cpu() :
 *  Whether this CPU (and its OS) can run this build of the library: BP_OK, or
 *  BP_ERROR_UNSUPPORTED_CPU with bp_last_error() naming the missing features ("this CPU
 *  lacks AVX, AVX2, FMA, ..."). Every function that returns a bp_status makes the same
 *  check first; bp_kernels() then returns "none" and bp_fit_options_init() writes
 *  nothing. Thread-safe; the answer never changes within a process. */
bp_status bp_check_cpu(void);

/*-************************************************************************
 *  Network lifecycle
 **************************************************************************/
typedef struct bp_network bp_network;   /* opaque handle */

/* Activation functions σ_l, one per layer after the input (int32_t values). */
#define BP_SIGMOID     0  /* 1 / (1 + e^-z) */
#define BP_TANH        1  /* tanh(z) */
#define BP_RELU        2  /* max(0, z) */
#define BP_LEAKY_RELU  3  /* z if z > 0, else 0.01 z */
#define BP_LINEAR      4  /* z */
#define BP_SOFTMAX     5  /* e^z_j / Σ_k e^z_k; output layer only */
#define BP_GELU        6  /* z Φ(z) = ½ z (1 + erf(z / √2)), the exact (erf) form, PyTorch's default */
#define BP_SILU        7  /* z / (1 + e^-z), also called swish */
#define BP_SOFTPLUS    8  /* ln(1 + e^z), a smooth ReLU; σ'(z) = 1 / (1 + e^-z) */
#define BP_ELU         9  /* z if z > 0, else e^z − 1 (α = 1); σ' = 1, else a + 1 */

/* Loss functions C (int32_t values). Reported losses are means over the batch. */
#define BP_LOSS_MSE            0  /* C = ½ ‖a^L − y‖², so C'(a^L) = a^L − y; with a softmax output,
                                     σ'(z^L) is softmax's Jacobian and δ^L = J^T (a^L − y) */
#define BP_LOSS_CROSS_ENTROPY  1  /* softmax output: C = −Σ_j y_j ln a_j;
                                     sigmoid output: C = −Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)].
                                     Both give δ^L = a^L − y, computed in that fused, stable form
                                     (for softmax this is the gradient when each target row sums to 1,
                                     as one-hot rows do). */
#define BP_LOSS_HUBER          2  /* C = Σ_j h(a_j − y_j), h(r) = ½ r² for |r| ≤ δ, δ (|r| − ½ δ) beyond
                                     (δ: BP_OPTION_HUBER_DELTA, default 1): C'(a^L) = clamp(a^L − y, ±δ) */
#define BP_LOSS_L1             3  /* C = Σ_j |a_j − y_j|: C'(a^L) = sign(a^L − y), 0 where equal */

/* Limits checked by bp_create(). */
#define BP_MAX_LAYER_COUNT  1024         /* layers, including the input layer */
#define BP_MAX_LAYER_SIZE   (1u << 24)   /* units in one layer */

/*! bp_create() :
 *  Creates a network with `layer_count` layers, the input layer included:
 *  layer_sizes[0] inputs, layer_sizes[layer_count-1] outputs. activations holds
 *  layer_count-1 entries, the σ of layers 1..L. Softmax may only be the output's.
 *  BP_LOSS_CROSS_ENTROPY requires a BP_SOFTMAX or BP_SIGMOID output layer.
 *  Parameters are drawn from `seed` by BP_INIT_HE_GLOROT_UNIFORM, as in every version:
 *  biases 0, weights uniform in [-r, r] with r = sqrt(6 / (n_(l-1) + n_l)) (Glorot) for
 *  sigmoid, tanh, linear and softmax layers and r = sqrt(6 / n_(l-1)) (He) for ReLU,
 *  leaky ReLU, GELU, SiLU, softplus and ELU layers. The same seed gives bit-identical parameters on
 *  every platform. bp_initialize() draws them by another scheme, such as
 *  BP_INIT_RECOMMENDED.
 *  Layers whose σ' is computed from z^l rather than a^l (GELU, SiLU, softplus) keep z^l as well,
 *  one more float per unit and sample of a batch; the others keep a^l only.
 *  @param out  receives the new handle on success, NULL on failure. Release it with
 *              bp_destroy(). layer_sizes and activations are read during the call only.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT (a pointer is NULL); BP_ERROR_INVALID_ARGUMENT
 *          (layer_count < 2, a layer size of 0); BP_ERROR_SIZE_OVERFLOW (more than
 *          BP_MAX_LAYER_COUNT layers, a layer above BP_MAX_LAYER_SIZE, parameter count
 *          overflows); BP_ERROR_UNKNOWN_ENUM; BP_ERROR_INVALID_ARCHITECTURE;
 *          BP_ERROR_OUT_OF_MEMORY. */
bp_status bp_create(const size_t *layer_sizes, size_t layer_count,
                    const int32_t *activations, int32_t loss, uint64_t seed,
                    bp_network **out);

/*! bp_destroy() :
 *  Releases the network and all its memory. NULL is a no-op. The handle must not be used
 *  afterwards, nor be in use by another thread during the call. */
void bp_destroy(bp_network *net);

/*! bp_input_size(), bp_output_size(), bp_parameter_count(), bp_layer_count() :
 *  @return n_0, n_L, the number of floats in the flat parameter layout (see
 *          bp_get_parameters()), and the number of layers including the input layer.
 *          Each returns 0 when net is NULL. */
size_t bp_input_size(const bp_network *net);
size_t bp_output_size(const bp_network *net);
size_t bp_parameter_count(const bp_network *net);
size_t bp_layer_count(const bp_network *net);

/*! bp_layer_size() :
 *  @return n_index, the width of layer `index` (0 is the input layer), or 0 when net is
 *          NULL or index >= bp_layer_count(net). */
size_t bp_layer_size(const bp_network *net, size_t index);

/*! bp_layer_activation(), bp_loss_function() :
 *  @return the BP_* activation of layer `layer` (1 … bp_layer_count(net) − 1), and the
 *          BP_LOSS_* loss of the network; -1 when net is NULL or layer is out of range.
 *          With bp_layer_count() and bp_layer_size() they describe a loaded network. */
int32_t bp_layer_activation(const bp_network *net, size_t layer);
int32_t bp_loss_function(const bp_network *net);

/*! bp_set_threads() :
 *  Sets how many threads (the caller's included) bp_forward(), bp_backward(), bp_update(),
 *  bp_train_step() and bp_fit() on this network may use: large matrix products (and a
 *  single sample's large matrix-vector products) and the update of large networks are
 *  split across them; small ones stay on the calling thread. 0 restores the default, the
 *  number of online cores. The worker threads are created once, when a batch first needs
 *  them, and live until the count changes or bp_destroy(). Between calls they spin for
 *  about a millisecond, then sleep; a worker that is late or shares the caller's CPU
 *  leaves its share to the caller, so more threads are not slower than one by more than
 *  the hand-off. Results are bit-identical for any thread count, dropout's masks
 *  included. bp_predict() and
 *  bp_evaluate() always run on the calling thread.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_INVALID_ARGUMENT (more than 256). */
bp_status bp_set_threads(bp_network *net, size_t threads);

/*! bp_thread_count() :
 *  @return the thread count set for net (0 when net is NULL). */
size_t bp_thread_count(const bp_network *net);

/*-************************************************************************
 *  Training
 **************************************************************************/

/*! bp_forward() :
 *  Runs `batch` samples through the network: inputs is batch x bp_input_size(net)
 *  floats, row-major; outputs (may be NULL when only training) receives
 *  batch x bp_output_size(net) floats, the activations a^L.
 *  Keeps a copy of the activations for a following bp_backward() with the same batch.
 *  Pending gradients (of a bp_backward() not yet applied) are kept as they are.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT (net or inputs); BP_ERROR_INVALID_ARGUMENT
 *          (batch is 0); BP_ERROR_SIZE_OVERFLOW (batch x width overflows);
 *          BP_ERROR_NON_FINITE (an input is NaN or infinite); BP_ERROR_OUT_OF_MEMORY
 *          (a larger batch than before needs memory that is not available). */
bp_status bp_forward(bp_network *net, const float *inputs, size_t batch, float *outputs);

/*! bp_forward_train() :
 *  bp_forward() as a training pass: with dropout set (bp_set_dropout()), units of the
 *  hidden layers are dropped by the next pass's masks, and a following bp_backward()
 *  backpropagates through the same masks. bp_forward() itself never drops (it is the pass
 *  to use for inference outside bp_predict()); without dropout the two are the same.
 *  bp_train_step() and bp_fit() make training passes themselves. Each training pass
 *  advances the pass number the masks are drawn from.
 *  @return as bp_forward(), whose BP_ERROR_OUT_OF_MEMORY also covers the masks a first
 *          training pass of a batch size allocates (two floats per dropped unit and sample). */
bp_status bp_forward_train(bp_network *net, const float *inputs, size_t batch, float *outputs);

/*! bp_predict() :
 *  Inference only: writes a^L for `batch` samples (inputs: batch x bp_input_size(net),
 *  outputs: batch x bp_output_size(net), both row-major) without keeping anything for
 *  bp_backward(). It reads the network and nothing else, with scratch memory of its own:
 *  on the calling thread's stack (at most 4 KiB) when the hidden layers of the batch fit
 *  there and no product needs packing (single samples of most networks), else allocated
 *  for the call.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT (net, inputs or outputs); BP_ERROR_INVALID_ARGUMENT
 *          (batch is 0); BP_ERROR_SIZE_OVERFLOW; BP_ERROR_NON_FINITE; BP_ERROR_OUT_OF_MEMORY.
 *  Thread-safety: any number of threads may call bp_predict() on the same network at the
 *  same time, as long as no thread is changing it (training, bp_set_parameters(),
 *  bp_destroy()). */
bp_status bp_predict(const bp_network *net, const float *inputs, size_t batch, float *outputs);

/*! bp_backward() :
 *  Backpropagates the targets y (batch x bp_output_size(net) floats, row-major) through
 *  the activations of the last bp_forward() on this handle, which must have had the same
 *  batch, and stores the gradients averaged over the batch (see bp_get_gradients()).
 *  Parameters are not changed; call bp_update() to apply the gradients.
 *  @param loss  if not NULL, receives the mean loss over the batch.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_INVALID_ARGUMENT (batch is 0);
 *          BP_ERROR_NON_FINITE (a target is NaN or infinite); BP_ERROR_STATE (no
 *          bp_forward() since creation or the last bp_update()/bp_set_parameters(),
 *          or its batch differs). */
bp_status bp_backward(bp_network *net, const float *targets, size_t batch, float *loss);

/*! bp_update() :
 *  Applies the gradients of the last bp_backward(): W ← W − η ∂C/∂W, b ← b − η ∂C/∂b
 *  with η = learning_rate. Each gradient is applied once: a second bp_update() needs a new
 *  bp_forward() and bp_backward(). A learning rate of 0 is allowed: with SGD it leaves the
 *  parameters as they are (momentum and Adam still advance their state; RPROP ignores η).
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_NON_FINITE (learning_rate is NaN or
 *          infinite); BP_ERROR_INVALID_ARGUMENT (learning_rate < 0); BP_ERROR_STATE (no
 *          gradients waiting to be applied); BP_ERROR_DIVERGED (the loss or a gradient of
 *          the last bp_backward() is NaN or infinite: nothing is applied and the parameters
 *          stay as they were). */
bp_status bp_update(bp_network *net, float learning_rate);

/*! bp_train_step() :
 *  One mini-batch step of stochastic gradient descent: bp_forward(), bp_backward() and
 *  bp_update() in one call. inputs is batch x bp_input_size(net) floats, targets
 *  batch x bp_output_size(net) floats; loss (may be NULL) receives the mean loss of the
 *  batch before the update. All arguments are validated before anything changes.
 *  A single sample (batch 1) on a network whose layers, inputs included, all have at
 *  most 15 units and none is softmax takes a lighter path made for such tiny networks,
 *  unless dropout is set; its results are bit-identical to the general path's (NaN
 *  payloads aside). A step is a training pass (see bp_forward_train()), even one that
 *  BP_ERROR_DIVERGED refuses. No step keeps activations for bp_backward(), whether its
 *  update is adopted or refused.
 *  @return BP_OK or any status of the three functions it combines; on BP_ERROR_DIVERGED
 *          the parameters and optimizer state are those from before the step, while the
 *          step's gradients stay readable with bp_get_gradients() (bp_update() refuses
 *          them again if they are not finite). */
bp_status bp_train_step(bp_network *net, const float *inputs, const float *targets,
                        size_t batch, float learning_rate, float *loss);

/*! bp_backward_weighted(), bp_train_step_weighted() :
 *  bp_backward() and bp_train_step() with a weight w_x per sample (`weights`: batch
 *  floats, each finite and ≥ 0, not all 0): the loss becomes Σ_x w_x C_x / Σ_x w_x and the
 *  gradient Σ_x w_x ∂C_x/∂θ / Σ_x w_x, which is the unweighted mean when every w_x is
 *  equal. A sample of weight 0 takes no part. Class weights are sample weights given by
 *  each sample's class. A single sample's weight cancels: batch 1 is bp_train_step().
 *  @return as the unweighted call, and BP_ERROR_NULL_ARGUMENT (weights);
 *          BP_ERROR_NON_FINITE (a weight is NaN or infinite); BP_ERROR_INVALID_ARGUMENT
 *          (a weight < 0, or all of them 0); nothing is changed on any error. */
bp_status bp_backward_weighted(bp_network *net, const float *targets, const float *weights, size_t batch,
                               float *loss);
bp_status bp_train_step_weighted(bp_network *net, const float *inputs, const float *targets, const float *weights,
                                 size_t batch, float learning_rate, float *loss);

/*-************************************************************************
 *  Optimizers and options
 *
 *  bp_update() applies the gradients with the network's optimizer. Options are set one
 *  key at a time, so new ones can join without changing any struct; every value is a
 *  double. Keys, ranges and defaults:
 *
 *  key                            value                                   default
 *  BP_OPTION_OPTIMIZER            a BP_OPTIMIZER_* value                  BP_OPTIMIZER_SGD
 *  BP_OPTION_MOMENTUM             μ for momentum and Nesterov, [0, 1)     0.9
 *  BP_OPTION_BETA1                Adam's β1, [0, 1)                       0.9
 *  BP_OPTION_BETA2                Adam's β2, [0, 1)                       0.999
 *  BP_OPTION_EPSILON              Adam's ε, ≥ FLT_MIN (1.18e-38)          1e-8
 *  BP_OPTION_WEIGHT_DECAY         λ ≥ 0: L2 (g += λθ), decoupled for AdamW 0
 *  BP_OPTION_CLIP_NORM            max L2 norm of the whole gradient; 0 = off  0
 *  BP_OPTION_RPROP_INCREASE       η+ > 1                                  1.2
 *  BP_OPTION_RPROP_DECREASE       η− in (0, 1)                            0.5
 *  BP_OPTION_RPROP_MIN_STEP       Δmin ≥ FLT_MIN (1.18e-38)               1e-6
 *  BP_OPTION_RPROP_MAX_STEP       Δmax ≥ Δmin                             50
 *  BP_OPTION_RPROP_INITIAL_STEP   Δ0 in [Δmin, Δmax]                      0.1
 *  BP_OPTION_SCHEDULE             a BP_SCHEDULE_* value                   BP_SCHEDULE_CONSTANT
 *  BP_OPTION_GAMMA                γ of step and exponential, (0, 1]       0.1
 *  BP_OPTION_STEP_EPOCHS          s, step's epochs per decay, 1 … 10^6    10
 *  BP_OPTION_WARMUP_EPOCHS        cosine's warm-up W, 0 … 10^6, < T       0
 *  BP_OPTION_CYCLE_EPOCHS         cosine's T, > W (0 = bp_fit's epochs)   0
 *  BP_OPTION_MIN_LR               η_min of cosine and plateau, ≥ 0        0
 *  BP_OPTION_POWER_T              invscaling's p, ≥ 0                     0.5
 *  BP_OPTION_PLATEAU_FACTOR       plateau's factor, (0, 1)                0.1
 *  BP_OPTION_PLATEAU_PATIENCE     plateau's patience, 0 … 10^6 epochs     10
 *  BP_OPTION_PLATEAU_THRESHOLD    plateau's improvement that counts, ≥ 0  1e-4
 *  BP_OPTION_HUBER_DELTA          δ of BP_LOSS_HUBER, > 0                 1
 *
 *  The epoch counts are whole numbers.
 *  Clipping scales the gradient before weight decay is added. Weight decay applies to all
 *  parameters, biases included (as PyTorch's weight_decay). Choosing another optimizer
 *  resets its state (moments, step sizes; RPROP's steps start at Δ0 then); changing a
 *  hyperparameter keeps it. A step that BP_ERROR_DIVERGED refuses changes neither the
 *  parameters nor the optimizer's state. The optimizer's state is saved in model files.
 **************************************************************************/
#define BP_OPTIMIZER_SGD       0  /* θ ← θ − η g (the seed's rule) */
#define BP_OPTIMIZER_MOMENTUM  1  /* v ← μ v + g; θ ← θ − η v */
#define BP_OPTIMIZER_NESTEROV  2  /* v ← μ v + g; θ ← θ − η (g + μ v) */
#define BP_OPTIMIZER_ADAM      3  /* m ← β1 m + (1−β1) g; v ← β2 v + (1−β2) g²; θ ← θ − η m̂ / (√v̂ + ε) */
#define BP_OPTIMIZER_ADAMW     4  /* Adam, with decoupled weight decay θ ← θ − η λ θ */
#define BP_OPTIMIZER_RPROP     5  /* iRprop−, per-parameter steps; ignores the learning rate */

#define BP_OPTION_OPTIMIZER           1
#define BP_OPTION_MOMENTUM            2
#define BP_OPTION_BETA1               3
#define BP_OPTION_BETA2               4
#define BP_OPTION_EPSILON             5
#define BP_OPTION_WEIGHT_DECAY        6
#define BP_OPTION_CLIP_NORM           7
#define BP_OPTION_RPROP_INCREASE      8
#define BP_OPTION_RPROP_DECREASE      9
#define BP_OPTION_RPROP_MIN_STEP     10
#define BP_OPTION_RPROP_MAX_STEP     11
#define BP_OPTION_RPROP_INITIAL_STEP 12
#define BP_OPTION_SCHEDULE           13
#define BP_OPTION_GAMMA              14
#define BP_OPTION_STEP_EPOCHS        15
#define BP_OPTION_WARMUP_EPOCHS      16
#define BP_OPTION_CYCLE_EPOCHS       17
#define BP_OPTION_MIN_LR             18
#define BP_OPTION_POWER_T            19
#define BP_OPTION_PLATEAU_FACTOR     20
#define BP_OPTION_PLATEAU_PATIENCE   21
#define BP_OPTION_PLATEAU_THRESHOLD  22
#define BP_OPTION_HUBER_DELTA        23

/*! bp_set_option() :
 *  Sets one option (see the table above).
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_UNKNOWN_ENUM (an unknown key, or an
 *          optimizer or schedule value that is not a BP_OPTIMIZER_* or BP_SCHEDULE_*
 *          constant); BP_ERROR_NON_FINITE;
 *          BP_ERROR_INVALID_ARGUMENT (out of range; nothing changes);
 *          BP_ERROR_OUT_OF_MEMORY (the new optimizer's state). */
bp_status bp_set_option(bp_network *net, int32_t key, double value);

/*! bp_get_option() :
 *  Stores the current value of option `key` in *value.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_UNKNOWN_ENUM. */
bp_status bp_get_option(const bp_network *net, int32_t key, double *value);

/*-************************************************************************
 *  Learning-rate schedules
 *
 *  The schedule (BP_OPTION_SCHEDULE and the options after it) sets η of each epoch from
 *  the base rate η0 (bp_fit's learning_rate) and e, the epochs ended since the schedule
 *  was chosen. bp_fit follows it; callers who step by hand ask bp_scheduled_learning_rate()
 *  for each epoch's rate and end each epoch with bp_end_epoch(). Choosing another
 *  schedule starts it at e = 0; changing its options keeps where it is. Where it stands
 *  (e, the samples seen, the plateau's state) is saved in model files, so training
 *  resumes on schedule. Rates are computed in double precision and rounded to float.
 **************************************************************************/
#define BP_SCHEDULE_CONSTANT     0  /* η = η0 */
#define BP_SCHEDULE_STEP         1  /* η = η0 γ^floor(e / s) (PyTorch's StepLR) */
#define BP_SCHEDULE_EXPONENTIAL  2  /* η = η0 γ^e (PyTorch's ExponentialLR) */
#define BP_SCHEDULE_COSINE       3  /* e < W: η0 (e + 1) / W (linear warm-up); e < T: η_min +
                                       (η0 − η_min)(1 + cos(π (e − W) / (T − W))) / 2; then η_min.
                                       T = BP_OPTION_CYCLE_EPOCHS, or when that is 0, in bp_fit,
                                       the epochs ended so far plus that fit's epochs (which
                                       must exceed W) */
#define BP_SCHEDULE_INVSCALING   4  /* η = η0 / (t + 1)^p, t = samples trained on in the epochs before
                                       (scikit-learn's invscaling) */
#define BP_SCHEDULE_PLATEAU      5  /* η = max(η0 m, min(η0, η_min)); m starts at 1 and is multiplied
                                       by the factor when the monitored loss has not fallen below
                                       best − threshold for more than patience epochs (PyTorch's
                                       ReduceLROnPlateau; scikit-learn's adaptive: factor 0.2) */

/*! bp_scheduled_learning_rate() :
 *  Stores in *rate the η of the network's next epoch by its schedule, from base_rate = η0.
 *  Reads the network only.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_NON_FINITE (base_rate);
 *          BP_ERROR_INVALID_ARGUMENT (base_rate < 0, or the cosine schedule with
 *          BP_OPTION_CYCLE_EPOCHS 0, which only bp_fit can resolve). */
bp_status bp_scheduled_learning_rate(const bp_network *net, float base_rate, float *rate);

/*! bp_end_epoch() :
 *  Ends an epoch for the schedule: e grows by 1, the samples seen by `samples`, and the
 *  plateau schedule compares `monitored_loss` (NaN counts as no improvement) with its
 *  best. bp_fit calls it after every epoch, with its monitored loss (the validation loss
 *  with a validation set, the training loss otherwise). The constant schedule keeps
 *  nothing: the call changes nothing then. The counts saturate at 2^53 (exact in a double)
 *  instead of overflowing, and the plateau's m stops at the smallest normal double.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_OVERFLOW (samples > PTRDIFF_MAX).
 *  Not thread-safe with any other call on the same network. */
bp_status bp_end_epoch(bp_network *net, size_t samples, float monitored_loss);

/*-************************************************************************
 *  Dropout
 *
 *  Inverted dropout of the hidden layers (Srivastava et al., 2014): each training pass
 *  (bp_train_step(), bp_train_step_weighted(), bp_fit(), bp_forward_train()) keeps unit i
 *  of hidden layer l with probability 1 − p_l and scales what it keeps by 1 / (1 − p_l):
 *  ã^l = a^l ⊙ m^l, which layer l + 1 reads; the backward pass follows the same masks,
 *  δ^l = ((W^(l+1))^T δ^(l+1)) ⊙ σ'(z^l) ⊙ m^l. Nothing is dropped by bp_forward(),
 *  bp_predict(), bp_evaluate() or bp_evaluate_metrics(), nor in bp_fit()'s validation.
 *  A mask element is a hash of (seed, pass number, layer, element), so training stays
 *  bit-identical for a seed at any thread count; the pass number counts training passes
 *  since bp_set_dropout() (or bp_initialize()) and is saved in model files with the rates
 *  and seed, so a loaded network draws the masks the saved one would have drawn. A layer
 *  that drops keeps two more floats per unit and sample of a batch; single samples of
 *  tiny networks lose their fast path while dropout is on.
 **************************************************************************/

/*! bp_set_dropout() :
 *  Sets the dropout rates p_1 … p_(L−1) of the hidden layers, `count` = layer_count − 2
 *  floats, each in [0, 1); `rates` may be NULL when count is 0. All 0 turns dropout off.
 *  Masks are drawn from `seed` (the Python package passes the network's seed), starting
 *  again from pass 0. Activations kept by a bp_forward_train() are discarded.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT (net, or rates with count > 0);
 *          BP_ERROR_SIZE_OVERFLOW (count > PTRDIFF_MAX);
 *          BP_ERROR_SIZE_MISMATCH (count is not the number of hidden layers);
 *          BP_ERROR_NON_FINITE; BP_ERROR_INVALID_ARGUMENT (a rate outside [0, 1)).
 *          Nothing is changed on failure. Not thread-safe with any other call on the
 *          same network. */
bp_status bp_set_dropout(bp_network *net, const float *rates, size_t count, uint64_t seed);

/*! bp_get_dropout() :
 *  Copies the hidden layers' dropout rates into `rates` (count = layer_count − 2 floats;
 *  all 0 without dropout; may be NULL when count is 0). Reads the network only, so it is
 *  safe beside bp_predict() and bp_evaluate() but not beside a call that changes it.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_OVERFLOW (count > PTRDIFF_MAX);
 *          BP_ERROR_SIZE_MISMATCH (count). */
bp_status bp_get_dropout(const bp_network *net, float *rates, size_t count);

/*-************************************************************************
 *  Training on a data set
 **************************************************************************/

/* One epoch of bp_fit(). learning_rate was added where the three floats before it left
 * padding, so sizeof(bp_epoch_report) (24 bytes on the 64-bit platforms the library
 * supports) did not change and history arrays of programs built before it stay valid. */
typedef struct bp_epoch_report {
    size_t epoch;               /* 1 for the first epoch */
    float train_loss;           /* mean loss over the epoch's training samples */
    float validation_loss;      /* NaN without a validation set */
    float validation_accuracy;  /* NaN without a validation set, or when not a classifier */
    float learning_rate;        /* η of the epoch's steps, by the schedule */
} bp_epoch_report;

/* Called after every epoch, on the thread that called bp_fit(); return 0 to stop training
 * after this epoch, anything else to continue. The report is valid during the call only. */
typedef int (*bp_progress_callback)(const bp_epoch_report *report, void *user_data);

/* Data-parallel training (bp_fit_options' gradient_hook and reduce_hook). Each process
 * trains a replica of the same network on its own shard of the data; after every
 * mini-batch's backward pass the gradient hook replaces the process's gradients with
 * the global batch's, g = Σ_r weight_r g_r / Σ_r weight_r over the processes r (for
 * MPI: an MPI_Allreduce with MPI_SUM of weight · g and weight, then a division), so every
 * process takes the same update and the replicas stay identical. With a reduce hook too,
 * bp_fit() makes the processes agree on everything else:
 *  - before the first step (BP_REDUCE_MAX of 17 values), on whether every process could
 *    start: a process whose arguments or handle bp_fit() refuses, or whose buffers do not
 *    fit in memory, reports a failure flag and returns its own error; the others return
 *    BP_ERROR_PEER_FAILED, and none waits. On the options that must match (epochs,
 *    batch_size, learning_rate, patience, min_delta, restore_best, target_loss, each
 *    compared by its maximum and minimum): when they differ, every process returns
 *    BP_ERROR_INVALID_ARGUMENT naming the option. On the sample weights: one shard's may
 *    all be 0, not every shard's. And on the steps per epoch, the largest shard's
 *    ceil(count / batch_size): a process with a shorter shard takes empty steps, calling
 *    the gradient hook with samples = 0, weight = 0 and zero gradients (and counting the
 *    step as a dropout pass), so unequal shards never deadlock;
 *  - after every epoch, on its report: BP_REDUCE_SUM of 7 sums (processes that failed to
 *    evaluate their validation set, samples, training weight, training loss × weight,
 *    validation weight, validation loss × weight, validation accuracy × weight) from which
 *    each process computes the global means, so every process reports the same history,
 *    and early stopping, the target loss, restore_best and the learning-rate schedules
 *    decide alike; the monitored loss is the validation loss when any process has a
 *    validation set, and a failed evaluation stops every process (its own error there,
 *    BP_ERROR_PEER_FAILED elsewhere);
 *  - after the progress callback, on stopping (BP_REDUCE_MAX of each process's stop: its
 *    callback's, the target loss, early stopping): when one process stops, every process
 *    stops after the same epoch.
 * A step refused as diverged is refused on every process, because the decision reads the
 * reduced gradients only (a process whose own batch loss is not finite sends NaN
 * gradients). The replicas stay bit-identical as long as the reduction gives every
 * process the same result, as MPI implementations do in practice (the standard only
 * advises it); they match one network trained on the whole batches up to rounding.
 *
 * What must match: every process calls bp_fit() with both hooks set and the same network
 * in every respect: parameters, optimizer and its state, options (BP_OPTION_*), schedule
 * state, input and target scaling, dropout. For a fresh network the same bp_create()
 * arguments and seed give that; otherwise broadcast the root's model file
 * (bp_save_to_buffer() there, bp_load_from_buffer() everywhere else), which carries all
 * of it, where bp_set_parameters() carries the parameters only. What may differ: the
 * data and its count, sample_weights, the validation set (or its absence), the shuffling
 * seed and the progress callback. Dropout draws its masks from its seed and the pass
 * count, so every process drops the same units for the same row of its batch; give each
 * process its own dropout seed (bp_set_dropout()) for masks independent across processes.
 * The start-up agreement needs options whose struct_size is valid and not NULL; a hook
 * that fails mid-training (a communication error) leaves the others waiting in their
 * next collective, so such a hook should end the whole job (MPI_Abort()), or return
 * BP_ERROR_PEER_FAILED only where the communication layer has already ended it.
 * In a manual loop (bp_set_gradients()), a process with no rows for a step still takes
 * part in its allreduce with weight 0, after a forward and backward pass of any one row.
 * The hooks run on the thread that called bp_fit(), in the caller's floating-point
 * environment, while the library holds the network: they may not call the library on it. */
#define BP_REDUCE_SUM  0  /* each value becomes the sum over the processes */
#define BP_REDUCE_MAX  1  /* each value becomes the maximum over the processes */

/* Called after each mini-batch's backward pass and before its update, with this process's
 * gradients: `count` floats in the flat layout (see bp_get_parameters()), the mean over
 * its `samples` rows of this step (weighted by the sample weights, whose sum is `weight`;
 * without weights weight = samples), and their mean loss. Replace them in place with the
 * gradients the update is to use; the buffer is valid during the call only. A weight of 0
 * (an empty step, or a batch whose sample weights are all 0) comes with zero gradients
 * and loss 0; the hook must still take part in the collective. Return BP_OK to go on;
 * any other value stops training before the update, and bp_fit() returns that value. */
typedef bp_status (*bp_gradient_hook)(float *gradients, size_t count, size_t samples, double weight, float loss,
                                      void *user_data);

/* Replaces each of the `count` doubles at `values` with their sum (BP_REDUCE_SUM) or
 * maximum (BP_REDUCE_MAX) over the processes, as MPI_Allreduce does; valid during the call
 * only. Return BP_OK, or another value to stop training (bp_fit() returns it). */
typedef bp_status (*bp_reduce_hook)(double *values, size_t count, int32_t operation, void *user_data);

typedef struct bp_fit_options {
    size_t struct_size;            /* sizeof(bp_fit_options): set by bp_fit_options_init(). Fields are
                                      only ever added at the end; a library accepts every size any
                                      version of this header has had. */
    size_t epochs;                 /* ≥ 1; default 10 */
    size_t batch_size;             /* ≥ 1; default 32 */
    float learning_rate;           /* η0, finite, ≥ 0; default 0.01: each epoch's rate is the schedule's
                                      (BP_OPTION_SCHEDULE) from it; constant by default */
    int32_t shuffle;               /* nonzero: new sample order every epoch; default 1 */
    uint64_t seed;                 /* drives the shuffling; default 0 */
    const float *validation_inputs;   /* validation_count x input size, or NULL */
    const float *validation_targets;  /* validation_count x output size, or NULL */
    size_t validation_count;          /* 0 = no validation set (default) */
    size_t patience;               /* early stopping after this many epochs without improvement; 0 = off (default) */
    float min_delta;               /* the improvement that counts, ≥ 0; default 0 */
    int32_t restore_best;          /* with early stopping, end with the best epoch's parameters; default 1.
                                      Only the parameters: the optimizer's and the schedule's
                                      state stay where the last epoch left them */
    float target_loss;             /* stop once the monitored loss is ≤ this; ≤ 0 = off (default) */
    bp_progress_callback progress; /* or NULL (default) */
    void *user_data;               /* passed to progress */
    /* Added after the first release: a struct_size that ends before them reads them as NULL. */
    const float *sample_weights;      /* count weights (see bp_train_step_weighted()), or NULL
                                         (default): every sample weighs 1 */
    const float *validation_weights;  /* validation_count weights for the validation loss and
                                         accuracy, or NULL (default) */
    /* Added for data-parallel training: a struct_size that ends before them reads them as NULL. */
    bp_gradient_hook gradient_hook;   /* or NULL (default): see "Data-parallel training" above;
                                         receives user_data */
    bp_reduce_hook reduce_hook;       /* or NULL (default); only together with gradient_hook;
                                         receives user_data */
} bp_fit_options;

/*! bp_fit_options_init() :
 *  Fills *options with the defaults above and sets struct_size to sizeof(bp_fit_options) as the
 *  caller's header declares it: the macro passes that size to bp_fit_options_init_sized(),
 *  so a program built with an older header, whose struct is smaller, never has more
 *  written than it holds. NULL, or a size smaller than the first version's, is a no-op.
 *  (The function bp_fit_options_init() itself remains for programs built before the
 *  struct grew; it fills the first version's fields only, so code that calls it by name,
 *  (bp_fit_options_init)(&o) or through a pointer, gets a struct_size that ends before
 *  sample_weights, and bp_fit() then ignores the weights: use the macro.) */
void bp_fit_options_init(bp_fit_options *options);
void bp_fit_options_init_sized(bp_fit_options *options, size_t size);
#define bp_fit_options_init(options) bp_fit_options_init_sized((options), sizeof(bp_fit_options))

/*! bp_fit() :
 *  Trains on `count` samples (inputs: count x bp_input_size(net), targets:
 *  count x bp_output_size(net), row-major) for options->epochs epochs of mini-batch
 *  bp_train_step()s, in an order shuffled by options->seed: the same seed gives the same
 *  network. Each epoch's steps use the learning-rate schedule's rate, reported in the
 *  epoch's learning_rate, and each epoch ends with bp_end_epoch() (with the monitored
 *  loss). The monitored loss is the validation loss when a validation set is given, the
 *  training loss otherwise; early stopping and the target loss watch it.
 *  With options->gradient_hook, each step's gradients pass through it before the update
 *  (plain SGD then takes the separate update pass instead of its fused one: the same
 *  result up to rounding), and a batch of weight 0 takes a step of the hook's gradients;
 *  with options->reduce_hook as well, the processes of a data-parallel fit agree as
 *  described under "Data-parallel training".
 *  @param history      if not NULL, receives up to history_capacity epoch reports, written
 *                      as epochs finish (also when training then fails).
 *  @param epochs_run   if not NULL, receives the number of epochs completed.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_INVALID_ARGUMENT (an option out of
 *          range, or struct_size unknown: call bp_fit_options_init()); BP_ERROR_SIZE_*;
 *          BP_ERROR_NON_FINITE (a NaN in the data: checked before training starts);
 *          BP_ERROR_DIVERGED (a step diverged: training stops with the parameters from
 *          before that step); BP_ERROR_OUT_OF_MEMORY; BP_ERROR_PEER_FAILED (another
 *          process could not start: nothing was trained); a hook's own non-OK status. */
bp_status bp_fit(bp_network *net, const float *inputs, const float *targets, size_t count,
                 const bp_fit_options *options, bp_epoch_report *history, size_t history_capacity,
                 size_t *epochs_run);

/*! bp_evaluate() :
 *  The mean loss over `count` samples and, for classifiers, the accuracy: with a softmax
 *  or multi-unit sigmoid output, the fraction of samples whose largest output is at their
 *  target's largest value; with one sigmoid unit, the fraction on the same side of 0.5 as
 *  their target. accuracy is NaN for other outputs. loss and accuracy may be NULL.
 *  Reads the network only; thread-safety as bp_predict().
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_INVALID_ARGUMENT (count is 0);
 *          BP_ERROR_SIZE_OVERFLOW; BP_ERROR_NON_FINITE; BP_ERROR_OUT_OF_MEMORY. */
bp_status bp_evaluate(const bp_network *net, const float *inputs, const float *targets, size_t count,
                      float *loss, float *accuracy);

/*! bp_evaluate_weighted() :
 *  bp_evaluate() with a weight per sample (`weights`: count floats, as for
 *  bp_train_step_weighted()): the loss is Σ_x w_x C_x / Σ_x w_x and the accuracy the weight
 *  of the samples classified right over Σ_x w_x.
 *  @return as bp_evaluate(), and BP_ERROR_NULL_ARGUMENT (weights); BP_ERROR_NON_FINITE
 *          (a weight is NaN or infinite); BP_ERROR_INVALID_ARGUMENT (a weight < 0, or all 0). */
bp_status bp_evaluate_weighted(const bp_network *net, const float *inputs, const float *targets, const float *weights,
                               size_t count, float *loss, float *accuracy);

/* What bp_evaluate_metrics() measures. Set struct_size to sizeof(bp_metrics) first. */
typedef struct bp_metrics {
    size_t struct_size;
    float loss;                     /* bp_evaluate()'s mean loss */
    float accuracy;                 /* bp_evaluate()'s accuracy: classifiers; NaN otherwise */
    float mean_absolute_error;      /* regressors (not softmax/sigmoid outputs): mean |a − y| over
                                       samples and outputs; NaN for classifiers */
    float root_mean_squared_error;  /* regressors: √(mean (a − y)²); NaN for classifiers */
    float r2;                       /* regressors: mean over outputs of 1 − Σ(y − a)² / Σ(y − ȳ)²
                                       (scikit-learn's r2_score; NaN if some output's targets are
                                       all equal); NaN for classifiers */
} bp_metrics;

/*! bp_evaluate_metrics() :
 *  bp_evaluate()'s loss and accuracy and the metrics above, in one pass over `count`
 *  samples, weighted by `weights` (count floats as for bp_evaluate_weighted(), or NULL).
 *  For a classifier, `confusion` (or NULL) receives its confusion matrix: k x k doubles,
 *  k = bp_output_size(net) classes (2 for a single sigmoid unit), row = true class,
 *  column = predicted class (by bp_evaluate()'s rule), each cell the number of samples
 *  (the sum of their weights); confusion_count must be k x k. Reads the network only;
 *  thread-safety as bp_predict().
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT (net, inputs, targets, metrics);
 *          BP_ERROR_INVALID_ARGUMENT (metrics->struct_size, count 0, a bad weight, or a
 *          confusion matrix for a network that is not a classifier); BP_ERROR_SIZE_MISMATCH
 *          (confusion_count is not k x k; read only when confusion is not NULL);
 *          BP_ERROR_SIZE_OVERFLOW; BP_ERROR_NON_FINITE;
 *          BP_ERROR_OUT_OF_MEMORY. Nothing is written on failure. */
bp_status bp_evaluate_metrics(const bp_network *net, const float *inputs, const float *targets, const float *weights,
                              size_t count, bp_metrics *metrics, double *confusion, size_t confusion_count);

/*-************************************************************************
 *  Input scaling
 *
 *  A network may hold a per-feature affine map applied to every input before layer 1,
 *  a^0_k = (x_k − shift_k) · scale_k (and a regressor one for its targets, below), so that
 *  a deployed model takes raw inputs and no application has to rebuild its scaler: bp_forward(), bp_predict(), bp_evaluate(),
 *  bp_train_step() and bp_fit() (training and validation inputs) all apply it, and model
 *  files keep it (format version 2). Without one, inputs are used as they are.
 **************************************************************************/

/*! bp_set_input_scaling() :
 *  Sets the scaling: shift and scale hold count = bp_input_size(net) floats each, all
 *  finite, copied. shift = scale = NULL with count 0 removes it. The activations kept for
 *  bp_backward() are discarded (they were scaled the old way).
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_MISMATCH (count); BP_ERROR_NON_FINITE
 *          (a value is NaN or infinite; nothing is changed).
 *  Not thread-safe with any other call on the same network. */
bp_status bp_set_input_scaling(bp_network *net, const float *shift, const float *scale, size_t count);

/*! bp_get_input_scaling() :
 *  Copies the scaling into shift and scale (count = bp_input_size(net) floats each): the
 *  identity, shift 0 and scale 1, when the network has none. Reads the network only.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_MISMATCH (count). */
bp_status bp_get_input_scaling(const bp_network *net, float *shift, float *scale, size_t count);

/*! bp_standardize_inputs() :
 *  Sets the scaling that standardises `count` samples of `inputs` (count x
 *  bp_input_size(net), row-major): shift = each feature's mean, scale = 1 / its population
 *  standard deviation, or 1 where the feature is constant (scikit-learn's StandardScaler),
 *  accumulated in double precision. Call it with the training inputs before training.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_INVALID_ARGUMENT (count is 0);
 *          BP_ERROR_SIZE_OVERFLOW; BP_ERROR_NON_FINITE (an input is NaN or infinite).
 *  Not thread-safe with any other call on the same network. */
bp_status bp_standardize_inputs(bp_network *net, const float *inputs, size_t count);

/*! bp_set_target_scaling(), bp_get_target_scaling(), bp_standardize_targets() :
 *  The same for a regressor's targets (count = bp_output_size(net) features): every target
 *  reaches the loss as (y − shift) · scale, in bp_backward(), bp_train_step(), bp_fit()
 *  and bp_evaluate(), and outputs leave bp_forward() and bp_predict() as a^L / scale +
 *  shift, in the targets' own units. Losses are reported as the network computes them, on
 *  the scaled targets; bp_evaluate_metrics()' errors and R² are in the targets' units. Every
 *  scale must be nonzero. bp_standardize_targets() takes count x bp_output_size(net) targets.
 *  @return as the input scaling's functions, and BP_ERROR_INVALID_ARGUMENT (a classifier:
 *          softmax and sigmoid outputs are probabilities, which no scaling may move; or a
 *          scale of 0). */
bp_status bp_set_target_scaling(bp_network *net, const float *shift, const float *scale, size_t count);
bp_status bp_get_target_scaling(const bp_network *net, float *shift, float *scale, size_t count);
bp_status bp_standardize_targets(bp_network *net, const float *targets, size_t count);

/*-************************************************************************
 *  Parameters and gradients
 *
 *  The flat layout, shared by parameters and gradients: for l = 1..L in order, W^l
 *  row-major (n_l x n_(l-1): W[j][k] at j * n_(l-1) + k, j = unit of layer l, k = unit
 *  of layer l-1), then b^l (n_l floats). bp_parameter_count(net) floats in all.
 **************************************************************************/

/*! bp_get_parameters() :
 *  Copies all parameters into out, which holds `count` floats.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_MISMATCH (count differs from
 *          bp_parameter_count(net)). */
bp_status bp_get_parameters(const bp_network *net, float *out, size_t count);

/*! bp_set_parameters() :
 *  Replaces all parameters with the `count` floats at in. Discards kept activations
 *  and pending gradients, which belonged to the old parameters.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_MISMATCH;
 *          BP_ERROR_NON_FINITE (a value is NaN or infinite; nothing is changed). */
bp_status bp_set_parameters(bp_network *net, const float *in, size_t count);

/* Initialisation schemes for bp_initialize() (int32_t values). fan_in = n_(l-1) and
 * fan_out = n_l of each layer l; U(±r) is uniform in [-r, r), N(0, s²) normal. */
#define BP_INIT_HE_GLOROT_UNIFORM  0  /* bp_create()'s: He uniform for ReLU, leaky ReLU, GELU, SiLU,
                                         softplus and ELU layers, Glorot uniform for the
                                         others; b = 0 */
#define BP_INIT_HE_UNIFORM         1  /* W ~ U(±sqrt(6 / fan_in)), b = 0 */
#define BP_INIT_HE_NORMAL          2  /* W ~ N(0, 2 / fan_in), b = 0 */
#define BP_INIT_GLOROT_UNIFORM     3  /* W ~ U(±sqrt(6 / (fan_in + fan_out))), b = 0 */
#define BP_INIT_GLOROT_NORMAL      4  /* W ~ N(0, 2 / (fan_in + fan_out)), b = 0 */
#define BP_INIT_LECUN_NORMAL       5  /* W ~ N(0, 1 / fan_in), b = 0 */
#define BP_INIT_PYTORCH            6  /* W, b ~ U(±1 / sqrt(fan_in)): PyTorch's nn.Linear default */
#define BP_INIT_SKLEARN            7  /* W, b ~ U(±sqrt(f / (fan_in + fan_out))), f = 2 for sigmoid
                                         layers, 6 for the others: scikit-learn's MLP */

/* The scheme to choose without a reason for another, and the default of the Python
 * package (Network(init=...)) and of the command-line tool (--init). Chosen by measurement
 * (bindings/python/bench/quality.py: six data sets, five seeds, test accuracy or R², with
 * scikit-learn's MLP beside it): PyTorch's narrower weights with random biases had the
 * best mean score, 0.860 against 0.844 for BP_INIT_HE_GLOROT_UNIFORM (scikit-learn's
 * own MLP 0.855), and the best or within 0.005 of it on every set; on a 20,000-sample,
 * 100-feature, 5-class task (100-256-128-5, Adam 1e-3, 20 epochs) 0.852 against 0.827.
 * bp_create() keeps BP_INIT_HE_GLOROT_UNIFORM so that a seed gives the network it has
 * always given; call bp_initialize(net, BP_INIT_RECOMMENDED, seed) after it. */
#define BP_INIT_RECOMMENDED        BP_INIT_PYTORCH

/*! bp_initialize() :
 *  Draws every parameter afresh by `scheme` from `seed`, layer by layer (W^l row-major,
 *  then b^l when the scheme draws biases), with SplitMix64 and, for the normal schemes,
 *  Marsaglia's polar method (one normal per accepted pair, its logarithm computed from
 *  correctly rounded operations, not libm's): a scheme and seed give bit-identical
 *  parameters on every platform. Training starts over: the network is
 *  the one bp_create() with `seed` followed by this call makes, with the optimizer,
 *  options, input and target scaling and thread count it had; the optimizer's state
 *  (moments, step count, RPROP's steps), the schedule's state (back to e = 0), kept
 *  activations and pending gradients are discarded. Dropout keeps its rates and seed and
 *  draws its masks from pass 0 again.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_UNKNOWN_ENUM (scheme is not a
 *          BP_INIT_* value; nothing is changed); BP_ERROR_OUT_OF_MEMORY (nothing is changed).
 *  Not thread-safe with any other call on the same network. */
bp_status bp_initialize(bp_network *net, int32_t scheme, uint64_t seed);

/*! bp_get_gradients() :
 *  Copies the gradients of the last bp_backward() (∂C/∂W and ∂C/∂b, averaged over the
 *  batch) into out, in the flat layout. They stay available after bp_update().
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_MISMATCH; BP_ERROR_STATE (no
 *          bp_backward() since creation or the last bp_set_parameters()). */
bp_status bp_get_gradients(const bp_network *net, float *out, size_t count);

/*! bp_set_gradients() :
 *  Replaces the pending gradients of the last bp_backward() with the `count` floats at
 *  in (the flat layout), so that the next bp_update() applies them: the step of a manual
 *  data-parallel loop, bp_forward() → bp_backward() → bp_get_gradients() → an allreduce
 *  across processes → bp_set_gradients() → bp_update(). Whether bp_update() then takes the
 *  step depends on these gradients alone, not on the loss of the bp_backward(), so
 *  processes that set the same gradients take the same step (bp_update() still refuses
 *  with BP_ERROR_DIVERGED when a new parameter would not be finite). bp_get_gradients()
 *  returns them afterwards.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_SIZE_MISMATCH (count differs from
 *          bp_parameter_count(net)); BP_ERROR_NON_FINITE (a value is NaN or infinite:
 *          nothing is changed); BP_ERROR_STATE (no gradients wait to be applied: none
 *          since creation or bp_set_parameters(), or those of the last bp_backward() or
 *          bp_train_step() were applied; gradients of a step refused as diverged may be
 *          replaced). Not thread-safe with any other call on the same network. */
bp_status bp_set_gradients(bp_network *net, const float *in, size_t count);

/*-************************************************************************
 *  Model files
 *
 *  The format (docs/format.md): magic, format version, little-endian on every host, the
 *  architecture, the training state needed to resume exactly, the parameters and a
 *  CRC-32 of it all. Loading checks every field against the bytes actually present and
 *  reports BP_ERROR_NOT_A_MODEL, BP_ERROR_UNSUPPORTED_VERSION, BP_ERROR_TRUNCATED,
 *  BP_ERROR_CHECKSUM_MISMATCH or BP_ERROR_CORRUPT_MODEL. A loaded network is
 *  bit-identical to the saved one: same outputs, same continued training (the learning-rate
 *  schedule included). This library reads format versions 1 and 2 and writes the oldest
 *  that holds the model: version 1, which every earlier library reads, unless the model
 *  has a learning-rate schedule (or schedule state or options of its own), input or
 *  target scaling, dropout, or a Huber δ other than 1. Codes are not versions: a version 1 file of
 *  a network with an activation or loss added since (GELU, SiLU, softplus, ELU, Huber,
 *  L1) is refused by a library older than that code, as BP_ERROR_CORRUPT_MODEL.
 **************************************************************************/

/*! bp_save() :
 *  Saves the network to the file `path` (a NUL-terminated path), atomically: the model is
 *  written to a temporary file in the same directory, flushed with fsync(), renamed over
 *  `path`, and the directory is fsync'ed. On any failure up to the rename, the previous
 *  file at `path`, if any, is left intact and the temporary file is removed; if only the
 *  final directory fsync fails, `path` holds the complete new model but the rename may
 *  not survive a power loss, and BP_ERROR_IO says so.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_IO (bp_last_error() names the path and
 *          the system's reason); BP_ERROR_OUT_OF_MEMORY. */
bp_status bp_save(const bp_network *net, const char *path);

/*! bp_load() :
 *  Creates a network from the model file at `path`.
 *  @param out  receives the new handle (release with bp_destroy()), NULL on failure.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_IO; BP_ERROR_OUT_OF_MEMORY; or a
 *          model error listed above. */
bp_status bp_load(const char *path, bp_network **out);

/*! bp_save_to_buffer() :
 *  Writes the model into `buffer` (`capacity` bytes). With buffer NULL, only stores the
 *  required size in *written and returns BP_OK.
 *  @param written  receives the model's size in bytes, also when the buffer is too small.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT (net or written); BP_ERROR_BUFFER_TOO_SMALL. */
bp_status bp_save_to_buffer(const bp_network *net, void *buffer, size_t capacity, size_t *written);

/*! bp_load_from_buffer() :
 *  Creates a network from `size` bytes of a model at `buffer` (read during the call only).
 *  @return as bp_load(), without BP_ERROR_IO. */
bp_status bp_load_from_buffer(const void *buffer, size_t size, bp_network **out);

/*-************************************************************************
 *  ONNX models
 *
 *  ONNX (https://onnx.ai) is the exchange format of PyTorch, TensorFlow (tf2onnx),
 *  scikit-learn (skl2onnx) and the inference runtimes (onnxruntime, TensorRT, OpenVINO).
 *  The library reads and writes it itself: no protobuf or ONNX library is linked.
 *
 *  An export is an opset 17, IR version 8 model with input "input" and output "output",
 *  both float tensors [batch, width] whose batch dimension is the symbolic "batch":
 *    - the input scaling, if any, as Sub(input, shift) then Mul(·, scale);
 *    - per layer, Gemm(a^(l-1), W^l, b^l) with transB = 1 (W^l as the library stores it,
 *      n_l x n_(l-1)), then σ_l: Sigmoid, Tanh, Relu, LeakyRelu (alpha 0.01), Identity
 *      (linear), Softmax (axis -1), Elu (alpha 1), Softplus; SiLU as Mul(z, Sigmoid(z));
 *      GELU, which opset 17 lacks, as its exact form Mul(Mul(z, Add(Erf(Div(z, √2)), 1)), 0.5);
 *    - the target scaling, if any, inverted as Div(·, scale) then Add(·, shift), so the
 *      model's outputs are bp_predict()'s;
 *    - metadata: backprop.loss (the loss's name: "mse", "cross-entropy", "huber", "l1"),
 *      backprop.version and backprop.layers ("4-8-3: tanh, softmax").
 *  Opset 17 is read by every maintained runtime (onnxruntime since 1.12) and was
 *  torch.onnx's default through PyTorch 2.4. Training state (optimizer, schedule, dropout)
 *  is not exported: an ONNX model is for inference; use bp_save() to resume training.
 *
 *  An import accepts the multilayer perceptrons the common exporters write:
 *    - layers: Gemm (transA 0, transB 0 or 1, alpha and beta folded into W and b, C
 *      optional, of shape [n_l], [1, n_l] or one value) or MatMul, either followed by Add
 *      of such a constant;
 *    - activations: Sigmoid, Tanh, Relu, LeakyRelu (alpha 0.01), Softmax (axis 1 or -1),
 *      Elu (alpha 1), Softplus, Gelu (opset 20, approximate "none"), Mul(z, Sigmoid(z))
 *      (SiLU), the GELU form above (torch.onnx's); a layer without one is linear;
 *    - no-ops: Identity, Cast to float, Dropout (inference), Flatten (axis 1), Reshape to
 *      [-1 or 0, width], and as the graph's last step Reshape to [-1, 1] or [-1], which
 *      lists the same outputs row after row (skl2onnx's regressors of several outputs);
 *    - input scaling: Sub and/or Mul by constants before the first layer, or ai.onnx.ml
 *      Scaler (a scikit-learn StandardScaler); target scaling: Div and/or Add by constants
 *      after the last layer;
 *    - weights as initializers or Constant nodes, float or double (rounded to float);
 *    - a classifier's post-processing after the last layer, as skl2onnx writes it (ArgMax,
 *      ZipMap, ArrayFeatureExtractor, and the Cast, Reshape, Concat, Sub, Identity among
 *      them), is dropped when it holds a label step: the network outputs the
 *      probabilities. skl2onnx's binary classifier builds [1 - p, p] from one sigmoid
 *      unit; the network keeps that unit, p. Every graph output must be the network's
 *      output, or the labels or probabilities of that post-processing.
 *  Anything else is BP_ERROR_UNSUPPORTED_MODEL, with bp_last_error() naming the node and
 *  its operator ("node 'conv1' (Conv) is not a step the library can take here"). The
 *  parser checks every length against the bytes present: malformed protobuf is
 *  BP_ERROR_CORRUPT_MODEL, a length past the end BP_ERROR_TRUNCATED, a model without a
 *  graph BP_ERROR_NOT_A_MODEL. Memory stays within a small multiple of the model's size:
 *  each weight tensor may serve one layer only, a layer needs nonzero dimensions, and a
 *  model of more than 16,384 nodes or initializers, 16 attributes or 64 inputs or outputs
 *  per node, 4,096 graph inputs or outputs or 1,024 metadata entries is
 *  BP_ERROR_UNSUPPORTED_MODEL. An attribute of the wrong type is refused, never read as
 *  0. The imported network has fresh training options (plain SGD), as bp_create() gives.
 **************************************************************************/

/* The loss argument of bp_import_onnx(): the loss a backprop export recorded in its
 * metadata, else BP_LOSS_CROSS_ENTROPY for a softmax or sigmoid output layer, else
 * BP_LOSS_MSE. */
#define BP_ONNX_LOSS_AUTO (-1)

/*! bp_export_onnx() :
 *  Writes the network as an ONNX model to the file `path` (NUL-terminated), atomically,
 *  as bp_save() writes. Reads the network (see the thread-safety convention).
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_IO; BP_ERROR_OUT_OF_MEMORY. */
bp_status bp_export_onnx(const bp_network *net, const char *path);

/*! bp_export_onnx_to_buffer() :
 *  Writes the ONNX model into `buffer` (`capacity` bytes). With buffer NULL, only stores
 *  the required size in *written and returns BP_OK.
 *  @param written  receives the model's size in bytes, also when the buffer is too small.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT (net or written); BP_ERROR_BUFFER_TOO_SMALL;
 *          BP_ERROR_OUT_OF_MEMORY. */
bp_status bp_export_onnx_to_buffer(const bp_network *net, void *buffer, size_t capacity, size_t *written);

/*! bp_import_onnx() :
 *  Creates a network from the ONNX model file at `path` (NUL-terminated).
 *  @param loss  a BP_LOSS_* value, or BP_ONNX_LOSS_AUTO.
 *  @param out   receives the new handle (release with bp_destroy()), NULL on failure.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_UNKNOWN_ENUM (loss);
 *          BP_ERROR_INVALID_ARCHITECTURE (cross-entropy without a softmax or sigmoid
 *          output, softmax on a hidden layer); BP_ERROR_UNSUPPORTED_MODEL;
 *          BP_ERROR_CORRUPT_MODEL; BP_ERROR_TRUNCATED; BP_ERROR_NOT_A_MODEL;
 *          BP_ERROR_NON_FINITE (a weight or scaling is NaN or infinite, or a double
 *          beyond float's range); BP_ERROR_SIZE_OVERFLOW (a layer beyond the limits of
 *          bp_create(), or a buffer size beyond SIZE_MAX / 2); BP_ERROR_INVALID_ARGUMENT
 *          (a target scale of 0); BP_ERROR_IO; BP_ERROR_OUT_OF_MEMORY. Thread-safe. */
bp_status bp_import_onnx(const char *path, int32_t loss, bp_network **out);

/*! bp_import_onnx_from_buffer() :
 *  Creates a network from `size` bytes of an ONNX model at `buffer` (read during the
 *  call only).
 *  @return as bp_import_onnx(), without BP_ERROR_IO. */
bp_status bp_import_onnx_from_buffer(const void *buffer, size_t size, int32_t loss, bp_network **out);

/*-************************************************************************
 *  C source for devices
 *
 *  For targets the library cannot run on (microcontrollers, kernel modules, bare metal):
 *  the network as one C99 source file and its header, with the parameters as static
 *  const arrays and
 *      void <prefix>_predict(const float *input, float *output);
 *  computing one sample's outputs as bp_predict() does (the input scaling in front, the
 *  target scaling behind), to float rounding (the sums run in another order). The code
 *  needs <math.h> (expf, tanhf, erff, log1pf, expm1f, fmaxf, fabsf; link with -lm) and
 *  nothing else: no libbackprop, no allocation, no global state, so it is reentrant. It
 *  keeps two rows of floats as wide as the widest layer in automatic storage (8 bytes per
 *  unit of that layer, plus 1 with BP_C_SOURCE_INT32_ACCUMULATE); the header states the
 *  figure. The source holds about 15 bytes of text per float parameter (4 per int8 one).
 *
 *  The options are flags:
 *    - BP_C_SOURCE_FLOAT (0): float32 weights, the exported network's own;
 *    - BP_C_SOURCE_INT8: post-training symmetric int8 weights, one scale per output unit
 *      (s_j = max_k |W_jk| / 127, q_jk = round(W_jk / s_j)), biases in float, sums in float;
 *    - BP_C_SOURCE_INT8 | BP_C_SOURCE_INT32_ACCUMULATE: also each layer's input as int8
 *      (one scale for the row, max |x| / 127), products summed in a C long, exact for up
 *      to 133,000 inputs per layer even where long has 32 bits.
 *  Quantisation changes the outputs by up to about 1% of their range; measure the
 *  accuracy on your own test set (the README gives figures).
 **************************************************************************/
#define BP_C_SOURCE_FLOAT             0
#define BP_C_SOURCE_INT8              1
#define BP_C_SOURCE_INT32_ACCUMULATE  2

/*! bp_export_c_source() :
 *  Writes the network as C source to `path`, which must end in ".c", and its header to
 *  the same path ending in ".h" (which the source includes by its file name), each
 *  atomically as bp_save() writes, the source first; the file name may not hold a quote,
 *  a backslash or a line break, which #include cannot name. `prefix` names the function and
 *  the arrays (<prefix>_predict, <prefix>_w1...) and the header's macros
 *  (<PREFIX>_INPUT_SIZE, <PREFIX>_OUTPUT_SIZE): a C identifier of 1 to 63 letters, digits
 *  and underscores starting with a letter. Reads the network (see the thread-safety
 *  convention).
 *  @param options  BP_C_SOURCE_FLOAT, or the flags above.
 *  @return BP_OK; BP_ERROR_NULL_ARGUMENT; BP_ERROR_INVALID_ARGUMENT (a path not ending in
 *          ".c", a prefix that is no such identifier, an unknown flag, or
 *          BP_C_SOURCE_INT32_ACCUMULATE without BP_C_SOURCE_INT8); BP_ERROR_IO;
 *          BP_ERROR_OUT_OF_MEMORY. */
bp_status bp_export_c_source(const bp_network *net, const char *path, const char *prefix, uint32_t options);

#ifdef __cplusplus
}
#endif

#endif /* BACKPROP_H */
