/*
 * test_api.h — what the files of the test_api program share: the list of its cases, and
 * the helpers that cases in more than one topic file use (heap copies of exact size, a
 * double-precision reference model, parameter and gradient getters that check their
 * status, the XOR data set, option getters). test_api tests the libbackprop C ABI against
 * include/backprop.h only; Tests/c/harness.h is the harness.
 *
 * The program is test_api_main.c (the suite table and main()) and one file per topic,
 * test_api_<topic>.c; each case is a function case_NAME() of a topic file, run by name.
 * Every file defines _POSIX_C_SOURCE 200809L and includes this header first; the helpers
 * are static (and marked unused), like the harness's.
 */
#ifndef BACKPROP_TESTS_TEST_API_H
#define BACKPROP_TESTS_TEST_API_H

#if !defined(_POSIX_C_SOURCE)
#error "define _POSIX_C_SOURCE 200809L before including test_api.h (as every file of test_api does)"
#endif

#define HARNESS_MULTI_FILE /* one program of several files: see Tests/c/harness.h */
#include "harness.h"

#include <float.h>

/*-************************************************************************
 *  The cases, in the order they run, with the file that holds each group.
 *  X(name): the case "name" is the function case_name(void).
 **************************************************************************/
#define TEST_API_CASES(X)                                                                                      \
    /* test_api_status.c */                                                                                    \
    X(version) X(kernels) X(status_strings) X(last_error)                                                      \
    /* test_api_create.c */                                                                                    \
    X(create_and_sizes) X(create_errors) X(create_limits) X(create_out_of_memory)                              \
    /* test_api_numerics.c */                                                                                  \
    X(numerics) X(forward)                                                                                     \
    /* test_api_training.c */                                                                                  \
    X(forward_errors) X(backward_errors) X(update) X(train_step) X(parameters)                                 \
    /* test_api_numerics.c */                                                                                  \
    X(softmax_cross_entropy)                                                                                   \
    /* test_api_threads.c */                                                                                   \
    X(xor_learning) X(threads) X(predict) X(set_threads)                                                       \
    /* test_api_optimizers.c */                                                                                \
    X(options) X(optimizers)                                                                                   \
    /* test_api_fit.c */                                                                                       \
    X(fit) X(evaluate) X(diverged)                                                                             \
    /* test_api_model_files.c */                                                                               \
    X(model_files)                                                                                             \
    /* test_api_initialize.c */                                                                                \
    X(initialize)                                                                                              \
    /* test_api_schedules.c */                                                                                 \
    X(schedules)                                                                                               \
    /* test_api_weights.c */                                                                                   \
    X(weights)                                                                                                 \
    /* test_api_scaling.c */                                                                                   \
    X(scaling)                                                                                                 \
    /* test_api_metrics.c */                                                                                   \
    X(metrics)                                                                                                 \
    /* test_api_dropout.c */                                                                                   \
    X(dropout)                                                                                                 \
    /* test_api_onnx.c */                                                                                      \
    X(onnx_export) X(onnx_import_errors) X(c_source)                                                        \
    /* test_api_distributed.c */                                                                               \
    X(distributed)                                                                                             \
    /* test_api_distributed_failures.c */                                                                      \
    X(distributed_failures)

#define TEST_API_DECLARE_CASE(name) void case_##name(void);
TEST_API_CASES(TEST_API_DECLARE_CASE)
#undef TEST_API_DECLARE_CASE

/*-************************************************************************
 *  Helpers (the harness is Tests/c/harness.h)
 **************************************************************************/
/* Heap copies of exactly n elements, so valgrind reports any read past the end. */
HARNESS_UNUSED static float *dup_floats(const float *src, size_t n)
{
    float *p = xmalloc(n * sizeof *p);
    if (n > 0)
        memcpy(p, src, n * sizeof *p);
    return p;
}

HARNESS_UNUSED static float *alloc_floats(size_t n, float fill)
{
    float *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = fill;
    return p;
}

HARNESS_UNUSED static float rng_range(double lo, double hi)
{
    return (float)(lo + (hi - lo) * rng_unit());
}

/*-************************************************************************
 *  Network descriptions and a double-precision reference model
 **************************************************************************/
#define MAX_WIDTH 32

HARNESS_UNUSED static double ref_activation(int32_t act, double z)
{
    switch (act) {
    case BP_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case BP_TANH: return tanh(z);
    case BP_RELU: return z > 0.0 ? z : 0.0;
    case BP_LEAKY_RELU: return z > 0.0 ? z : 0.01 * z;
    case BP_LINEAR: return z;
    case BP_SOFTPLUS: return (z > 0.0 ? z : 0.0) + log1p(exp(-fabs(z)));
    case BP_ELU: return z > 0.0 ? z : expm1(z);
    default: return NAN;
    }
}

/* a^L for one sample, from parameters p in the header's flat layout. */
HARNESS_UNUSED static void ref_forward_sample(const net_desc *d, const double *p, const float *x, double *out)
{
    double a[MAX_WIDTH], next[MAX_WIDTH];
    size_t off = 0;
    for (size_t k = 0; k < d->sizes[0]; k++)
        a[k] = x[k];
    for (size_t l = 1; l < d->layers; l++) {
        size_t n_in = d->sizes[l - 1], n_out = d->sizes[l];
        const double *W = p + off;
        const double *b = p + off + n_out * n_in;
        for (size_t j = 0; j < n_out; j++) {
            double z = b[j];
            for (size_t k = 0; k < n_in; k++)
                z += W[j * n_in + k] * a[k];
            next[j] = z;
        }
        if (d->acts[l - 1] == BP_SOFTMAX) {
            double m = next[0], sum = 0.0;
            for (size_t j = 1; j < n_out; j++)
                if (next[j] > m)
                    m = next[j];
            for (size_t j = 0; j < n_out; j++) {
                next[j] = exp(next[j] - m);
                sum += next[j];
            }
            for (size_t j = 0; j < n_out; j++)
                next[j] /= sum;
        } else {
            for (size_t j = 0; j < n_out; j++)
                next[j] = ref_activation(d->acts[l - 1], next[j]);
        }
        memcpy(a, next, n_out * sizeof a[0]);
        off += n_out * n_in + n_out;
    }
    memcpy(out, a, desc_output_size(d) * sizeof a[0]);
}

HARNESS_UNUSED static double ref_sample_loss(const net_desc *d, const double *a, const float *y)
{
    size_t n = desc_output_size(d);
    double c = 0.0;
    for (size_t j = 0; j < n; j++) {
        double r = a[j] - y[j];
        if (d->loss == BP_LOSS_MSE) {
            c += 0.5 * r * r;
        } else if (d->loss == BP_LOSS_HUBER) { /* δ = 1, BP_OPTION_HUBER_DELTA's default */
            c += fabs(r) <= 1.0 ? 0.5 * r * r : fabs(r) - 0.5;
        } else if (d->loss == BP_LOSS_L1) {
            c += fabs(r);
        } else if (d->acts[d->layers - 2] == BP_SOFTMAX) {
            if (y[j] != 0.0f)
                c -= y[j] * log(a[j]);
        } else {
            if (y[j] != 0.0f)
                c -= y[j] * log(a[j]);
            if (y[j] != 1.0f)
                c -= (1.0 - y[j]) * log(1.0 - a[j]);
        }
    }
    return c;
}

HARNESS_UNUSED static double ref_mean_loss(const net_desc *d, const double *p, const float *x, const float *y,
                                           size_t batch)
{
    double a[MAX_WIDTH], sum = 0.0;
    size_t n_in = d->sizes[0], n_out = desc_output_size(d);
    for (size_t s = 0; s < batch; s++) {
        ref_forward_sample(d, p, x + s * n_in, a);
        sum += ref_sample_loss(d, a, y + s * n_out);
    }
    return sum / (double)batch;
}

/* Targets the loss accepts: one-hot rows for softmax + cross-entropy, [0, 1] for a sigmoid
 * or softmax output, [-1, 1] otherwise. */
HARNESS_UNUSED static void fill_targets(const net_desc *d, float *y, size_t batch)
{
    size_t n = desc_output_size(d);
    int32_t out_act = d->acts[d->layers - 2];
    for (size_t s = 0; s < batch; s++) {
        float *row = y + s * n;
        if (d->loss == BP_LOSS_CROSS_ENTROPY && out_act == BP_SOFTMAX) {
            size_t cls = (size_t)(rng_unit() * (double)n);
            for (size_t j = 0; j < n; j++)
                row[j] = j == cls ? 1.0f : 0.0f;
        } else if (out_act == BP_SIGMOID || out_act == BP_SOFTMAX) {
            for (size_t j = 0; j < n; j++)
                row[j] = rng_range(0.0, 1.0);
        } else {
            for (size_t j = 0; j < n; j++)
                row[j] = rng_range(-1.0, 1.0);
        }
    }
}

/*-************************************************************************
 *  Small helpers on a live network
 **************************************************************************/
HARNESS_UNUSED static float *get_params_at(const bp_network *net, size_t *count, const char *file, int line)
{
    size_t n = bp_parameter_count(net);
    float *p = alloc_floats(n, 0.0f);
    expect_status_at(bp_get_parameters(net, p, n), BP_OK, NULL, file, line, "bp_get_parameters(...)");
    if (count != NULL)
        *count = n;
    return p;
}
#define GET_PARAMS(net, countp) get_params_at((net), (countp), __FILE__, __LINE__)

/* 1 if the network's parameters are bit-identical to ref[0..n). */
HARNESS_UNUSED static int params_equal(const bp_network *net, const float *ref, size_t n)
{
    float *p;
    int same;
    if (bp_parameter_count(net) != n)
        return 0;
    p = alloc_floats(n, 0.0f);
    same = bp_get_parameters(net, p, n) == BP_OK && memcmp(p, ref, n * sizeof *p) == 0;
    free(p);
    return same;
}

/* The network's model bytes, allocated (free them); *size receives their count. */
HARNESS_UNUSED static unsigned char *save_model_at(const bp_network *net, size_t *size, const char *file, int line)
{
    unsigned char *buf;
    *size = 0;
    expect_status_at(bp_save_to_buffer(net, NULL, 0, size), BP_OK, NULL, file, line, "bp_save_to_buffer(size)");
    buf = xmalloc(*size > 0 ? *size : 1);
    expect_status_at(bp_save_to_buffer(net, buf, *size, size), BP_OK, NULL, file, line, "bp_save_to_buffer(...)");
    return buf;
}
#define SAVE_MODEL(net, sizep) save_model_at((net), (sizep), __FILE__, __LINE__)

/* 1 if two networks' parameters are bit-identical. */
HARNESS_UNUSED static int same_params(const bp_network *a, const bp_network *b)
{
    size_t n = 0;
    float *p = GET_PARAMS(a, &n);
    int same = params_equal(b, p, n);
    free(p);
    return same;
}

HARNESS_UNUSED static float *get_grads_at(const bp_network *net, const char *file, int line)
{
    size_t n = bp_parameter_count(net);
    float *g = alloc_floats(n, 0.0f);
    expect_status_at(bp_get_gradients(net, g, n), BP_OK, NULL, file, line, "bp_get_gradients(...)");
    return g;
}
#define GET_GRADS(net) get_grads_at((net), __FILE__, __LINE__)

/*-************************************************************************
 *  The XOR data set
 **************************************************************************/
HARNESS_UNUSED static const float XOR_X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
HARNESS_UNUSED static const float XOR_Y[4] = {0, 1, 1, 0};
HARNESS_UNUSED static const net_desc XOR_NET = {3, {2, 4, 1}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE};

/* A seed for which 2-4-1 sigmoid/MSE learns XOR with XOR_LR in XOR_STEPS full-batch steps. */
#define XOR_SEED 1u
#define XOR_LR 3.0f
#define XOR_STEPS 4000

/*-************************************************************************
 *  Sentinels and options
 **************************************************************************/
/* *out is preset to SENTINEL to see that a failed call (bp_create, bp_load_from_buffer) clears it. */
HARNESS_UNUSED static double g_sentinel_storage;
#define SENTINEL ((bp_network *)(void *)&g_sentinel_storage)

/* The option keys are 1..OPTION_COUNT (include/backprop.h). */
#define OPTION_COUNT 23

HARNESS_UNUSED static double get_option_at(const bp_network *net, int32_t key, const char *file, int line)
{
    double v = NAN;
    expect_status_at(bp_get_option(net, key, &v), BP_OK, NULL, file, line, "bp_get_option(...)");
    return v;
}
#define GET_OPTION(net, key) get_option_at((net), (key), __FILE__, __LINE__)

#endif /* BACKPROP_TESTS_TEST_API_H */
