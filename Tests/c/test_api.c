/*
 * test_api.c — tests of the libbackprop C ABI, written against include/backprop.h only.
 *
 * Every function of the header is called, on its happy path and on its documented error
 * paths, each error checked for its exact status and a non-empty bp_last_error():
 *  - version, ABI version, status strings (every status, unknown values), last error
 *    (thread-local, "" on a fresh thread, kept by successful calls);
 *  - bp_create: sizes, limits (1024 layers, 2^24 units, out of memory), every argument
 *    error, *out cleared on failure, Glorot/He initialisation bounds, seeds;
 *  - forward, outputs and loss against a double-precision reference model, gradients
 *    against finite differences of it (every activation, MSE and both cross-entropies,
 *    softmax with MSE), bp_update's rule, the forward/backward/update state machine,
 *    bp_train_step, parameters round trips, softmax/cross-entropy stability;
 *  - XOR learning, determinism, different networks on different threads;
 *  - bp_predict (also from several threads at once), bp_set_threads (bit-identical
 *    results for 1, 2 and 3 threads), options and every optimizer against its rule,
 *    bp_fit (history, callback, target loss, early stopping, validation, errors),
 *    bp_evaluate (loss, accuracy rules), divergence, model files and buffers (round
 *    trips with pending gradients and optimizer state, damaged models, I/O errors).
 *
 * Each test case runs in its own process (this program re-executed with "--child NAME"),
 * so a crash or trap in the library is reported as a failed case and the remaining cases
 * still run; under valgrind (--trace-children=yes) or AddressSanitizer each case also gets
 * its own error and leak check. Set BP_TEST_NO_FORK=1 to run everything in one process
 * (for a debugger); pass a case name to run only that case.
 *
 * Build (scripts/test-c does this):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/c/test_api.c \
 *      -L.build/release -lbackprop -Wl,-rpath,<lib dir> -lm -pthread
 *
 * Output: one line per failed check ("FAIL file:line [case]: message"), one line per
 * case, and finally the line "N passed, M failed". Exit status 0 only if M is 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h"

#include <float.h>

/*-************************************************************************
 *  Helpers (the harness is Tests/c/harness.h)
 **************************************************************************/
/* Heap copies of exactly n elements, so valgrind reports any read past the end. */
static float *dup_floats(const float *src, size_t n)
{
    float *p = xmalloc(n * sizeof *p);
    if (n > 0)
        memcpy(p, src, n * sizeof *p);
    return p;
}

static float *alloc_floats(size_t n, float fill)
{
    float *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = fill;
    return p;
}

static float rng_range(double lo, double hi)
{
    return (float)(lo + (hi - lo) * rng_unit());
}

/*-************************************************************************
 *  Network descriptions and a double-precision reference model
 **************************************************************************/
#define MAX_WIDTH 32

static double ref_activation(int32_t act, double z)
{
    switch (act) {
    case BP_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case BP_TANH: return tanh(z);
    case BP_RELU: return z > 0.0 ? z : 0.0;
    case BP_LEAKY_RELU: return z > 0.0 ? z : 0.01 * z;
    case BP_LINEAR: return z;
    default: return NAN;
    }
}

/* a^L for one sample, from parameters p in the header's flat layout. */
static void ref_forward_sample(const net_desc *d, const double *p, const float *x, double *out)
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

static double ref_sample_loss(const net_desc *d, const double *a, const float *y)
{
    size_t n = desc_output_size(d);
    double c = 0.0;
    for (size_t j = 0; j < n; j++) {
        if (d->loss == BP_LOSS_MSE) {
            c += 0.5 * (a[j] - y[j]) * (a[j] - y[j]);
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

static double ref_mean_loss(const net_desc *d, const double *p, const float *x, const float *y, size_t batch)
{
    double a[MAX_WIDTH], sum = 0.0;
    size_t n_in = d->sizes[0], n_out = desc_output_size(d);
    for (size_t s = 0; s < batch; s++) {
        ref_forward_sample(d, p, x + s * n_in, a);
        sum += ref_sample_loss(d, a, y + s * n_out);
    }
    return sum / (double)batch;
}

/*-************************************************************************
 *  Small helpers on a live network
 **************************************************************************/
static float *get_params_at(const bp_network *net, size_t *count, const char *file, int line)
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
static int params_equal(const bp_network *net, const float *ref, size_t n)
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

static float *get_grads_at(const bp_network *net, const char *file, int line)
{
    size_t n = bp_parameter_count(net);
    float *g = alloc_floats(n, 0.0f);
    expect_status_at(bp_get_gradients(net, g, n), BP_OK, NULL, file, line, "bp_get_gradients(...)");
    return g;
}
#define GET_GRADS(net) get_grads_at((net), __FILE__, __LINE__)

static const float XOR_X[8] = {0, 0, 0, 1, 1, 0, 1, 1};
static const float XOR_Y[4] = {0, 1, 1, 0};
static const net_desc XOR_NET = {3, {2, 4, 1}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE};

/* A seed for which 2-4-1 sigmoid/MSE learns XOR with XOR_LR in XOR_STEPS full-batch steps. */
#define XOR_SEED 1u
#define XOR_LR 3.0f
#define XOR_STEPS 4000

/* Trains with bp_train_step on the XOR batch; returns 1 if every step succeeded. */
static int train_xor(bp_network *net, int steps, float lr)
{
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4);
    int ok = 1;
    for (int i = 0; i < steps && ok; i++)
        ok = bp_train_step(net, x, y, 4, lr, NULL) == BP_OK;
    free(x);
    free(y);
    return ok;
}

/* Mean loss on the XOR batch at the current parameters (forward + backward, no update). */
static float xor_loss(bp_network *net, float *outputs4)
{
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4);
    float loss = -1.0f;
    EXPECT_OK(bp_forward(net, x, 4, outputs4));
    EXPECT_OK(bp_backward(net, y, 4, &loss));
    free(x);
    free(y);
    return loss;
}

/*-************************************************************************
 *  Cases: version, status strings, last error
 **************************************************************************/
static void case_version(void)
{
    char expected[64];
    const char *v = bp_version();
    CHECK(bp_abi_version() == BP_ABI_VERSION, "bp_abi_version() = %u, BP_ABI_VERSION = %u",
          (unsigned)bp_abi_version(), (unsigned)BP_ABI_VERSION);
    CHECK(v != NULL, "bp_version() is NULL");
    if (v == NULL)
        return;
    CHECK(strcmp(v, BP_VERSION_STRING) == 0, "bp_version() = \"%s\", BP_VERSION_STRING = \"%s\"", v,
          BP_VERSION_STRING);
    CHECK(bp_version() == v, "bp_version() is not one static string (two calls, two pointers)");
    snprintf(expected, sizeof expected, "%d.%d.%d", BP_VERSION_MAJOR, BP_VERSION_MINOR, BP_VERSION_PATCH);
    CHECK(strcmp(expected, BP_VERSION_STRING) == 0, "BP_VERSION_STRING \"%s\" disagrees with MAJOR.MINOR.PATCH \"%s\"",
          BP_VERSION_STRING, expected);
}

static void case_kernels(void)
{
    const char *k = bp_kernels();
    const char *forced = getenv("BACKPROP_KERNELS");
    CHECK(k != NULL, "bp_kernels() is NULL");
    if (k == NULL)
        return;
    CHECK(strcmp(k, "avx512") == 0 || strcmp(k, "portable") == 0, "bp_kernels() = \"%s\"", k);
    CHECK(bp_kernels() == k, "bp_kernels() is not one static string (two calls, two pointers)");
    if (forced != NULL && strcmp(forced, "portable") == 0)
        CHECK(strcmp(k, "portable") == 0, "BACKPROP_KERNELS=portable, yet bp_kernels() = \"%s\"", k);
}

#define LAST_STATUS BP_ERROR_CORRUPT_MODEL

static void case_status_strings(void)
{
    const bp_status unknown[] = {12345, -1, LAST_STATUS + 1, INT32_MAX, INT32_MIN};
    const char *known[LAST_STATUS + 1];
    const char *unknown0 = bp_status_string(12345);
    for (bp_status s = 0; s <= LAST_STATUS; s++) {
        known[s] = bp_status_string(s);
        CHECK(known[s] != NULL && strlen(known[s]) > 0, "bp_status_string(%d) is NULL or empty", (int)s);
    }
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *u = bp_status_string(unknown[i]);
        CHECK(u != NULL && strlen(u) > 0, "bp_status_string(%d) (an unknown value) is NULL or empty",
              (int)unknown[i]);
    }
    /* Each known status has its own description, different from the unknown one. */
    for (int i = 0; i <= LAST_STATUS; i++) {
        if (known[i] == NULL)
            continue;
        if (unknown0 != NULL)
            CHECK(strcmp(known[i], unknown0) != 0, "bp_status_string(%d) = \"%s\" is the unknown-status text", i,
                  known[i]);
        for (int j = i + 1; j <= LAST_STATUS; j++)
            if (known[j] != NULL)
                CHECK(strcmp(known[i], known[j]) != 0, "bp_status_string(%d) and (%d) are both \"%s\"", i, j,
                      known[i]);
    }
}

typedef struct {
    int initially_empty;   /* bp_last_error() was "" when the thread started */
    int failed_as_expected;
    char message[512];     /* bp_last_error() after the thread's own failure */
} error_thread_result;

static void *error_thread(void *arg)
{
    error_thread_result *r = arg;
    const char *e = bp_last_error();
    r->initially_empty = e != NULL && e[0] == '\0';
    r->failed_as_expected = bp_update(NULL, 0.5f) == BP_ERROR_NULL_ARGUMENT;
    e = bp_last_error();
    snprintf(r->message, sizeof r->message, "%s", e != NULL ? e : "");
    return NULL;
}

static void case_last_error(void)
{
    char saved[512];
    const char *e = bp_last_error();
    pthread_t t;
    error_thread_result r;
    bp_network *net;

    /* Fresh process (each case runs in a new child): no call has failed yet. */
    CHECK(e != NULL && strcmp(e, "") == 0, "bp_last_error() before any failure is \"%s\", expected \"\"",
          last_error());

    EXPECT_ERR(bp_update(NULL, 1.0f), BP_ERROR_NULL_ARGUMENT, "net");
    snprintf(saved, sizeof saved, "%s", last_error());
    CHECK(strlen(saved) > 0, "no message after a failure");

    /* Successful calls do not clear it. */
    net = CREATE_DESC(&XOR_NET, 1);
    CHECK(bp_parameter_count(net) == 17, "parameter count");
    (void)bp_version();
    CHECK(strcmp(last_error(), saved) == 0, "a successful call changed bp_last_error() from \"%s\" to \"%s\"",
          saved, last_error());

    /* Thread-local: a new thread starts with "", and its failure does not touch ours. */
    memset(&r, 0, sizeof r);
    CHECK(pthread_create(&t, NULL, error_thread, &r) == 0, "pthread_create");
    pthread_join(t, NULL);
    CHECK(r.initially_empty, "bp_last_error() on a new thread is not \"\" (another thread's message leaked?)");
    CHECK(r.failed_as_expected, "bp_update(NULL, 0.5) on another thread did not return BP_ERROR_NULL_ARGUMENT");
    CHECK(strlen(r.message) > 0, "bp_last_error() on the other thread is empty after its failure");
    CHECK(strcmp(last_error(), saved) == 0, "another thread's failure changed this thread's message to \"%s\"",
          last_error());

    /* A new failure replaces the message. */
    EXPECT_ERR(bp_get_parameters(net, NULL, 17), BP_ERROR_NULL_ARGUMENT, "out");
    bp_destroy(net);
}

/*-************************************************************************
 *  Cases: lifecycle
 **************************************************************************/
static void check_init_bounds(const char *label, const net_desc *d, uint64_t seed)
{
    bp_network *net = CREATE_DESC(d, seed);
    size_t n = 0, off = 0;
    float *p;
    if (net == NULL)
        return;
    p = GET_PARAMS(net, &n);
    CHECK(n == desc_param_count(d), "%s: bp_parameter_count = %zu, expected %zu", label, n, desc_param_count(d));
    for (size_t l = 1; l < d->layers && n == desc_param_count(d); l++) {
        size_t n_in = d->sizes[l - 1], n_out = d->sizes[l], nw = n_in * n_out;
        int32_t act = d->acts[l - 1];
        int he = act == BP_RELU || act == BP_LEAKY_RELU;
        double r = he ? sqrt(6.0 / (double)n_in) : sqrt(6.0 / (double)(n_in + n_out));
        double max_abs = 0.0;
        int biases_zero = 1, in_range = 1;
        for (size_t i = 0; i < nw; i++) {
            double w = fabs((double)p[off + i]);
            if (!(w <= r * (1.0 + 1e-6)))
                in_range = 0;
            if (w > max_abs)
                max_abs = w;
        }
        for (size_t j = 0; j < n_out; j++)
            if (p[off + nw + j] != 0.0f)
                biases_zero = 0;
        CHECK(in_range, "%s: layer %zu has a weight outside [-r, r], r = %g (%s)", label, l, r, he ? "He" : "Glorot");
        CHECK(biases_zero, "%s: layer %zu biases are not all 0 after bp_create", label, l);
        if (nw >= 32) /* ~certain for uniform weights; catches all-zero or badly scaled init */
            CHECK(max_abs > r / 2.0, "%s: layer %zu max |w| = %g, suspiciously small for r = %g", label, l, max_abs, r);
        off += nw + n_out;
    }
    free(p);
    bp_destroy(net);
}

static void case_create_and_sizes(void)
{
    const net_desc mixed = {4, {8, 16, 12, 4}, {BP_RELU, BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const net_desc leaky = {3, {9, 7, 3}, {BP_LEAKY_RELU, BP_LINEAR}, BP_LOSS_MSE};
    const net_desc wide_sig = {3, {10, 20, 5}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&XOR_NET, 7), *a, *b, *c;
    float *pa, *pb, *pc;

    if (net != NULL) {
        CHECK(bp_input_size(net) == 2, "bp_input_size = %zu", bp_input_size(net));
        CHECK(bp_output_size(net) == 1, "bp_output_size = %zu", bp_output_size(net));
        CHECK(bp_parameter_count(net) == 17, "bp_parameter_count = %zu, expected 4*2+4+1*4+1 = 17",
              bp_parameter_count(net));
        CHECK(bp_layer_count(net) == 3, "bp_layer_count = %zu", bp_layer_count(net));
        CHECK(bp_layer_size(net, 0) == 2, "bp_layer_size(0) = %zu", bp_layer_size(net, 0));
        CHECK(bp_layer_size(net, 1) == 4, "bp_layer_size(1) = %zu", bp_layer_size(net, 1));
        CHECK(bp_layer_size(net, 2) == 1, "bp_layer_size(2) = %zu", bp_layer_size(net, 2));
        CHECK(bp_layer_size(net, 3) == 0, "bp_layer_size(3) (out of range) = %zu", bp_layer_size(net, 3));
        CHECK(bp_layer_size(net, SIZE_MAX) == 0, "bp_layer_size(SIZE_MAX) = %zu", bp_layer_size(net, SIZE_MAX));
        bp_destroy(net);
    }

    /* NULL handles: the getters return 0, bp_destroy is a no-op. */
    CHECK(bp_input_size(NULL) == 0, "bp_input_size(NULL) = %zu", bp_input_size(NULL));
    CHECK(bp_output_size(NULL) == 0, "bp_output_size(NULL) = %zu", bp_output_size(NULL));
    CHECK(bp_parameter_count(NULL) == 0, "bp_parameter_count(NULL) = %zu", bp_parameter_count(NULL));
    CHECK(bp_layer_count(NULL) == 0, "bp_layer_count(NULL) = %zu", bp_layer_count(NULL));
    CHECK(bp_layer_size(NULL, 0) == 0, "bp_layer_size(NULL, 0) = %zu", bp_layer_size(NULL, 0));
    bp_destroy(NULL);
    CHECK(1, "bp_destroy(NULL) returned");

    /* A bigger network's sizes. */
    net = CREATE_DESC(&mixed, 3);
    if (net != NULL) {
        CHECK(bp_parameter_count(net) == desc_param_count(&mixed), "bp_parameter_count = %zu, expected %zu",
              bp_parameter_count(net), desc_param_count(&mixed));
        CHECK(bp_layer_count(net) == 4 && bp_layer_size(net, 1) == 16 && bp_layer_size(net, 2) == 12 &&
                  bp_input_size(net) == 8 && bp_output_size(net) == 4,
              "sizes of 8-16-12-4");
        bp_destroy(net);
    }

    /* Initialisation: biases 0, weights within the Glorot / He bound of each layer. */
    check_init_bounds("2-4-1 sigmoid", &XOR_NET, XOR_SEED);
    check_init_bounds("8-16-12-4 relu/tanh/softmax", &mixed, 11);
    check_init_bounds("9-7-3 leaky/linear", &leaky, 12);
    check_init_bounds("10-20-5 sigmoid", &wide_sig, 13);

    /* Seeds: same seed, same bits; different seeds, different parameters; extremes are fine. */
    a = CREATE_DESC(&mixed, 42);
    b = CREATE_DESC(&mixed, 42);
    c = CREATE_DESC(&mixed, 43);
    if (a != NULL && b != NULL && c != NULL) {
        size_t n = 0;
        pa = GET_PARAMS(a, &n);
        pb = GET_PARAMS(b, NULL);
        pc = GET_PARAMS(c, NULL);
        CHECK(memcmp(pa, pb, n * sizeof *pa) == 0, "two networks from seed 42 differ");
        CHECK(memcmp(pa, pc, n * sizeof *pa) != 0, "seeds 42 and 43 give identical parameters");
        free(pa);
        free(pb);
        free(pc);
    }
    bp_destroy(a);
    bp_destroy(b);
    bp_destroy(c);
    a = CREATE_DESC(&XOR_NET, 0);
    b = CREATE_DESC(&XOR_NET, UINT64_MAX);
    if (a != NULL && b != NULL) {
        pa = GET_PARAMS(a, NULL);
        pb = GET_PARAMS(b, NULL);
        CHECK(memcmp(pa, pb, 17 * sizeof *pa) != 0, "seeds 0 and UINT64_MAX give identical parameters");
        CHECK(all_finite(pa, 17) && all_finite(pb, 17), "non-finite initial parameters");
        free(pa);
        free(pb);
    }
    bp_destroy(a);
    bp_destroy(b);

    /* Every valid architecture is accepted: any hidden activation, CE with sigmoid or
     * softmax output, MSE with any output activation (softmax included). */
    for (int32_t hidden = BP_SIGMOID; hidden <= BP_LINEAR; hidden++) {
        for (int32_t out = BP_SIGMOID; out <= BP_SOFTMAX; out++) {
            net_desc d = {3, {3, 4, 2}, {0, 0}, BP_LOSS_MSE};
            d.acts[0] = hidden;
            d.acts[1] = out;
            net = CREATE_DESC(&d, 5);
            CHECK(net != NULL, "MSE with activations {%d, %d} was refused", (int)hidden, (int)out);
            bp_destroy(net);
            if (out == BP_SIGMOID || out == BP_SOFTMAX) {
                d.loss = BP_LOSS_CROSS_ENTROPY;
                net = CREATE_DESC(&d, 5);
                CHECK(net != NULL, "cross-entropy with activations {%d, %d} was refused", (int)hidden, (int)out);
                bp_destroy(net);
            }
        }
    }
}

static double g_sentinel_storage; /* *out is preset to its address to see that bp_create clears it */
#define SENTINEL ((bp_network *)(void *)&g_sentinel_storage)

/* Runs a bp_create that must fail with `want`, with exact-size heap copies of the arrays,
 * and checks that *out was set to NULL. */
static void create_fail_at(const size_t *sizes, size_t n_sizes, size_t layer_count, const int32_t *acts,
                           size_t n_acts, int32_t loss, bp_status want, const char *arg, const char *file, int line,
                           const char *what)
{
    size_t *s = xmalloc(n_sizes * sizeof *s);
    int32_t *a = xmalloc(n_acts * sizeof *a);
    bp_network *out = SENTINEL;
    bp_status got;
    memcpy(s, sizes, n_sizes * sizeof *s);
    memcpy(a, acts, n_acts * sizeof *a);
    got = bp_create(s, layer_count, a, loss, 1, &out);
    expect_status_at(got, want, arg, file, line, what);
    check_at(out == NULL, file, line, "%s: *out is %s after a failed bp_create, expected NULL", what,
             out == SENTINEL ? "unchanged" : "not NULL");
    if (got == BP_OK && out != NULL && out != SENTINEL)
        bp_destroy(out);
    free(s);
    free(a);
}
#define CREATE_FAIL(S, count, A, loss, want, arg)                                                                \
    create_fail_at((S), sizeof(S) / sizeof((S)[0]), (count), (A), sizeof(A) / sizeof((A)[0]), (loss), (want),   \
                   (arg), __FILE__, __LINE__, "bp_create(" #S ", " #count ", " #A ", " #loss ")")

static void case_create_errors(void)
{
    const size_t s241[] = {2, 4, 1};
    const int32_t sig2[] = {BP_SIGMOID, BP_SIGMOID};
    const size_t s_zero_first[] = {0, 4, 1}, s_zero_mid[] = {2, 0, 1}, s_zero_last[] = {2, 4, 0};
    const size_t s_big[] = {(size_t)BP_MAX_LAYER_SIZE + 1, 1};
    const size_t s_big_last[] = {2, (size_t)BP_MAX_LAYER_SIZE + 1};
    const size_t s_huge[] = {SIZE_MAX / 2, 3, 1};
    const size_t s_sizemax[] = {2, SIZE_MAX, SIZE_MAX};
    const int32_t bad42[] = {42, BP_SIGMOID}, bad_neg[] = {BP_SIGMOID, -1}, bad6[] = {BP_SOFTMAX + 1, BP_SIGMOID};
    const int32_t bad_min[] = {BP_TANH, INT32_MIN};
    const int32_t softmax_hidden[] = {BP_SOFTMAX, BP_SIGMOID}, softmax_hidden2[] = {BP_SOFTMAX, BP_SOFTMAX};
    const int32_t ce_tanh[] = {BP_SIGMOID, BP_TANH}, ce_relu[] = {BP_SIGMOID, BP_RELU};
    const int32_t ce_leaky[] = {BP_SIGMOID, BP_LEAKY_RELU}, ce_linear[] = {BP_SIGMOID, BP_LINEAR};
    size_t *many = xmalloc((BP_MAX_LAYER_COUNT + 1) * sizeof *many);
    int32_t *many_acts = xmalloc(BP_MAX_LAYER_COUNT * sizeof *many_acts);
    bp_network *out;

    /* NULL pointers. */
    out = SENTINEL;
    EXPECT_ERR(bp_create(NULL, 3, sig2, BP_LOSS_MSE, 1, &out), BP_ERROR_NULL_ARGUMENT, "layer_sizes");
    CHECK(out == NULL, "*out not set to NULL when layer_sizes is NULL");
    out = SENTINEL;
    EXPECT_ERR(bp_create(s241, 3, NULL, BP_LOSS_MSE, 1, &out), BP_ERROR_NULL_ARGUMENT, "activations");
    CHECK(out == NULL, "*out not set to NULL when activations is NULL");
    EXPECT_ERR(bp_create(s241, 3, sig2, BP_LOSS_MSE, 1, NULL), BP_ERROR_NULL_ARGUMENT, "out");

    /* layer_count < 2 and zero sizes. */
    CREATE_FAIL(s241, 0, sig2, BP_LOSS_MSE, BP_ERROR_INVALID_ARGUMENT, "layer_count");
    CREATE_FAIL(s241, 1, sig2, BP_LOSS_MSE, BP_ERROR_INVALID_ARGUMENT, "layer_count");
    CREATE_FAIL(s_zero_first, 3, sig2, BP_LOSS_MSE, BP_ERROR_INVALID_ARGUMENT, "layer_sizes");
    CREATE_FAIL(s_zero_mid, 3, sig2, BP_LOSS_MSE, BP_ERROR_INVALID_ARGUMENT, "layer_sizes");
    CREATE_FAIL(s_zero_last, 3, sig2, BP_LOSS_MSE, BP_ERROR_INVALID_ARGUMENT, "layer_sizes");

    /* Limits and overflow. On LP64 the limits already keep the parameter count far below
     * SIZE_MAX (at most 1023 * (2^48 + 2^24)), so sizes that would overflow the product
     * are caught as "a layer above BP_MAX_LAYER_SIZE": the status is the same. */
    for (size_t i = 0; i <= BP_MAX_LAYER_COUNT; i++)
        many[i] = 1;
    for (size_t i = 0; i < BP_MAX_LAYER_COUNT; i++)
        many_acts[i] = BP_SIGMOID;
    out = SENTINEL;
    EXPECT_ERR(bp_create(many, BP_MAX_LAYER_COUNT + 1, many_acts, BP_LOSS_MSE, 1, &out), BP_ERROR_SIZE_OVERFLOW,
               "layer_count");
    CHECK(out == NULL, "*out not set to NULL for %d layers", BP_MAX_LAYER_COUNT + 1);
    CREATE_FAIL(s_big, 2, sig2, BP_LOSS_MSE, BP_ERROR_SIZE_OVERFLOW, "layer_sizes");
    CREATE_FAIL(s_big_last, 2, sig2, BP_LOSS_MSE, BP_ERROR_SIZE_OVERFLOW, "layer_sizes");
    CREATE_FAIL(s_huge, 3, sig2, BP_LOSS_MSE, BP_ERROR_SIZE_OVERFLOW, "layer_sizes");
    CREATE_FAIL(s_sizemax, 3, sig2, BP_LOSS_MSE, BP_ERROR_SIZE_OVERFLOW, "layer_sizes");

    /* Unknown enums. */
    CREATE_FAIL(s241, 3, bad42, BP_LOSS_MSE, BP_ERROR_UNKNOWN_ENUM, "activations");
    CREATE_FAIL(s241, 3, bad_neg, BP_LOSS_MSE, BP_ERROR_UNKNOWN_ENUM, "activations");
    CREATE_FAIL(s241, 3, bad6, BP_LOSS_MSE, BP_ERROR_UNKNOWN_ENUM, "activations");
    CREATE_FAIL(s241, 3, bad_min, BP_LOSS_MSE, BP_ERROR_UNKNOWN_ENUM, "activations");
    CREATE_FAIL(s241, 3, sig2, 2, BP_ERROR_UNKNOWN_ENUM, "loss");
    CREATE_FAIL(s241, 3, sig2, -1, BP_ERROR_UNKNOWN_ENUM, "loss");
    CREATE_FAIL(s241, 3, sig2, 42, BP_ERROR_UNKNOWN_ENUM, "loss");

    /* Invalid architectures. */
    CREATE_FAIL(s241, 3, softmax_hidden, BP_LOSS_MSE, BP_ERROR_INVALID_ARCHITECTURE, "activations");
    CREATE_FAIL(s241, 3, softmax_hidden2, BP_LOSS_CROSS_ENTROPY, BP_ERROR_INVALID_ARCHITECTURE, "activations");
    CREATE_FAIL(s241, 3, ce_tanh, BP_LOSS_CROSS_ENTROPY, BP_ERROR_INVALID_ARCHITECTURE, NULL);
    CREATE_FAIL(s241, 3, ce_relu, BP_LOSS_CROSS_ENTROPY, BP_ERROR_INVALID_ARCHITECTURE, NULL);
    CREATE_FAIL(s241, 3, ce_leaky, BP_LOSS_CROSS_ENTROPY, BP_ERROR_INVALID_ARCHITECTURE, NULL);
    CREATE_FAIL(s241, 3, ce_linear, BP_LOSS_CROSS_ENTROPY, BP_ERROR_INVALID_ARCHITECTURE, NULL);

    free(many);
    free(many_acts);
}

static void case_create_limits(void)
{
    size_t *sizes = xmalloc(BP_MAX_LAYER_COUNT * sizeof *sizes);
    int32_t *acts = xmalloc((BP_MAX_LAYER_COUNT - 1) * sizeof *acts);
    bp_network *net = NULL;
    float x = 0.5f, y = 0.25f, loss = -1.0f;

    /* Exactly BP_MAX_LAYER_COUNT layers is allowed, and trains. */
    for (size_t i = 0; i < BP_MAX_LAYER_COUNT; i++)
        sizes[i] = 1;
    for (size_t i = 0; i + 1 < BP_MAX_LAYER_COUNT; i++)
        acts[i] = i % 2 ? BP_TANH : BP_LINEAR;
    EXPECT_OK(bp_create(sizes, BP_MAX_LAYER_COUNT, acts, BP_LOSS_MSE, 9, &net));
    if (net != NULL) {
        CHECK(bp_layer_count(net) == BP_MAX_LAYER_COUNT, "bp_layer_count = %zu", bp_layer_count(net));
        CHECK(bp_parameter_count(net) == 2 * (BP_MAX_LAYER_COUNT - 1), "bp_parameter_count = %zu",
              bp_parameter_count(net));
        EXPECT_OK(bp_train_step(net, &x, &y, 1, 0.1f, &loss));
        CHECK(isfinite(loss), "loss of the %d-layer network is %g", BP_MAX_LAYER_COUNT, (double)loss);
        bp_destroy(net);
    }

    /* A layer of exactly BP_MAX_LAYER_SIZE units is allowed. */
    sizes[0] = BP_MAX_LAYER_SIZE;
    sizes[1] = 1;
    acts[0] = BP_LINEAR;
    net = NULL;
    EXPECT_OK(bp_create(sizes, 2, acts, BP_LOSS_MSE, 9, &net));
    if (net != NULL) {
        CHECK(bp_input_size(net) == BP_MAX_LAYER_SIZE, "bp_input_size = %zu", bp_input_size(net));
        CHECK(bp_parameter_count(net) == (size_t)BP_MAX_LAYER_SIZE + 1, "bp_parameter_count = %zu",
              bp_parameter_count(net));
        bp_destroy(net);
    }
    free(sizes);
    free(acts);
}

static void case_create_out_of_memory(void)
{
    /* 2^24 x 2^24 weights = 2^50 bytes: within the limits, no size_t overflow, more memory
     * than any machine (and than the 47-bit user address space) has. */
    const size_t sizes[] = {BP_MAX_LAYER_SIZE, BP_MAX_LAYER_SIZE};
    const int32_t acts[] = {BP_LINEAR};
    CREATE_FAIL(sizes, 2, acts, BP_LOSS_MSE, BP_ERROR_OUT_OF_MEMORY, NULL);
}

/*-************************************************************************
 *  Cases: numerics against the reference model
 **************************************************************************/
static void fill_targets(const net_desc *d, float *y, size_t batch)
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

static void describe(const net_desc *d, char *buf, size_t cap)
{
    static const char *names[] = {"sigmoid", "tanh", "relu", "leaky", "linear", "softmax"};
    size_t used = 0;
    for (size_t l = 0; l < d->layers && used < cap; l++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%zu", l ? "-" : "", d->sizes[l]);
    for (size_t l = 0; l + 1 < d->layers && used < cap; l++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", l ? "/" : " ", names[d->acts[l]]);
    if (used < cap)
        snprintf(buf + used, cap - used, " %s", d->loss == BP_LOSS_MSE ? "MSE" : "CE");
}

/* Forward outputs, loss and gradients of `d` against the reference; then bp_update. */
static void check_network_math(const net_desc *d, size_t batch, uint64_t data_seed)
{
    char label[128];
    bp_network *net = CREATE_DESC(d, data_seed);
    size_t P = desc_param_count(d), n_in = d->sizes[0], n_out = desc_output_size(d);
    float *pf, *x, *y, *out, *g, *g2, *after;
    double *pd, *ref = xmalloc(batch * n_out * sizeof *ref);
    double worst = 0.0, ref_loss;
    size_t worst_i = 0;
    float loss = -1.0f, loss2 = -2.0f;
    const float lr = 0.25f;
    const double h = 1e-5;

    describe(d, label, sizeof label);
    if (net == NULL) {
        free(ref);
        return;
    }
    CHECK(bp_parameter_count(net) == P, "%s: bp_parameter_count = %zu, expected %zu", label,
          bp_parameter_count(net), P);
    if (bp_parameter_count(net) != P) {
        bp_destroy(net);
        free(ref);
        return;
    }

    rng_seed(data_seed * 7919u + 1u);
    pf = alloc_floats(P, 0.0f);
    pd = xmalloc(P * sizeof *pd);
    for (size_t i = 0; i < P; i++) {
        pf[i] = rng_range(-1.0, 1.0);
        pd[i] = pf[i];
    }
    x = alloc_floats(batch * n_in, 0.0f);
    for (size_t i = 0; i < batch * n_in; i++)
        x[i] = rng_range(-1.0, 1.0);
    y = alloc_floats(batch * n_out, 0.0f);
    fill_targets(d, y, batch);
    out = alloc_floats(batch * n_out + 4, 999.0f);
    EXPECT_OK(bp_set_parameters(net, pf, P));

    /* Forward against the reference, and nothing written past the outputs. */
    EXPECT_OK(bp_forward(net, x, batch, out));
    for (size_t s = 0; s < batch; s++)
        ref_forward_sample(d, pd, x + s * n_in, ref + s * n_out);
    for (size_t i = 0; i < batch * n_out; i++) {
        double err = fabs((double)out[i] - ref[i]) / (1e-5 + 1e-4 * fabs(ref[i]));
        if (!(err <= worst)) {
            worst = err;
            worst_i = i;
        }
    }
    CHECK(worst <= 1.0, "%s: forward output[%zu] = %.9g, reference %.9g", label, worst_i, (double)out[worst_i],
          ref[worst_i]);
    CHECK(out[batch * n_out] == 999.0f && out[batch * n_out + 3] == 999.0f, "%s: bp_forward wrote past the outputs",
          label);

    /* Loss: mean over the batch of the header's C. */
    EXPECT_OK(bp_backward(net, y, batch, &loss));
    ref_loss = ref_mean_loss(d, pd, x, y, batch);
    CHECK(fabs((double)loss - ref_loss) <= 1e-5 + 1e-4 * fabs(ref_loss), "%s: loss %.9g, reference %.9g", label,
          (double)loss, ref_loss);

    /* Gradients against central differences of the reference loss. */
    g = alloc_floats(P + 4, 999.0f);
    EXPECT_OK(bp_get_gradients(net, g, P));
    CHECK(g[P] == 999.0f && g[P + 3] == 999.0f, "%s: bp_get_gradients wrote past count", label);
    worst = 0.0;
    worst_i = 0;
    {
        double worst_num = 0.0;
        for (size_t i = 0; i < P; i++) {
            double keep = pd[i], lp, lm, num, err;
            pd[i] = keep + h;
            lp = ref_mean_loss(d, pd, x, y, batch);
            pd[i] = keep - h;
            lm = ref_mean_loss(d, pd, x, y, batch);
            pd[i] = keep;
            num = (lp - lm) / (2.0 * h);
            err = fabs((double)g[i] - num) / (1e-4 + 1e-3 * fabs(num));
            if (!(err <= worst)) {
                worst = err;
                worst_i = i;
                worst_num = num;
            }
        }
        CHECK(worst <= 1.0, "%s: gradient[%zu] = %.9g, finite difference %.9g (of %zu)", label, worst_i,
              (double)g[worst_i], worst_num, P);
    }

    /* A second bp_backward on the same forward gives the same bits (nothing was consumed). */
    EXPECT_OK(bp_backward(net, y, batch, &loss2));
    g2 = alloc_floats(P, 0.0f);
    EXPECT_OK(bp_get_gradients(net, g2, P));
    CHECK(memcmp(&loss, &loss2, sizeof loss) == 0 && memcmp(g, g2, P * sizeof *g) == 0,
          "%s: a second bp_backward after one bp_forward gave different loss/gradients", label);

    /* bp_update: p - lr * g; the gradients stay available afterwards. */
    EXPECT_OK(bp_update(net, lr));
    after = GET_PARAMS(net, NULL);
    worst = 0.0;
    for (size_t i = 0; i < P; i++) {
        double expect = (double)pf[i] - (double)lr * (double)g[i];
        double err = fabs((double)after[i] - expect) / (1e-6 + 1e-6 * fabs(expect));
        if (!(err <= worst)) {
            worst = err;
            worst_i = i;
        }
    }
    CHECK(worst <= 1.0, "%s: after bp_update(%g) parameter[%zu] = %.9g, expected %.9g", label, (double)lr, worst_i,
          (double)after[worst_i], (double)pf[worst_i] - (double)lr * (double)g[worst_i]);
    memset(g2, 0, P * sizeof *g2);
    EXPECT_OK(bp_get_gradients(net, g2, P));
    CHECK(memcmp(g, g2, P * sizeof *g) == 0, "%s: gradients changed by bp_update", label);

    free(pf);
    free(pd);
    free(x);
    free(y);
    free(out);
    free(g);
    free(g2);
    free(after);
    free(ref);
    bp_destroy(net);
}

static void case_numerics(void)
{
    static const net_desc nets[] = {
        {3, {2, 4, 1}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE},
        {2, {5, 3}, {BP_TANH}, BP_LOSS_MSE},
        {4, {3, 6, 5, 4}, {BP_TANH, BP_LEAKY_RELU, BP_LINEAR}, BP_LOSS_MSE},
        {4, {3, 6, 5, 4}, {BP_TANH, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY},
        {3, {4, 3, 2}, {BP_LINEAR, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY},
        {3, {3, 4, 3}, {BP_SIGMOID, BP_SOFTMAX}, BP_LOSS_MSE},
        {5, {2, 7, 6, 5, 2}, {BP_LEAKY_RELU, BP_SIGMOID, BP_RELU, BP_TANH}, BP_LOSS_MSE},
        {3, {6, 9, 5}, {BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY},
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        check_network_math(&nets[i], 5, 100 + i);
        check_network_math(&nets[i], 1, 200 + i);
    }
}

static void case_forward(void)
{
    const net_desc d = {3, {3, 5, 2}, {BP_TANH, BP_SIGMOID}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&d, 21);
    float *x, *y, *all, *one, *small;
    float loss_a = -1.0f, loss_b = -2.0f;
    double worst = 0.0;
    if (net == NULL)
        return;
    rng_seed(77);
    x = alloc_floats(7 * 3, 0.0f);
    for (size_t i = 0; i < 7 * 3; i++)
        x[i] = rng_range(-2.0, 2.0);
    y = alloc_floats(7 * 2, 0.5f);
    all = alloc_floats(7 * 2, 0.0f);
    one = alloc_floats(2, 0.0f);
    small = alloc_floats(2 * 2, 0.0f);

    /* Batches of different sizes, growing and shrinking; each row is independent of the others. */
    EXPECT_OK(bp_forward(net, x, 2, small));
    EXPECT_OK(bp_forward(net, x, 7, all));
    for (size_t s = 0; s < 7; s++) {
        EXPECT_OK(bp_forward(net, x + s * 3, 1, one));
        for (size_t j = 0; j < 2; j++) {
            double e = fabs((double)one[j] - (double)all[s * 2 + j]);
            if (e > worst)
                worst = e;
        }
    }
    CHECK(worst <= 1e-6, "a row of a batch of 7 differs from the same row alone by %g", worst);
    for (size_t i = 0; i < 4; i++)
        CHECK(small[i] == all[i] || fabs((double)small[i] - (double)all[i]) <= 1e-6,
              "batch 2 vs batch 7 output[%zu]: %g vs %g", i, (double)small[i], (double)all[i]);

    /* outputs may be NULL; the kept activations are the same either way. */
    EXPECT_OK(bp_forward(net, x, 7, NULL));
    EXPECT_OK(bp_backward(net, y, 7, &loss_a));
    EXPECT_OK(bp_forward(net, x, 7, all));
    EXPECT_OK(bp_backward(net, y, 7, &loss_b));
    CHECK(loss_a == loss_b, "loss after a forward with outputs NULL (%g) differs from with outputs (%g)",
          (double)loss_a, (double)loss_b);
    /* loss may be NULL. */
    EXPECT_OK(bp_backward(net, y, 7, NULL));
    /* A later, smaller forward replaces the kept batch. */
    EXPECT_OK(bp_forward(net, x, 2, NULL));
    EXPECT_OK(bp_backward(net, y, 2, NULL));
    EXPECT_ERR(bp_backward(net, y, 7, NULL), BP_ERROR_STATE, NULL);

    free(x);
    free(y);
    free(all);
    free(one);
    free(small);
    bp_destroy(net);
}

/*-************************************************************************
 *  Cases: error paths of training calls
 **************************************************************************/

/* "On failure nothing observable has changed": after a good forward of 4 and a failing
 * bp_forward, the kept activations are still those of the good one. */
#define FORWARD_FAIL(net, call, want, arg)                                                                       \
    do {                                                                                                         \
        EXPECT_OK(bp_forward((net), x, 4, NULL));                                                                \
        EXPECT_ERR(call, want, arg);                                                                             \
        EXPECT_OK(bp_backward((net), y, 4, NULL));                                                               \
    } while (0)

static void case_forward_errors(void)
{
    bp_network *net = CREATE_DESC(&XOR_NET, 5);
    const net_desc d3 = {3, {3, 4, 1}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE};
    bp_network *net3 = CREATE_DESC(&d3, 5);
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *bad = dup_floats(XOR_X, 8);
    float *x3 = alloc_floats(12, 0.5f), *out = alloc_floats(4, 777.0f), *p0;
    bp_status s;
    int untouched = 1;
    size_t n = 0;
    if (net == NULL || net3 == NULL) {
        bp_destroy(net);
        bp_destroy(net3);
        free(x);
        free(y);
        free(bad);
        free(x3);
        free(out);
        return;
    }
    p0 = GET_PARAMS(net, &n);

    EXPECT_ERR(bp_forward(NULL, x, 4, out), BP_ERROR_NULL_ARGUMENT, "net");
    FORWARD_FAIL(net, bp_forward(net, NULL, 4, out), BP_ERROR_NULL_ARGUMENT, "inputs");
    FORWARD_FAIL(net, bp_forward(net, x, 0, out), BP_ERROR_INVALID_ARGUMENT, "batch");

    /* Non-finite inputs, anywhere in the batch; the outputs are not touched. */
    bad[7] = NAN;
    FORWARD_FAIL(net, bp_forward(net, bad, 4, out), BP_ERROR_NON_FINITE, "inputs");
    for (size_t i = 0; i < 4; i++)
        if (out[i] != 777.0f)
            untouched = 0;
    CHECK(untouched, "a failed bp_forward (NaN input) wrote to outputs");
    bad[7] = XOR_X[7];
    bad[0] = INFINITY;
    FORWARD_FAIL(net, bp_forward(net, bad, 4, out), BP_ERROR_NON_FINITE, "inputs");
    bad[0] = XOR_X[0];
    bad[4] = -INFINITY;
    FORWARD_FAIL(net, bp_forward(net, bad, 4, out), BP_ERROR_NON_FINITE, "inputs");

    /* batch x width overflows size_t: rejected before the (small) buffers are read. */
    FORWARD_FAIL(net, bp_forward(net, x, SIZE_MAX / 2 + 1, out), BP_ERROR_SIZE_OVERFLOW, "batch");
    FORWARD_FAIL(net, bp_forward(net, x, SIZE_MAX, out), BP_ERROR_SIZE_OVERFLOW, "batch");
    FORWARD_FAIL(net, bp_forward(net, x, SIZE_MAX, NULL), BP_ERROR_SIZE_OVERFLOW, "batch");
    EXPECT_OK(bp_forward(net3, x3, 4, NULL));
    EXPECT_ERR(bp_forward(net3, x3, SIZE_MAX / 2, NULL), BP_ERROR_SIZE_OVERFLOW, "batch");
    EXPECT_OK(bp_backward(net3, y, 4, NULL));
    /* Here batch x n_0 = SIZE_MAX/2 + 1 floats fits in size_t but not its bytes, nor
     * batch x n_1 (4 units). Either status is a correct refusal; reading is not. */
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    s = bp_forward(net, x, SIZE_MAX / 4 + 1, NULL);
    CHECK(s == BP_ERROR_SIZE_OVERFLOW || s == BP_ERROR_OUT_OF_MEMORY,
          "bp_forward(net, x, SIZE_MAX/4+1, NULL) returned %s, expected BP_ERROR_SIZE_OVERFLOW or "
          "BP_ERROR_OUT_OF_MEMORY; bp_last_error() = \"%s\"",
          status_name(s), last_error());
    CHECK(strlen(last_error()) > 0, "empty bp_last_error()");
    EXPECT_OK(bp_backward(net, y, 4, NULL));

    CHECK(params_equal(net, p0, n), "failed bp_forward calls changed the parameters");
    /* And the network still works. */
    EXPECT_OK(bp_forward(net, x, 4, out));
    EXPECT_OK(bp_backward(net, y, 4, NULL));

    free(p0);
    free(x);
    free(y);
    free(bad);
    free(x3);
    free(out);
    bp_destroy(net);
    bp_destroy(net3);
}

static void case_backward_errors(void)
{
    bp_network *net = CREATE_DESC(&XOR_NET, 5);
    float *x = dup_floats(XOR_X, 8), *y = alloc_floats(8, 0.5f), *bad = dup_floats(XOR_Y, 4);
    float *p0, *g0, *g1, *tmp = alloc_floats(17, 0.0f);
    float loss0 = -1.0f, loss1 = -2.0f;
    size_t n = 0;
    if (net == NULL) {
        free(x);
        free(y);
        free(bad);
        free(tmp);
        return;
    }
    memcpy(y, XOR_Y, sizeof XOR_Y);
    p0 = GET_PARAMS(net, &n);

    /* Nothing to backpropagate yet; no gradients yet. */
    EXPECT_ERR(bp_backward(net, y, 4, NULL), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_get_gradients(net, tmp, 17), BP_ERROR_STATE, NULL);
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_ERR(bp_get_gradients(net, tmp, 17), BP_ERROR_STATE, NULL);

    /* Arguments, with a valid forward of 4 kept. */
    EXPECT_ERR(bp_backward(NULL, y, 4, NULL), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_backward(net, NULL, 4, NULL), BP_ERROR_NULL_ARGUMENT, "targets");
    EXPECT_ERR(bp_backward(net, y, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "batch");
    EXPECT_ERR(bp_backward(net, y, 3, NULL), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_backward(net, y, 5, NULL), BP_ERROR_STATE, NULL);
    bad[3] = NAN;
    EXPECT_ERR(bp_backward(net, bad, 4, NULL), BP_ERROR_NON_FINITE, "targets");
    bad[3] = XOR_Y[3];
    bad[0] = INFINITY;
    EXPECT_ERR(bp_backward(net, bad, 4, NULL), BP_ERROR_NON_FINITE, "targets");
    bad[0] = -INFINITY;
    EXPECT_ERR(bp_backward(net, bad, 4, NULL), BP_ERROR_NON_FINITE, "targets");
    bad[0] = XOR_Y[0];
    EXPECT_ERR(bp_update(net, 1.0f), BP_ERROR_STATE, NULL); /* failed backwards left no gradients */

    /* Those failures changed nothing: the kept forward still backpropagates. */
    EXPECT_OK(bp_backward(net, y, 4, &loss0));
    g0 = GET_GRADS(net);
    /* A failed backward leaves the previous gradients in place. */
    bad[2] = NAN;
    EXPECT_ERR(bp_backward(net, bad, 4, &loss1), BP_ERROR_NON_FINITE, "targets");
    g1 = GET_GRADS(net);
    CHECK(memcmp(g0, g1, 17 * sizeof *g0) == 0, "a failed bp_backward changed the gradients");
    CHECK(loss1 == -2.0f, "a failed bp_backward wrote *loss (%g)", (double)loss1);
    CHECK(params_equal(net, p0, n), "bp_backward changed the parameters");

    /* get_gradients arguments. */
    EXPECT_ERR(bp_get_gradients(NULL, tmp, 17), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_get_gradients(net, NULL, 17), BP_ERROR_NULL_ARGUMENT, "out");
    EXPECT_ERR(bp_get_gradients(net, tmp, 16), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_get_gradients(net, tmp, 18), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_get_gradients(net, tmp, 0), BP_ERROR_SIZE_MISMATCH, "count");

    /* After bp_update, the forward is used up. */
    EXPECT_OK(bp_update(net, 0.5f));
    EXPECT_ERR(bp_backward(net, y, 4, NULL), BP_ERROR_STATE, NULL);
    /* After bp_set_parameters too, and the gradients are gone. */
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_OK(bp_set_parameters(net, p0, n));
    EXPECT_ERR(bp_backward(net, y, 4, NULL), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_get_gradients(net, tmp, 17), BP_ERROR_STATE, NULL);

    free(p0);
    free(g0);
    free(g1);
    free(tmp);
    free(x);
    free(y);
    free(bad);
    bp_destroy(net);
}

static void case_update(void)
{
    bp_network *net = CREATE_DESC(&XOR_NET, 5);
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *p0, *g, *p1;
    size_t n = 0;
    double worst = 0.0;
    if (net == NULL) {
        free(x);
        free(y);
        return;
    }
    p0 = GET_PARAMS(net, &n);

    /* No gradients waiting. */
    EXPECT_ERR(bp_update(net, 0.5f), BP_ERROR_STATE, NULL);
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_ERR(bp_update(net, 0.5f), BP_ERROR_STATE, NULL);
    EXPECT_OK(bp_backward(net, y, 4, NULL));
    g = GET_GRADS(net);

    /* Bad arguments, with gradients waiting: nothing changes. */
    EXPECT_ERR(bp_update(NULL, 0.5f), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_update(net, NAN), BP_ERROR_NON_FINITE, "learning_rate");
    EXPECT_ERR(bp_update(net, INFINITY), BP_ERROR_NON_FINITE, "learning_rate");
    EXPECT_ERR(bp_update(net, -1.0f), BP_ERROR_INVALID_ARGUMENT, "learning_rate");
    EXPECT_ERR(bp_update(net, -FLT_MIN), BP_ERROR_INVALID_ARGUMENT, "learning_rate");
    CHECK(params_equal(net, p0, n), "failed bp_update calls changed the parameters");

    /* The gradients are still waiting: apply them once. */
    EXPECT_OK(bp_update(net, 0.5f));
    p1 = GET_PARAMS(net, NULL);
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)p1[i] - ((double)p0[i] - 0.5 * (double)g[i]));
        if (e > worst)
            worst = e;
    }
    CHECK(worst <= 1e-6, "bp_update(0.5) differs from p - 0.5 g by %g", worst);
    EXPECT_ERR(bp_update(net, 0.5f), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_backward(net, y, 4, NULL), BP_ERROR_STATE, NULL);
    CHECK(params_equal(net, p1, n), "a refused second bp_update changed the parameters");

    /* A learning rate of 0 (and -0, which is not < 0) changes nothing but uses the gradients. */
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_OK(bp_backward(net, y, 4, NULL));
    EXPECT_OK(bp_update(net, 0.0f));
    CHECK(params_equal(net, p1, n), "bp_update(0) changed the parameters");
    EXPECT_ERR(bp_update(net, 0.1f), BP_ERROR_STATE, NULL);
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_OK(bp_backward(net, y, 4, NULL));
    EXPECT_OK(bp_update(net, -0.0f));
    CHECK(params_equal(net, p1, n), "bp_update(-0.0) changed the parameters");

    /* A bp_forward between bp_backward and bp_update keeps the pending gradients. */
    free(g);
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_OK(bp_backward(net, y, 4, NULL));
    g = GET_GRADS(net);
    EXPECT_OK(bp_forward(net, x + 2, 3, NULL));
    EXPECT_OK(bp_update(net, 0.5f));
    free(p0);
    p0 = GET_PARAMS(net, NULL);
    worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)p0[i] - ((double)p1[i] - 0.5 * (double)g[i]));
        if (e > worst)
            worst = e;
    }
    CHECK(worst <= 1e-6, "gradients pending across a bp_forward were not applied as they were (off by %g)", worst);

    free(p0);
    free(p1);
    free(g);
    free(x);
    free(y);
    bp_destroy(net);
}

static void case_train_step(void)
{
    bp_network *a = CREATE_DESC(&XOR_NET, 8), *b = CREATE_DESC(&XOR_NET, 8);
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *bad_x = dup_floats(XOR_X, 8);
    float *bad_y = dup_floats(XOR_Y, 4), *pa, *pb, *ga, *gb, *p0, *g0, *g1;
    float la = -1.0f, lb = -2.0f, l0 = -3.0f, l1 = -4.0f, untouched = -5.0f;
    double worst = 0.0;
    size_t n = 0;
    if (a == NULL || b == NULL) {
        bp_destroy(a);
        bp_destroy(b);
        free(x);
        free(y);
        free(bad_x);
        free(bad_y);
        return;
    }

    /* bp_train_step == bp_forward + bp_backward + bp_update; loss is the pre-update loss. */
    EXPECT_OK(bp_forward(a, x, 4, NULL));
    EXPECT_OK(bp_backward(a, y, 4, &la));
    EXPECT_OK(bp_update(a, 2.0f));
    EXPECT_OK(bp_train_step(b, x, y, 4, 2.0f, &lb));
    CHECK(fabs((double)la - (double)lb) <= 1e-7, "train_step loss %.9g, forward/backward loss %.9g", (double)lb,
          (double)la);
    pa = GET_PARAMS(a, &n);
    pb = GET_PARAMS(b, NULL);
    for (size_t i = 0; i < n; i++)
        if (fabs((double)pa[i] - (double)pb[i]) > worst)
            worst = fabs((double)pa[i] - (double)pb[i]);
    CHECK(worst <= 1e-6, "train_step parameters differ from forward/backward/update by %g", worst);
    ga = GET_GRADS(a);
    gb = GET_GRADS(b); /* available after the step */
    worst = 0.0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)ga[i] - (double)gb[i]) > worst)
            worst = fabs((double)ga[i] - (double)gb[i]);
    CHECK(worst <= 1e-6, "train_step gradients differ from bp_backward's by %g", worst);
    /* The step applied its gradients and used up its forward. */
    EXPECT_ERR(bp_update(b, 1.0f), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_backward(b, y, 4, NULL), BP_ERROR_STATE, NULL);
    EXPECT_OK(bp_train_step(b, x, y, 4, 1.0f, NULL)); /* loss may be NULL */

    /* Failed steps change nothing: parameters, kept activations, waiting gradients. */
    EXPECT_OK(bp_forward(b, x, 4, NULL));
    EXPECT_OK(bp_backward(b, y, 4, &l0));
    p0 = GET_PARAMS(b, NULL);
    g0 = GET_GRADS(b);
    EXPECT_ERR(bp_train_step(NULL, x, y, 4, 1.0f, &untouched), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_train_step(b, NULL, y, 4, 1.0f, &untouched), BP_ERROR_NULL_ARGUMENT, "inputs");
    EXPECT_ERR(bp_train_step(b, x, NULL, 4, 1.0f, &untouched), BP_ERROR_NULL_ARGUMENT, "targets");
    EXPECT_ERR(bp_train_step(b, x, y, 0, 1.0f, &untouched), BP_ERROR_INVALID_ARGUMENT, "batch");
    bad_x[5] = NAN;
    EXPECT_ERR(bp_train_step(b, bad_x, y, 4, 1.0f, &untouched), BP_ERROR_NON_FINITE, "inputs");
    bad_y[1] = INFINITY;
    EXPECT_ERR(bp_train_step(b, x, bad_y, 4, 1.0f, &untouched), BP_ERROR_NON_FINITE, "targets");
    EXPECT_ERR(bp_train_step(b, x, y, 4, NAN, &untouched), BP_ERROR_NON_FINITE, "learning_rate");
    EXPECT_ERR(bp_train_step(b, x, y, 4, INFINITY, &untouched), BP_ERROR_NON_FINITE, "learning_rate");
    EXPECT_ERR(bp_train_step(b, x, y, 4, -0.5f, &untouched), BP_ERROR_INVALID_ARGUMENT, "learning_rate");
    EXPECT_ERR(bp_train_step(b, x, y, SIZE_MAX / 2 + 1, 1.0f, &untouched), BP_ERROR_SIZE_OVERFLOW, "batch");
    CHECK(untouched == -5.0f, "a failed bp_train_step wrote *loss (%g)", (double)untouched);
    CHECK(params_equal(b, p0, n), "failed bp_train_step calls changed the parameters");
    g1 = GET_GRADS(b);
    CHECK(memcmp(g0, g1, n * sizeof *g0) == 0, "failed bp_train_step calls changed the waiting gradients");
    /* "All arguments are validated before anything changes": the forward kept before the
     * failed steps is still there. */
    EXPECT_OK(bp_backward(b, y, 4, &l1));
    CHECK(l0 == l1, "loss from the kept forward changed after failed steps: %g then %g", (double)l0, (double)l1);
    EXPECT_OK(bp_update(b, 1.0f));

    free(pa);
    free(pb);
    free(ga);
    free(gb);
    free(p0);
    free(g0);
    free(g1);
    free(x);
    free(y);
    free(bad_x);
    free(bad_y);
    bp_destroy(a);
    bp_destroy(b);
}

/*-************************************************************************
 *  Cases: parameters
 **************************************************************************/
static void case_parameters(void)
{
    bp_network *net = CREATE_DESC(&XOR_NET, 5);
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4);
    float *p0, *buf = alloc_floats(17 + 4, 999.0f), *odd = alloc_floats(17, 0.0f), *bad;
    size_t n = 0;
    if (net == NULL) {
        free(x);
        free(y);
        free(buf);
        free(odd);
        return;
    }
    p0 = GET_PARAMS(net, &n);
    CHECK(n == 17, "parameter count %zu", n);
    bad = dup_floats(p0, n);

    /* get: exactly count floats; round trip through set is bit-exact. */
    EXPECT_OK(bp_get_parameters(net, buf, 17));
    CHECK(buf[17] == 999.0f && buf[20] == 999.0f, "bp_get_parameters wrote past count");
    EXPECT_OK(bp_set_parameters(net, buf, 17));
    CHECK(params_equal(net, p0, n), "get -> set -> get is not bit-exact");

    /* Unusual but finite values survive bit for bit. */
    odd[0] = -0.0f;
    odd[1] = FLT_MIN / 4.0f; /* subnormal */
    odd[2] = FLT_MAX;
    odd[3] = -FLT_MAX;
    odd[4] = FLT_MIN;
    odd[5] = 1e-45f;
    for (size_t i = 6; i < 17; i++)
        odd[i] = (float)i / 3.0f - 2.0f;
    EXPECT_OK(bp_set_parameters(net, odd, 17));
    CHECK(params_equal(net, odd, 17), "set_parameters with -0, subnormals, FLT_MAX is not bit-exact on get");
    EXPECT_OK(bp_set_parameters(net, p0, 17));

    /* Argument errors. */
    EXPECT_ERR(bp_get_parameters(NULL, buf, 17), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_get_parameters(net, NULL, 17), BP_ERROR_NULL_ARGUMENT, "out");
    EXPECT_ERR(bp_get_parameters(net, buf, 16), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_get_parameters(net, buf, 18), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_get_parameters(net, buf, 0), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_set_parameters(NULL, p0, 17), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_set_parameters(net, NULL, 17), BP_ERROR_NULL_ARGUMENT, "in");
    EXPECT_ERR(bp_set_parameters(net, p0, 16), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_set_parameters(net, buf, 18), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_set_parameters(net, p0, 0), BP_ERROR_SIZE_MISMATCH, "count");

    /* Non-finite values: refused, nothing changed (not even a prefix). */
    bad[16] = NAN;
    EXPECT_ERR(bp_set_parameters(net, bad, 17), BP_ERROR_NON_FINITE, "in");
    CHECK(params_equal(net, p0, n), "a refused bp_set_parameters (NaN last) changed the parameters");
    bad[16] = p0[16];
    for (size_t i = 0; i < 17; i++)
        bad[i] += 1.0f;
    bad[8] = INFINITY;
    EXPECT_ERR(bp_set_parameters(net, bad, 17), BP_ERROR_NON_FINITE, "in");
    CHECK(params_equal(net, p0, n), "a refused bp_set_parameters (+Inf in the middle) changed the parameters");
    bad[8] = p0[8];
    bad[0] = -INFINITY;
    EXPECT_ERR(bp_set_parameters(net, bad, 17), BP_ERROR_NON_FINITE, "in");
    bad[0] = NAN;
    EXPECT_ERR(bp_set_parameters(net, bad, 17), BP_ERROR_NON_FINITE, "in");
    CHECK(params_equal(net, p0, n), "refused bp_set_parameters calls changed the parameters");

    /* A refused set keeps the forward and the waiting gradients... */
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_ERR(bp_set_parameters(net, bad, 17), BP_ERROR_NON_FINITE, "in");
    EXPECT_OK(bp_backward(net, y, 4, NULL));
    EXPECT_ERR(bp_set_parameters(net, bad, 17), BP_ERROR_NON_FINITE, "in");
    EXPECT_OK(bp_get_gradients(net, buf, 17));
    EXPECT_OK(bp_update(net, 0.5f));
    /* ...a successful one discards both. */
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_OK(bp_backward(net, y, 4, NULL));
    EXPECT_OK(bp_set_parameters(net, p0, 17));
    EXPECT_ERR(bp_update(net, 0.5f), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_get_gradients(net, buf, 17), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_backward(net, y, 4, NULL), BP_ERROR_STATE, NULL);
    CHECK(params_equal(net, p0, n), "parameters after set are not the ones set");

    free(p0);
    free(bad);
    free(buf);
    free(odd);
    free(x);
    free(y);
    bp_destroy(net);
}

/*-************************************************************************
 *  Cases: softmax and cross-entropy
 **************************************************************************/
static void case_softmax_cross_entropy(void)
{
    const net_desc d = {3, {3, 8, 4}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const net_desc ds = {2, {2, 3}, {BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&d, 31), *sig = CREATE_DESC(&ds, 31);
    float *x = alloc_floats(6 * 3, 0.0f), *y = alloc_floats(6 * 4, 0.0f), *out = alloc_floats(6 * 4, 0.0f);
    float *p, *g, loss = -1.0f;
    size_t n = 0;
    int rows_ok = 1, range_ok = 1;
    double worst = 0.0;
    if (net == NULL || sig == NULL) {
        bp_destroy(net);
        bp_destroy(sig);
        free(x);
        free(y);
        free(out);
        return;
    }
    rng_seed(5);
    for (size_t i = 0; i < 18; i++)
        x[i] = rng_range(-3.0, 3.0);

    /* Rows of a softmax output are probability vectors. */
    EXPECT_OK(bp_forward(net, x, 6, out));
    for (size_t s = 0; s < 6; s++) {
        double sum = 0.0;
        for (size_t j = 0; j < 4; j++) {
            sum += out[s * 4 + j];
            if (!(out[s * 4 + j] >= 0.0f && out[s * 4 + j] <= 1.0f))
                range_ok = 0;
        }
        if (fabs(sum - 1.0) > worst)
            worst = fabs(sum - 1.0);
    }
    CHECK(worst <= 1e-5, "a softmax row sums to 1 %+g", worst);
    CHECK(range_ok, "a softmax output is outside [0, 1]");

    /* Huge logits: still finite probability vectors. */
    p = GET_PARAMS(net, &n);
    for (size_t i = 0; i < n; i++)
        p[i] *= 300.0f;
    EXPECT_OK(bp_set_parameters(net, p, n));
    EXPECT_OK(bp_forward(net, x, 6, out));
    worst = 0.0;
    for (size_t s = 0; s < 6; s++) {
        double sum = 0.0;
        for (size_t j = 0; j < 4; j++) {
            if (!isfinite(out[s * 4 + j]))
                rows_ok = 0;
            sum += out[s * 4 + j];
        }
        if (fabs(sum - 1.0) > worst)
            worst = fabs(sum - 1.0);
    }
    CHECK(rows_ok && worst <= 1e-5, "softmax with logits in the thousands: finite %d, sum off by %g", rows_ok, worst);

    /* Saturated softmax: output weights 0, biases {+200, -200, -200, -200}, so a = (1, 0, 0, 0)
     * in float. With the target class 0 the true loss is ~1e-174: it must come out ~0, not NaN
     * (0 * ln 0) or inf; with class 1 the gradients must stay finite (delta = a - y). */
    for (size_t i = 8 * 3 + 8; i < n; i++) /* layer 2: W (4 x 8), then b (4) */
        p[i] = 0.0f;
    p[n - 4] = 200.0f;
    p[n - 3] = p[n - 2] = p[n - 1] = -200.0f;
    EXPECT_OK(bp_set_parameters(net, p, n));
    for (size_t s = 0; s < 6; s++)
        for (size_t j = 0; j < 4; j++)
            y[s * 4 + j] = j == 0 ? 1.0f : 0.0f;
    EXPECT_OK(bp_forward(net, x, 6, out));
    EXPECT_OK(bp_backward(net, y, 6, &loss));
    CHECK(isfinite(loss) && loss >= 0.0f && loss <= 1e-6f, "saturated softmax, right class: loss %g, expected ~0",
          (double)loss);
    g = GET_GRADS(net);
    CHECK(all_finite(g, n), "saturated softmax, right class: non-finite gradients");
    free(g);
    for (size_t s = 0; s < 6; s++)
        for (size_t j = 0; j < 4; j++)
            y[s * 4 + j] = j == 1 ? 1.0f : 0.0f;
    EXPECT_OK(bp_backward(net, y, 6, &loss));
    /* The true loss is ~400; a clamped log gives less, which the header allows. */
    CHECK(!isnan(loss) && loss > 10.0f, "saturated softmax, wrong class: loss %g, expected large (~400)",
          (double)loss);
    g = GET_GRADS(net);
    CHECK(all_finite(g, n), "saturated softmax, wrong class: non-finite gradients");
    free(g);
    free(p);

    /* Saturated sigmoid cross-entropy: a = (1, ~2e-22, 1) with targets (1, 0, 1): loss ~0. */
    {
        float ps[2 * 3 + 3] = {0, 0, 0, 0, 0, 0, 50.0f, -50.0f, 50.0f};
        float ys[2 * 3] = {1, 0, 1, 1, 0, 1};
        float *pp = dup_floats(ps, 9), *yy = dup_floats(ys, 6), *gg;
        EXPECT_OK(bp_set_parameters(sig, pp, 9));
        EXPECT_OK(bp_forward(sig, x, 2, NULL));
        EXPECT_OK(bp_backward(sig, yy, 2, &loss));
        CHECK(isfinite(loss) && loss >= 0.0f && loss <= 1e-6f, "saturated sigmoid CE: loss %g, expected ~0",
              (double)loss);
        gg = GET_GRADS(sig);
        CHECK(all_finite(gg, 9), "saturated sigmoid CE: non-finite gradients");
        free(gg);
        free(pp);
        free(yy);
    }

    free(x);
    free(y);
    free(out);
    bp_destroy(net);
    bp_destroy(sig);
}

/*-************************************************************************
 *  Cases: learning, determinism, threads
 **************************************************************************/
static void case_xor_learning(void)
{
    bp_network *a = CREATE_DESC(&XOR_NET, XOR_SEED), *b = CREATE_DESC(&XOR_NET, XOR_SEED);
    bp_network *c = CREATE_DESC(&XOR_NET, XOR_SEED + 1);
    float out[4], loss, *pa, *pb, *pc;
    int correct = 1, trained;
    if (a == NULL || b == NULL || c == NULL) {
        bp_destroy(a);
        bp_destroy(b);
        bp_destroy(c);
        return;
    }
    trained = train_xor(a, XOR_STEPS, XOR_LR); /* before reading bp_last_error(): a failure replaces it */
    CHECK(trained, "a bp_train_step failed while training XOR: %s", last_error());
    loss = xor_loss(a, out);
    CHECK(loss < 0.01f, "XOR mean loss after %d steps (seed %u, lr %g) is %g, expected < 0.01", XOR_STEPS,
          (unsigned)XOR_SEED, (double)XOR_LR, (double)loss);
    for (size_t i = 0; i < 4; i++)
        if ((out[i] > 0.5f) != (XOR_Y[i] > 0.5f))
            correct = 0;
    CHECK(correct, "XOR predictions %.3f %.3f %.3f %.3f", (double)out[0], (double)out[1], (double)out[2],
          (double)out[3]);

    /* Same seed and same steps: bit-identical; another seed: different. */
    CHECK(train_xor(b, XOR_STEPS, XOR_LR), "training b failed");
    CHECK(train_xor(c, XOR_STEPS, XOR_LR), "training c failed");
    pa = GET_PARAMS(a, NULL);
    pb = GET_PARAMS(b, NULL);
    pc = GET_PARAMS(c, NULL);
    CHECK(memcmp(pa, pb, 17 * sizeof *pa) == 0, "same seed, same training: parameters differ");
    CHECK(memcmp(pa, pc, 17 * sizeof *pa) != 0, "seeds %u and %u end with identical parameters", (unsigned)XOR_SEED,
          (unsigned)XOR_SEED + 1u);
    free(pa);
    free(pb);
    free(pc);
    bp_destroy(a);
    bp_destroy(b);
    bp_destroy(c);
}

typedef struct {
    int ok;
    float params[17];
} train_thread_result;

static void *train_thread(void *arg)
{
    train_thread_result *r = arg;
    bp_network *net = NULL;
    size_t sizes[3] = {2, 4, 1};
    int32_t acts[2] = {BP_SIGMOID, BP_SIGMOID};
    r->ok = bp_create(sizes, 3, acts, BP_LOSS_MSE, XOR_SEED, &net) == BP_OK && train_xor(net, 1000, XOR_LR) &&
            bp_get_parameters(net, r->params, 17) == BP_OK;
    bp_destroy(net);
    return NULL;
}

static void case_threads(void)
{
    /* Different networks on different threads at the same time give the same results as
     * one network trained alone. */
    pthread_t t[2];
    train_thread_result r[3];
    memset(r, 0, sizeof r);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, train_thread, &r[i]) == 0, "pthread_create");
    train_thread(&r[2]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK(r[0].ok && r[1].ok && r[2].ok, "training on threads failed (%d %d %d)", r[0].ok, r[1].ok, r[2].ok);
    CHECK(memcmp(r[0].params, r[2].params, sizeof r[0].params) == 0 &&
              memcmp(r[1].params, r[2].params, sizeof r[1].params) == 0,
          "networks trained concurrently differ from each other or from the one trained alone");
}

/*-************************************************************************
 *  Cases: inference and threads
 **************************************************************************/
typedef struct {
    const bp_network *net;
    const float *x;
    size_t batch;
    const float *expected;
    size_t n_out;
    int rounds;
    int ok;
} predict_job;

static void *predict_thread(void *arg)
{
    predict_job *j = arg;
    float *out = alloc_floats(j->batch * j->n_out, 0.0f);
    j->ok = 1;
    for (int r = 0; r < j->rounds && j->ok; r++)
        j->ok = bp_predict(j->net, j->x, j->batch, out) == BP_OK &&
                memcmp(out, j->expected, j->batch * j->n_out * sizeof *out) == 0;
    free(out);
    return NULL;
}

static void case_predict(void)
{
    const net_desc d = {3, {3, 5, 2}, {BP_TANH, BP_SIGMOID}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&d, 41), *fresh = CREATE_DESC(&d, 41);
    float *x, *y, *bad, *of, *op, *op2, *p0;
    double worst = 0.0;
    int untouched = 1, threads_ok = 1;
    size_t n = 0;
    pthread_t t[3];
    predict_job jobs[3];
    if (net == NULL || fresh == NULL) {
        bp_destroy(net);
        bp_destroy(fresh);
        return;
    }
    rng_seed(43);
    x = alloc_floats(7 * 3, 0.0f);
    for (size_t i = 0; i < 21; i++)
        x[i] = rng_range(-2.0, 2.0);
    y = alloc_floats(7 * 2, 0.5f);
    bad = dup_floats(x, 21);
    of = alloc_floats(7 * 2, 0.0f);
    op = alloc_floats(7 * 2 + 4, 999.0f);
    op2 = alloc_floats(7 * 2, 0.0f);

    /* The same outputs as bp_forward, and nothing past them. */
    EXPECT_OK(bp_forward(net, x, 7, of));
    EXPECT_OK(bp_predict(net, x, 7, op));
    for (size_t i = 0; i < 14; i++)
        if (fabs((double)of[i] - (double)op[i]) > worst)
            worst = fabs((double)of[i] - (double)op[i]);
    CHECK(worst <= 1e-6, "bp_predict differs from bp_forward by %g", worst);
    CHECK(op[14] == 999.0f && op[17] == 999.0f, "bp_predict wrote past the outputs");

    /* It keeps nothing for bp_backward, and leaves what bp_forward kept alone. */
    EXPECT_OK(bp_predict(fresh, x, 7, op2));
    CHECK(memcmp(op, op2, 14 * sizeof *op) == 0, "two networks from one seed predict differently");
    EXPECT_ERR(bp_backward(fresh, y, 7, NULL), BP_ERROR_STATE, NULL);
    EXPECT_OK(bp_predict(net, x, 2, op2));
    EXPECT_OK(bp_backward(net, y, 7, NULL));

    /* Errors. */
    p0 = GET_PARAMS(net, &n);
    EXPECT_ERR(bp_predict(NULL, x, 7, op2), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_predict(net, NULL, 7, op2), BP_ERROR_NULL_ARGUMENT, "inputs");
    EXPECT_ERR(bp_predict(net, x, 7, NULL), BP_ERROR_NULL_ARGUMENT, "outputs");
    EXPECT_ERR(bp_predict(net, x, 0, op2), BP_ERROR_INVALID_ARGUMENT, "batch");
    for (size_t i = 0; i < 14; i++)
        op2[i] = 777.0f;
    bad[20] = NAN;
    EXPECT_ERR(bp_predict(net, bad, 7, op2), BP_ERROR_NON_FINITE, "inputs");
    for (size_t i = 0; i < 14; i++)
        if (op2[i] != 777.0f)
            untouched = 0;
    CHECK(untouched, "a failed bp_predict (NaN input) wrote to outputs");
    bad[20] = x[20];
    bad[0] = -INFINITY;
    EXPECT_ERR(bp_predict(net, bad, 7, op2), BP_ERROR_NON_FINITE, "inputs");
    EXPECT_ERR(bp_predict(net, x, SIZE_MAX / 2 + 1, op2), BP_ERROR_SIZE_OVERFLOW, "batch");
    EXPECT_ERR(bp_predict(net, x, SIZE_MAX, op2), BP_ERROR_SIZE_OVERFLOW, "batch");
    CHECK(params_equal(net, p0, n), "bp_predict changed the parameters");
    EXPECT_OK(bp_backward(net, y, 7, NULL)); /* the kept forward of 7 is still there */

    /* Any number of threads may predict with one network at once. */
    for (int i = 0; i < 3; i++) {
        jobs[i].net = net;
        jobs[i].x = x;
        jobs[i].batch = 7;
        jobs[i].expected = op;
        jobs[i].n_out = 2;
        jobs[i].rounds = 300;
        jobs[i].ok = 0;
        CHECK(pthread_create(&t[i], NULL, predict_thread, &jobs[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        threads_ok = threads_ok && jobs[i].ok;
    }
    CHECK(threads_ok, "concurrent bp_predict calls on one network failed or gave different outputs");

    free(p0);
    free(x);
    free(y);
    free(bad);
    free(of);
    free(op);
    free(op2);
    bp_destroy(net);
    bp_destroy(fresh);
}

static void case_set_threads(void)
{
    const net_desc d = {4, {64, 256, 256, 10}, {BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const size_t batch = 256;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    size_t default_threads = online < 1 ? 1 : online > 256 ? 256 : (size_t)online;
    bp_network *net = CREATE_DESC(&XOR_NET, 1);
    float *x, *y, *ref_params = NULL, *ref_out = NULL;
    size_t n = 0;
    if (net == NULL)
        return;

    CHECK(bp_thread_count(net) == default_threads, "default thread count %zu, expected the %ld online cores",
          bp_thread_count(net), online);
    EXPECT_OK(bp_set_threads(net, 1));
    CHECK(bp_thread_count(net) == 1, "bp_thread_count after bp_set_threads(1) = %zu", bp_thread_count(net));
    EXPECT_OK(bp_set_threads(net, 3));
    CHECK(bp_thread_count(net) == 3, "bp_thread_count after bp_set_threads(3) = %zu", bp_thread_count(net));
    EXPECT_OK(bp_set_threads(net, 256));
    CHECK(bp_thread_count(net) == 256, "bp_thread_count after bp_set_threads(256) = %zu", bp_thread_count(net));
    EXPECT_ERR(bp_set_threads(net, 257), BP_ERROR_INVALID_ARGUMENT, "threads");
    EXPECT_ERR(bp_set_threads(net, SIZE_MAX), BP_ERROR_INVALID_ARGUMENT, "threads");
    CHECK(bp_thread_count(net) == 256, "a refused bp_set_threads changed the count to %zu", bp_thread_count(net));
    EXPECT_OK(bp_set_threads(net, 0));
    CHECK(bp_thread_count(net) == default_threads, "bp_set_threads(0) gives %zu threads, expected the default %zu",
          bp_thread_count(net), default_threads);
    EXPECT_ERR(bp_set_threads(NULL, 2), BP_ERROR_NULL_ARGUMENT, "net");
    CHECK(bp_thread_count(NULL) == 0, "bp_thread_count(NULL) = %zu", bp_thread_count(NULL));
    bp_destroy(net);

    /* Bit-identical results for any thread count, with products big enough to be split
     * (256 x 64 x 256 multiply-adds and more), also when the count changes between steps. */
    rng_seed(91);
    x = alloc_floats(batch * 64, 0.0f);
    y = alloc_floats(batch * 10, 0.0f);
    for (size_t i = 0; i < batch * 64; i++)
        x[i] = rng_range(0.0, 1.0);
    for (size_t s = 0; s < batch; s++)
        y[s * 10 + (size_t)(rng_unit() * 10.0)] = 1.0f;
    for (size_t threads = 1; threads <= 3; threads++) {
        bp_network *b = CREATE_DESC(&d, 17);
        float *params, *out;
        if (b == NULL)
            continue;
        out = alloc_floats(batch * 10, 0.0f);
        EXPECT_OK(bp_set_threads(b, threads));
        for (int step = 0; step < 3; step++) {
            if (step == 2)
                EXPECT_OK(bp_set_threads(b, threads == 1 ? 1 : 5 - threads)); /* 2 -> 3, 3 -> 2 */
            EXPECT_OK(bp_train_step(b, x, y, batch, 0.05f, NULL));
        }
        EXPECT_OK(bp_forward(b, x, batch, out));
        params = GET_PARAMS(b, &n);
        if (ref_params == NULL) {
            ref_params = params;
            ref_out = out;
        } else {
            CHECK(memcmp(params, ref_params, n * sizeof *params) == 0,
                  "training with %zu threads gave other parameters than with 1", threads);
            CHECK(memcmp(out, ref_out, batch * 10 * sizeof *out) == 0,
                  "bp_forward with %zu threads gave other outputs than with 1", threads);
            free(params);
            free(out);
        }
        bp_destroy(b);
    }
    free(ref_params);
    free(ref_out);
    free(x);
    free(y);
}

/*-************************************************************************
 *  Cases: options and optimizers
 **************************************************************************/
#define OPTION_COUNT 12

static const double OPTION_DEFAULTS[OPTION_COUNT + 1] = {
    0.0,                          /* (no key 0) */
    BP_OPTIMIZER_SGD, 0.9, 0.9, 0.999, 1e-8, 0.0, 0.0, 1.2, 0.5, 1e-6, 50.0, 0.1,
};

static double get_option_at(const bp_network *net, int32_t key, const char *file, int line)
{
    double v = NAN;
    expect_status_at(bp_get_option(net, key, &v), BP_OK, NULL, file, line, "bp_get_option(...)");
    return v;
}
#define GET_OPTION(net, key) get_option_at((net), (key), __FILE__, __LINE__)

static int near_rel(double got, double want, double tol)
{
    return got == want || fabs(got - want) <= tol * fabs(want);
}

static void case_options(void)
{
    /* Values exactly representable in float as well as double. */
    static const double valid[OPTION_COUNT + 1] = {
        0.0, BP_OPTIMIZER_ADAM, 0.5, 0.75, 0.875, 0.0078125, 0.25, 2.0, 1.5, 0.25, 0.03125, 8.0, 0.5,
    };
    bp_network *net = CREATE_DESC(&XOR_NET, 1);
    double snapshot[OPTION_COUNT + 1], v = -1.0;
    int unchanged = 1;
    if (net == NULL)
        return;

    for (int32_t k = 1; k <= OPTION_COUNT; k++) {
        double got = GET_OPTION(net, k);
        CHECK(near_rel(got, OPTION_DEFAULTS[k], 1e-6), "option %d defaults to %.9g, the header says %.9g", (int)k,
              got, OPTION_DEFAULTS[k]);
    }
    /* Every optimizer value can be chosen. */
    for (int opt = BP_OPTIMIZER_SGD; opt <= BP_OPTIMIZER_RPROP; opt++) {
        EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, opt));
        CHECK(GET_OPTION(net, BP_OPTION_OPTIMIZER) == opt, "optimizer %d does not read back", opt);
    }
    /* Set then get, in an order where each value is valid when it is set. */
    for (int32_t k = 1; k <= OPTION_COUNT; k++) {
        EXPECT_OK(bp_set_option(net, k, valid[k]));
        CHECK(GET_OPTION(net, k) == valid[k], "option %d set to %.9g reads back as %.9g", (int)k, valid[k],
              GET_OPTION(net, k));
    }
    /* The ends of the ranges that are allowed. */
    EXPECT_OK(bp_set_option(net, BP_OPTION_MOMENTUM, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_BETA1, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_WEIGHT_DECAY, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_CLIP_NORM, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, valid[BP_OPTION_RPROP_MAX_STEP]));
    for (int32_t k = 1; k <= OPTION_COUNT; k++)
        snapshot[k] = GET_OPTION(net, k);

    /* Errors; none of them changes anything. */
    EXPECT_ERR(bp_set_option(NULL, BP_OPTION_MOMENTUM, 0.5), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_get_option(NULL, BP_OPTION_MOMENTUM, &v), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_get_option(net, BP_OPTION_MOMENTUM, NULL), BP_ERROR_NULL_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, 0, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, OPTION_COUNT + 1, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, -1, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, INT32_MAX, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_get_option(net, 0, &v), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_get_option(net, OPTION_COUNT + 1, &v), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_RPROP + 1), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, -1), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, 2.5), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_MOMENTUM, NAN), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA2, INFINITY), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_EPSILON, -INFINITY), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_CLIP_NORM, NAN), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_MOMENTUM, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_MOMENTUM, -0.1), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA1, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA1, -0.5), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA2, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_EPSILON, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_EPSILON, -1e-8), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_WEIGHT_DECAY, -0.1), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_CLIP_NORM, -1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INCREASE, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INCREASE, 0.5), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_DECREASE, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_DECREASE, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_MIN_STEP, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_MIN_STEP, -1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_MAX_STEP, valid[BP_OPTION_RPROP_MIN_STEP] / 2),
               BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, 100.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, valid[BP_OPTION_RPROP_MIN_STEP] / 2),
               BP_ERROR_INVALID_ARGUMENT, "value");
    for (int32_t k = 1; k <= OPTION_COUNT; k++)
        if (GET_OPTION(net, k) != snapshot[k])
            unchanged = 0;
    CHECK(unchanged, "a refused bp_set_option changed an option");
    CHECK(v == -1.0, "a failed bp_get_option wrote *value (%g)", v);
    bp_destroy(net);
}

/* The optimizers of the header's table, in double precision, PyTorch's conventions. */
typedef struct {
    int32_t optimizer;
    double lr, mu, beta1, beta2, eps, decay, clip, inc, dec, min_step, max_step, step0;
    size_t n, t;
    double *v, *m, *prev, *step;
} ref_optimizer;

static void ref_optimizer_init(ref_optimizer *o, size_t n)
{
    memset(o, 0, sizeof *o);
    o->optimizer = BP_OPTIMIZER_SGD;
    o->mu = OPTION_DEFAULTS[BP_OPTION_MOMENTUM];
    o->beta1 = OPTION_DEFAULTS[BP_OPTION_BETA1];
    o->beta2 = OPTION_DEFAULTS[BP_OPTION_BETA2];
    o->eps = OPTION_DEFAULTS[BP_OPTION_EPSILON];
    o->inc = OPTION_DEFAULTS[BP_OPTION_RPROP_INCREASE];
    o->dec = OPTION_DEFAULTS[BP_OPTION_RPROP_DECREASE];
    o->min_step = OPTION_DEFAULTS[BP_OPTION_RPROP_MIN_STEP];
    o->max_step = OPTION_DEFAULTS[BP_OPTION_RPROP_MAX_STEP];
    o->step0 = OPTION_DEFAULTS[BP_OPTION_RPROP_INITIAL_STEP];
    o->n = n;
    o->v = xmalloc(n * sizeof *o->v);
    o->m = xmalloc(n * sizeof *o->m);
    o->prev = xmalloc(n * sizeof *o->prev);
    o->step = xmalloc(n * sizeof *o->step);
}

static void ref_optimizer_reset(ref_optimizer *o)
{
    o->t = 0;
    for (size_t i = 0; i < o->n; i++) {
        o->v[i] = o->m[i] = o->prev[i] = 0.0;
        o->step[i] = o->step0;
    }
}

static void ref_optimizer_free(ref_optimizer *o)
{
    free(o->v);
    free(o->m);
    free(o->prev);
    free(o->step);
}

/* Sets an option on both the network and the reference. */
static void set_both_at(bp_network *net, ref_optimizer *o, int32_t key, double value, const char *file, int line)
{
    expect_status_at(bp_set_option(net, key, value), BP_OK, NULL, file, line, "bp_set_option(...)");
    switch (key) {
    case BP_OPTION_OPTIMIZER:
        if ((int32_t)value != o->optimizer) {
            o->optimizer = (int32_t)value;
            ref_optimizer_reset(o);
        }
        break;
    case BP_OPTION_MOMENTUM: o->mu = value; break;
    case BP_OPTION_BETA1: o->beta1 = value; break;
    case BP_OPTION_BETA2: o->beta2 = value; break;
    case BP_OPTION_EPSILON: o->eps = value; break;
    case BP_OPTION_WEIGHT_DECAY: o->decay = value; break;
    case BP_OPTION_CLIP_NORM: o->clip = value; break;
    case BP_OPTION_RPROP_INCREASE: o->inc = value; break;
    case BP_OPTION_RPROP_DECREASE: o->dec = value; break;
    case BP_OPTION_RPROP_MIN_STEP: o->min_step = value; break;
    case BP_OPTION_RPROP_MAX_STEP: o->max_step = value; break;
    case BP_OPTION_RPROP_INITIAL_STEP: o->step0 = value; break;
    default: break;
    }
}
#define SET_BOTH(net, o, key, value) set_both_at((net), (o), (key), (value), __FILE__, __LINE__)

static void ref_optimizer_step(ref_optimizer *o, double *theta, const float *grad)
{
    size_t n = o->n;
    double *g = xmalloc(n * sizeof *g), norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        g[i] = grad[i];
        norm += g[i] * g[i];
    }
    norm = sqrt(norm);
    if (o->clip > 0.0 && norm > o->clip) /* clipping first, then weight decay */
        for (size_t i = 0; i < n; i++)
            g[i] *= o->clip / norm;
    if (o->decay > 0.0 && o->optimizer != BP_OPTIMIZER_ADAMW)
        for (size_t i = 0; i < n; i++)
            g[i] += o->decay * theta[i];
    if (o->optimizer == BP_OPTIMIZER_ADAM || o->optimizer == BP_OPTIMIZER_ADAMW)
        o->t++;
    for (size_t i = 0; i < n; i++) {
        switch (o->optimizer) {
        case BP_OPTIMIZER_SGD:
            theta[i] -= o->lr * g[i];
            break;
        case BP_OPTIMIZER_MOMENTUM:
            o->v[i] = o->mu * o->v[i] + g[i];
            theta[i] -= o->lr * o->v[i];
            break;
        case BP_OPTIMIZER_NESTEROV:
            o->v[i] = o->mu * o->v[i] + g[i];
            theta[i] -= o->lr * (g[i] + o->mu * o->v[i]);
            break;
        case BP_OPTIMIZER_ADAM:
        case BP_OPTIMIZER_ADAMW: {
            double mhat, vhat, decayed = 0.0;
            if (o->optimizer == BP_OPTIMIZER_ADAMW)
                decayed = o->lr * o->decay * theta[i];
            o->m[i] = o->beta1 * o->m[i] + (1.0 - o->beta1) * g[i];
            o->v[i] = o->beta2 * o->v[i] + (1.0 - o->beta2) * g[i] * g[i];
            mhat = o->m[i] / (1.0 - pow(o->beta1, (double)o->t));
            vhat = o->v[i] / (1.0 - pow(o->beta2, (double)o->t));
            theta[i] -= decayed + o->lr * mhat / (sqrt(vhat) + o->eps);
            break;
        }
        case BP_OPTIMIZER_RPROP: { /* iRprop-: on a sign change, shrink the step and skip */
            double s = g[i] * o->prev[i];
            if (s > 0.0) {
                o->step[i] = fmin(o->step[i] * o->inc, o->max_step);
            } else if (s < 0.0) {
                o->step[i] = fmax(o->step[i] * o->dec, o->min_step);
                g[i] = 0.0;
            }
            theta[i] -= (g[i] > 0.0 ? 1.0 : g[i] < 0.0 ? -1.0 : 0.0) * o->step[i];
            o->prev[i] = g[i];
            break;
        }
        default:
            break;
        }
    }
    free(g);
}

/* One bp_forward/bp_backward/bp_update on XOR, checked against the reference. */
static void optimizer_step_at(bp_network *net, ref_optimizer *o, const char *label, int step, const char *file,
                              int line)
{
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *before, *g, *after;
    double *theta = xmalloc(o->n * sizeof *theta), worst = 0.0;
    size_t worst_i = 0;
    expect_status_at(bp_forward(net, x, 4, NULL), BP_OK, NULL, file, line, "bp_forward(...)");
    expect_status_at(bp_backward(net, y, 4, NULL), BP_OK, NULL, file, line, "bp_backward(...)");
    before = get_params_at(net, NULL, file, line);
    g = get_grads_at(net, file, line);
    expect_status_at(bp_update(net, (float)o->lr), BP_OK, NULL, file, line, "bp_update(...)");
    after = get_params_at(net, NULL, file, line);
    for (size_t i = 0; i < o->n; i++)
        theta[i] = before[i];
    ref_optimizer_step(o, theta, g);
    for (size_t i = 0; i < o->n; i++) {
        double err = fabs((double)after[i] - theta[i]) / (2e-6 + 1e-5 * fabs(theta[i]));
        if (!(err <= worst)) {
            worst = err;
            worst_i = i;
        }
    }
    check_at(worst <= 1.0, file, line, "%s, step %d: parameter[%zu] = %.9g, the rule gives %.9g (was %.9g, g %.9g)",
             label, step, worst_i, (double)after[worst_i], theta[worst_i], (double)before[worst_i],
             (double)g[worst_i]);
    free(x);
    free(y);
    free(before);
    free(g);
    free(after);
    free(theta);
}
#define OPTIMIZER_STEP(net, o, label, step) optimizer_step_at((net), (o), (label), (step), __FILE__, __LINE__)

/* A network with random parameters, and its reference optimizer with learning rate lr. */
static bp_network *optimizer_net(ref_optimizer *o, double lr, uint64_t seed)
{
    bp_network *net = CREATE_DESC(&XOR_NET, seed);
    float p[17];
    ref_optimizer_init(o, 17);
    ref_optimizer_reset(o);
    o->lr = lr;
    rng_seed(seed);
    for (size_t i = 0; i < 17; i++)
        p[i] = rng_range(-1.0, 1.0);
    if (net != NULL)
        EXPECT_OK(bp_set_parameters(net, p, 17));
    return net;
}

static void case_optimizers(void)
{
    static const struct {
        const char *label;
        int32_t optimizer;
        double lr;
        int32_t keys[3];
        double values[3];
        int steps;
    } configs[] = {
        {"SGD", BP_OPTIMIZER_SGD, 0.5, {0}, {0}, 3},
        {"SGD + weight decay", BP_OPTIMIZER_SGD, 0.5, {BP_OPTION_WEIGHT_DECAY}, {0.1}, 3},
        {"SGD + clipping", BP_OPTIMIZER_SGD, 0.5, {BP_OPTION_CLIP_NORM}, {0.01}, 3},
        {"momentum", BP_OPTIMIZER_MOMENTUM, 0.3, {0}, {0}, 4},
        {"momentum 0.5 + clipping + decay", BP_OPTIMIZER_MOMENTUM, 0.3,
         {BP_OPTION_MOMENTUM, BP_OPTION_CLIP_NORM, BP_OPTION_WEIGHT_DECAY}, {0.5, 0.02, 0.01}, 4},
        {"Nesterov", BP_OPTIMIZER_NESTEROV, 0.3, {BP_OPTION_MOMENTUM}, {0.8}, 4},
        {"Adam", BP_OPTIMIZER_ADAM, 0.01, {0}, {0}, 4},
        {"Adam + L2 decay, betas", BP_OPTIMIZER_ADAM, 0.01, {BP_OPTION_WEIGHT_DECAY, BP_OPTION_BETA1, BP_OPTION_BETA2},
         {0.05, 0.8, 0.99}, 4},
        {"AdamW", BP_OPTIMIZER_ADAMW, 0.01, {BP_OPTION_WEIGHT_DECAY, BP_OPTION_EPSILON}, {0.1, 1e-6}, 4},
        {"Rprop (learning rate 0: ignored)", BP_OPTIMIZER_RPROP, 0.0, {0}, {0}, 6},
        {"Rprop, custom steps", BP_OPTIMIZER_RPROP, 0.0,
         {BP_OPTION_RPROP_INITIAL_STEP, BP_OPTION_RPROP_INCREASE, BP_OPTION_RPROP_DECREASE}, {0.3, 1.5, 0.25}, 6},
    };
    ref_optimizer o;
    bp_network *net;

    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        net = optimizer_net(&o, configs[c].lr, 300 + c);
        if (net != NULL) {
            /* Hyperparameters first: choosing the optimizer then starts its state (Rprop's
             * step sizes) from them. */
            for (int k = 0; k < 3 && configs[c].keys[k] != 0; k++)
                SET_BOTH(net, &o, configs[c].keys[k], configs[c].values[k]);
            SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, configs[c].optimizer);
            for (int step = 1; step <= configs[c].steps; step++)
                OPTIMIZER_STEP(net, &o, configs[c].label, step);
        }
        ref_optimizer_free(&o);
        bp_destroy(net);
    }

    /* Choosing another optimizer resets the state; changing a hyperparameter keeps it. */
    net = optimizer_net(&o, 0.3, 400);
    if (net != NULL) {
        SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_MOMENTUM);
        OPTIMIZER_STEP(net, &o, "momentum", 1);
        OPTIMIZER_STEP(net, &o, "momentum", 2);
        SET_BOTH(net, &o, BP_OPTION_MOMENTUM, 0.5); /* keeps v */
        OPTIMIZER_STEP(net, &o, "momentum after changing mu", 3);
        SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM);
        OPTIMIZER_STEP(net, &o, "Adam after momentum", 1);
        SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_MOMENTUM); /* v starts again from 0 */
        OPTIMIZER_STEP(net, &o, "momentum after Adam", 1);
        OPTIMIZER_STEP(net, &o, "momentum after Adam", 2);
    }
    ref_optimizer_free(&o);
    bp_destroy(net);

    /* bp_train_step uses the optimizer too: same result as forward/backward/update. */
    {
        bp_network *a = CREATE_DESC(&XOR_NET, 9), *b = CREATE_DESC(&XOR_NET, 9);
        float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *pa, *pb;
        double worst = 0.0;
        if (a != NULL && b != NULL) {
            EXPECT_OK(bp_set_option(a, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
            EXPECT_OK(bp_set_option(b, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
            for (int i = 0; i < 3; i++) {
                EXPECT_OK(bp_forward(a, x, 4, NULL));
                EXPECT_OK(bp_backward(a, y, 4, NULL));
                EXPECT_OK(bp_update(a, 0.01f));
                EXPECT_OK(bp_train_step(b, x, y, 4, 0.01f, NULL));
            }
            pa = GET_PARAMS(a, NULL);
            pb = GET_PARAMS(b, NULL);
            for (size_t i = 0; i < 17; i++)
                if (fabs((double)pa[i] - (double)pb[i]) > worst)
                    worst = fabs((double)pa[i] - (double)pb[i]);
            CHECK(worst <= 1e-6, "Adam through bp_train_step differs from bp_update by %g", worst);
            free(pa);
            free(pb);
        }
        free(x);
        free(y);
        bp_destroy(a);
        bp_destroy(b);
    }
}

/*-************************************************************************
 *  Cases: bp_fit, bp_evaluate, divergence
 **************************************************************************/
typedef struct {
    int calls;
    size_t epochs[16];
    int stop_after;
} progress_log;

static int progress_callback(const bp_epoch_report *report, void *user_data)
{
    progress_log *log = user_data;
    if (log->calls < 16)
        log->epochs[log->calls] = report->epoch;
    log->calls++;
    return log->stop_after > 0 && log->calls >= log->stop_after ? 0 : 1;
}

static void case_fit(void)
{
    bp_fit_options o, bad;
    bp_epoch_report *hist = xmalloc((XOR_STEPS + 1) * sizeof *hist), small[3];
    progress_log log;
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *bx = dup_floats(XOR_X, 8), *by = dup_floats(XOR_Y, 4);
    float loss = -1.0f, acc = -1.0f, *pa, *pb, *p0;
    bp_network *a, *b, *c;
    size_t runs = 0, n = 0;
    int epochs_ok = 1;

    /* Defaults. */
    bp_fit_options_init(NULL);
    memset(&o, 0xAB, sizeof o);
    bp_fit_options_init(&o);
    CHECK(o.struct_size == sizeof(bp_fit_options), "struct_size %zu, sizeof %zu", o.struct_size,
          sizeof(bp_fit_options));
    CHECK(o.epochs == 10 && o.batch_size == 32 && o.learning_rate == 0.01f && o.shuffle == 1 && o.seed == 0,
          "defaults: epochs %zu, batch_size %zu, learning_rate %g, shuffle %d, seed %llu", o.epochs, o.batch_size,
          (double)o.learning_rate, (int)o.shuffle, (unsigned long long)o.seed);
    CHECK(o.validation_inputs == NULL && o.validation_targets == NULL && o.validation_count == 0,
          "default validation set is not empty");
    CHECK(o.patience == 0 && o.min_delta == 0.0f && o.restore_best == 1 && o.target_loss <= 0.0f,
          "defaults: patience %zu, min_delta %g, restore_best %d, target_loss %g", o.patience, (double)o.min_delta,
          (int)o.restore_best, (double)o.target_loss);
    CHECK(o.progress == NULL && o.user_data == NULL, "default progress callback or user_data is not NULL");

    /* XOR with bp_fit: full batches of 4, shuffled; the history has every epoch. */
    a = CREATE_DESC(&XOR_NET, XOR_SEED);
    b = CREATE_DESC(&XOR_NET, XOR_SEED);
    if (a == NULL || b == NULL) {
        bp_destroy(a);
        bp_destroy(b);
        free(hist);
        free(x);
        free(y);
        free(bx);
        free(by);
        return;
    }
    o.epochs = XOR_STEPS;
    o.batch_size = 4;
    o.learning_rate = XOR_LR;
    o.seed = 3;
    hist[XOR_STEPS].epoch = 12345;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, hist, XOR_STEPS, &runs));
    CHECK(runs == XOR_STEPS, "epochs_run %zu, expected %d", runs, XOR_STEPS);
    for (size_t i = 0; i < XOR_STEPS; i++)
        if (hist[i].epoch != i + 1 || !isfinite(hist[i].train_loss) || !isnan(hist[i].validation_loss) ||
            !isnan(hist[i].validation_accuracy))
            epochs_ok = 0;
    CHECK(epochs_ok, "history: epochs not 1..n, a non-finite training loss, or validation values not NaN");
    CHECK(hist[XOR_STEPS].epoch == 12345, "bp_fit wrote past history_capacity");
    EXPECT_OK(bp_evaluate(a, x, y, 4, &loss, &acc));
    CHECK(loss < 0.01f && acc == 1.0f, "after bp_fit on XOR: loss %g, accuracy %g", (double)loss, (double)acc);
    CHECK(hist[XOR_STEPS - 1].train_loss < 0.05f, "last epoch's training loss %g",
          (double)hist[XOR_STEPS - 1].train_loss);
    EXPECT_OK(bp_fit(b, x, y, 4, &o, NULL, 0, NULL));
    pa = GET_PARAMS(a, &n);
    pb = GET_PARAMS(b, NULL);
    CHECK(memcmp(pa, pb, n * sizeof *pa) == 0, "bp_fit twice with the same seeds: different networks");
    free(pa);
    free(pb);
    bp_destroy(a);
    bp_destroy(b);

    /* Batches of 1: the seed picks the order. */
    a = CREATE_DESC(&XOR_NET, 5);
    b = CREATE_DESC(&XOR_NET, 5);
    c = CREATE_DESC(&XOR_NET, 5);
    bp_fit_options_init(&o);
    o.epochs = 10;
    o.batch_size = 1;
    o.learning_rate = 0.5f;
    o.seed = 1;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, NULL, 0, NULL));
    EXPECT_OK(bp_fit(c, x, y, 4, &o, NULL, 0, NULL));
    o.seed = 2;
    EXPECT_OK(bp_fit(b, x, y, 4, &o, NULL, 0, NULL));
    if (a != NULL && b != NULL && c != NULL) {
        float *pc = GET_PARAMS(c, NULL);
        pa = GET_PARAMS(a, NULL);
        pb = GET_PARAMS(b, NULL);
        CHECK(memcmp(pa, pc, 17 * sizeof *pa) == 0, "batch 1, same seed: different networks");
        CHECK(memcmp(pa, pb, 17 * sizeof *pa) != 0, "batch 1, seeds 1 and 2: identical networks (no shuffling?)");
        free(pa);
        free(pb);
        free(pc);
    }
    bp_destroy(b);
    bp_destroy(c);

    /* The progress callback: every epoch, in order, with user_data; returning 0 stops. */
    memset(&log, 0, sizeof log);
    log.stop_after = 3;
    bp_fit_options_init(&o);
    o.batch_size = 4;
    o.progress = progress_callback;
    o.user_data = &log;
    runs = 0;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, NULL, 0, &runs));
    CHECK(runs == 3 && log.calls == 3 && log.epochs[0] == 1 && log.epochs[1] == 2 && log.epochs[2] == 3,
          "stopping from the callback after epoch 3: epochs_run %zu, %d calls", runs, log.calls);

    /* A history smaller than the epochs, the default batch size (32 > 4 samples). */
    bp_fit_options_init(&o);
    o.epochs = 5;
    small[2].epoch = 777;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, small, 2, &runs));
    CHECK(runs == 5 && small[0].epoch == 1 && small[1].epoch == 2 && small[2].epoch == 777,
          "history capacity 2 of 5 epochs: epochs_run %zu, history %zu %zu %zu", runs, small[0].epoch,
          small[1].epoch, small[2].epoch);
    bp_destroy(a);

    /* The target loss stops training once the (training) loss reaches it. */
    a = CREATE_DESC(&XOR_NET, XOR_SEED);
    bp_fit_options_init(&o);
    o.epochs = XOR_STEPS;
    o.batch_size = 4;
    o.learning_rate = XOR_LR;
    o.target_loss = 0.05f;
    runs = 0;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, hist, XOR_STEPS, &runs));
    CHECK(runs >= 1 && runs < XOR_STEPS && hist[runs - 1].train_loss <= 0.05f &&
              (runs == 1 || hist[runs - 2].train_loss > 0.05f),
          "target loss 0.05: stopped after %zu epochs", runs);

    /* A validation set: its loss and accuracy are reported, and early stopping watches it.
     * With learning rate 0 nothing improves after epoch 1: patience 5 stops after epoch 6. */
    bp_fit_options_init(&o);
    o.epochs = 100;
    o.batch_size = 4;
    o.learning_rate = 0.0f;
    o.validation_inputs = x;
    o.validation_targets = y;
    o.validation_count = 4;
    o.patience = 5;
    runs = 0;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, hist, 100, &runs));
    CHECK(runs == 6, "patience 5 and no improvement: %zu epochs ran, expected 6", runs);
    EXPECT_OK(bp_evaluate(a, x, y, 4, &loss, &acc));
    CHECK(fabs((double)hist[0].validation_loss - (double)loss) <= 1e-6 &&
              fabs((double)hist[0].validation_accuracy - (double)acc) <= 1e-6,
          "validation loss/accuracy %g/%g, bp_evaluate gives %g/%g", (double)hist[0].validation_loss,
          (double)hist[0].validation_accuracy, (double)loss, (double)acc);

    /* Errors: nothing changes. */
    p0 = GET_PARAMS(a, &n);
    bp_fit_options_init(&o);
    o.epochs = 2;
    o.batch_size = 4;
    EXPECT_ERR(bp_fit(NULL, x, y, 4, &o, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_fit(a, NULL, y, 4, &o, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "inputs");
    EXPECT_ERR(bp_fit(a, x, NULL, 4, &o, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "targets");
    EXPECT_ERR(bp_fit(a, x, y, 4, NULL, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "options");
    EXPECT_ERR(bp_fit(a, x, y, 0, &o, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "count");
    EXPECT_ERR(bp_fit(a, x, y, SIZE_MAX / 2 + 1, &o, NULL, 0, NULL), BP_ERROR_SIZE_OVERFLOW, "count");
    bad = o;
    bad.epochs = 0;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->epochs");
    bad = o;
    bad.batch_size = 0;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->batch_size");
    bad = o;
    bad.learning_rate = -1.0f;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->learning_rate");
    bad.learning_rate = NAN;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NON_FINITE, "options->learning_rate");
    bad.learning_rate = INFINITY;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NON_FINITE, "options->learning_rate");
    bad = o;
    bad.struct_size = 0;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->struct_size");
    bad.struct_size = sizeof(bp_fit_options) + 8;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->struct_size");
    bad = o;
    bad.min_delta = -1.0f;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->min_delta");
    bad = o;
    bad.validation_count = 2;
    bad.validation_targets = y;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "options->validation_inputs");
    bad.validation_inputs = x;
    bad.validation_targets = NULL;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "options->validation_targets");
    bx[7] = NAN;
    EXPECT_ERR(bp_fit(a, bx, y, 4, &o, NULL, 0, NULL), BP_ERROR_NON_FINITE, "inputs");
    by[0] = INFINITY;
    EXPECT_ERR(bp_fit(a, x, by, 4, &o, NULL, 0, NULL), BP_ERROR_NON_FINITE, "targets");
    bad = o;
    bad.validation_inputs = bx;
    bad.validation_targets = y;
    bad.validation_count = 4;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NON_FINITE, "options->validation_inputs");
    CHECK(params_equal(a, p0, n), "refused bp_fit calls changed the parameters");

    free(p0);
    free(hist);
    free(x);
    free(y);
    free(bx);
    free(by);
    bp_destroy(a);
}

static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t j = 1; j < n; j++)
        if (v[j] > v[best])
            best = j;
    return best;
}

static void case_evaluate(void)
{
    const net_desc d = {3, {3, 6, 4}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const net_desc lin = {2, {3, 2}, {BP_LINEAR}, BP_LOSS_MSE};
    const net_desc msig = {2, {3, 3}, {BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&d, 61), *ln = CREATE_DESC(&lin, 61), *ms = CREATE_DESC(&msig, 61);
    bp_network *xr = CREATE_DESC(&XOR_NET, 61);
    size_t P = desc_param_count(&d), hits = 0, n = 0;
    float *pf, *x, *y, *bad, *out, loss = -1.0f, acc = -1.0f, untouched = -5.0f;
    double *pd, ref[4], ref_loss;
    if (net == NULL || ln == NULL || ms == NULL || xr == NULL) {
        bp_destroy(net);
        bp_destroy(ln);
        bp_destroy(ms);
        bp_destroy(xr);
        return;
    }
    rng_seed(62);
    pf = alloc_floats(P, 0.0f);
    pd = xmalloc(P * sizeof *pd);
    for (size_t i = 0; i < P; i++) {
        pf[i] = rng_range(-1.5, 1.5);
        pd[i] = pf[i];
    }
    EXPECT_OK(bp_set_parameters(net, pf, P));
    x = alloc_floats(9 * 3, 0.0f);
    y = alloc_floats(9 * 4, 0.0f);
    out = alloc_floats(9 * 4, 0.0f);
    for (size_t i = 0; i < 27; i++)
        x[i] = rng_range(-1.0, 1.0);
    fill_targets(&d, y, 9);
    bad = dup_floats(x, 27);

    /* Softmax: the mean loss, and the fraction whose largest output is the target's class. */
    EXPECT_OK(bp_evaluate(net, x, y, 9, &loss, &acc));
    ref_loss = ref_mean_loss(&d, pd, x, y, 9);
    for (size_t s = 0; s < 9; s++) {
        float rf[4];
        ref_forward_sample(&d, pd, x + s * 3, ref);
        for (size_t j = 0; j < 4; j++)
            rf[j] = (float)ref[j];
        if (argmax(rf, 4) == argmax(y + s * 4, 4))
            hits++;
    }
    CHECK(fabs((double)loss - ref_loss) <= 1e-5 + 1e-4 * fabs(ref_loss), "bp_evaluate loss %.9g, reference %.9g",
          (double)loss, ref_loss);
    CHECK(fabs((double)acc - (double)hits / 9.0) <= 1e-6, "bp_evaluate accuracy %g, expected %zu/9", (double)acc,
          hits);
    EXPECT_OK(bp_evaluate(net, x, y, 9, NULL, NULL));
    EXPECT_OK(bp_evaluate(net, x, y, 9, &loss, NULL));

    /* Several sigmoid units: argmax too (one-hot targets over 3 classes). */
    EXPECT_OK(bp_predict(ms, x, 9, out));
    {
        float *y3 = alloc_floats(9 * 3, 0.0f);
        for (size_t s = 0; s < 9; s++)
            y3[s * 3 + argmax(y + s * 4, 4) % 3] = 1.0f;
        hits = 0;
        for (size_t s = 0; s < 9; s++)
            if (argmax(out + s * 3, 3) == argmax(y3 + s * 3, 3))
                hits++;
        EXPECT_OK(bp_evaluate(ms, x, y3, 9, &loss, &acc));
        CHECK(fabs((double)acc - (double)hits / 9.0) <= 1e-6, "multi-unit sigmoid accuracy %g, expected %zu/9",
              (double)acc, hits);
        free(y3);
    }

    /* One sigmoid unit: the same side of 0.5 as the target. */
    {
        float *xx = dup_floats(XOR_X, 8), *yy = dup_floats(XOR_Y, 4), o4[4];
        EXPECT_OK(bp_predict(xr, xx, 4, o4));
        hits = 0;
        for (size_t s = 0; s < 4; s++)
            if ((o4[s] > 0.5f) == (yy[s] > 0.5f))
                hits++;
        EXPECT_OK(bp_evaluate(xr, xx, yy, 4, &loss, &acc));
        CHECK(fabs((double)acc - (double)hits / 4.0) <= 1e-6, "one sigmoid unit: accuracy %g, expected %zu/4",
              (double)acc, hits);
        /* It reads the network only: a network never run forward still has nothing kept. */
        EXPECT_ERR(bp_backward(xr, yy, 4, NULL), BP_ERROR_STATE, NULL);
        free(xx);
        free(yy);
    }

    /* Not a classifier: accuracy is NaN. */
    EXPECT_OK(bp_evaluate(ln, x, y, 9, &loss, &acc)); /* 2 outputs: y rows of 4 are read as 9 x 2 */
    CHECK(isnan(acc), "linear output: accuracy %g, expected NaN", (double)acc);

    /* Reads only: what bp_forward kept survives. */
    EXPECT_OK(bp_forward(net, x, 9, NULL));
    EXPECT_OK(bp_evaluate(net, x, y, 3, &loss, &acc));
    EXPECT_OK(bp_backward(net, y, 9, NULL));

    /* Errors. */
    free(pf);
    pf = GET_PARAMS(net, &n);
    EXPECT_ERR(bp_evaluate(NULL, x, y, 9, &untouched, NULL), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_evaluate(net, NULL, y, 9, &untouched, NULL), BP_ERROR_NULL_ARGUMENT, "inputs");
    EXPECT_ERR(bp_evaluate(net, x, NULL, 9, &untouched, NULL), BP_ERROR_NULL_ARGUMENT, "targets");
    EXPECT_ERR(bp_evaluate(net, x, y, 0, &untouched, NULL), BP_ERROR_INVALID_ARGUMENT, "count");
    EXPECT_ERR(bp_evaluate(net, x, y, SIZE_MAX / 2 + 1, &untouched, NULL), BP_ERROR_SIZE_OVERFLOW, "count");
    bad[26] = NAN;
    EXPECT_ERR(bp_evaluate(net, bad, y, 9, &untouched, NULL), BP_ERROR_NON_FINITE, "inputs");
    y[35] = -INFINITY;
    EXPECT_ERR(bp_evaluate(net, x, y, 9, &untouched, NULL), BP_ERROR_NON_FINITE, "targets");
    CHECK(untouched == -5.0f, "a failed bp_evaluate wrote *loss (%g)", (double)untouched);
    CHECK(params_equal(net, pf, n), "bp_evaluate changed the parameters");

    free(pf);
    free(pd);
    free(x);
    free(y);
    free(bad);
    free(out);
    bp_destroy(net);
    bp_destroy(ln);
    bp_destroy(ms);
    bp_destroy(xr);
}

/* Saves to a buffer and loads it back; 1 if that works and the parameters survive. */
static int buffer_round_trip(const bp_network *net)
{
    size_t size = 0, n = bp_parameter_count(net);
    void *buf;
    bp_network *copy = NULL;
    float *a, *b;
    int ok;
    if (bp_save_to_buffer(net, NULL, 0, &size) != BP_OK || size == 0)
        return 0;
    buf = xmalloc(size);
    ok = bp_save_to_buffer(net, buf, size, &size) == BP_OK && bp_load_from_buffer(buf, size, &copy) == BP_OK;
    if (ok) {
        a = alloc_floats(n, 0.0f);
        b = alloc_floats(n, 1.0f);
        ok = bp_get_parameters(net, a, n) == BP_OK && bp_get_parameters(copy, b, n) == BP_OK &&
             memcmp(a, b, n * sizeof *a) == 0;
        free(a);
        free(b);
    }
    bp_destroy(copy);
    free(buf);
    return ok;
}

static void case_diverged(void)
{
    const net_desc d = {2, {1, 1}, {BP_LINEAR}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&d, 1);
    float huge[2] = {1e30f, 0.0f}, one[2] = {1.0f, 0.0f}, xv = 1e10f, yv = 0.0f, loss = 0.0f, *p;
    float *x = dup_floats(&xv, 1), *y = dup_floats(&yv, 1);
    bp_fit_options o;
    bp_status s;
    int round_trip;
    if (net == NULL) {
        free(x);
        free(y);
        return;
    }

    /* The loss overflows to inf: bp_update, bp_train_step and bp_fit refuse to apply it. */
    EXPECT_OK(bp_set_parameters(net, huge, 2));
    EXPECT_OK(bp_forward(net, x, 1, NULL));
    EXPECT_OK(bp_backward(net, y, 1, &loss));
    CHECK(!isfinite(loss), "premise: the loss should overflow, it is %g", (double)loss);
    EXPECT_ERR(bp_update(net, 0.1f), BP_ERROR_DIVERGED, NULL);
    CHECK(params_equal(net, huge, 2), "a diverged bp_update changed the parameters");
    EXPECT_ERR(bp_train_step(net, x, y, 1, 0.1f, NULL), BP_ERROR_DIVERGED, NULL);
    CHECK(params_equal(net, huge, 2), "a diverged bp_train_step changed the parameters");
    bp_fit_options_init(&o);
    o.epochs = 3;
    o.batch_size = 1;
    EXPECT_ERR(bp_fit(net, x, y, 1, &o, NULL, 0, NULL), BP_ERROR_DIVERGED, NULL);
    CHECK(params_equal(net, huge, 2), "a diverged bp_fit changed the parameters");

    /* A step that overflows the parameters although the loss and gradients are finite
     * (loss 5e19, learning rate 1e30). Whatever status bp_update returns, the network must
     * stay one the header can represent: bp_set_parameters refuses non-finite values and a
     * model file with them is corrupt, while "a loaded network is bit-identical to the
     * saved one". */
    EXPECT_OK(bp_set_parameters(net, one, 2));
    EXPECT_OK(bp_forward(net, x, 1, NULL));
    EXPECT_OK(bp_backward(net, y, 1, &loss));
    CHECK(isfinite(loss), "premise: the loss should be finite, it is %g", (double)loss);
    s = bp_update(net, 1e30f);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_update(1e30) returned %s", status_name(s));
    p = GET_PARAMS(net, NULL);
    CHECK(all_finite(p, 2), "bp_update(1e30) returned %s and left parameters %g, %g", status_name(s), (double)p[0],
          (double)p[1]);
    free(p);
    round_trip = buffer_round_trip(net);
    CHECK(round_trip, "after bp_update(1e30), save + load fails: %s", last_error());

    EXPECT_OK(bp_set_parameters(net, one, 2));
    o.learning_rate = 1e30f;
    s = bp_fit(net, x, y, 1, &o, NULL, 0, NULL);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_fit with learning rate 1e30 returned %s", status_name(s));
    p = GET_PARAMS(net, NULL);
    CHECK(all_finite(p, 2), "bp_fit (learning rate 1e30) returned %s and left parameters %g, %g", status_name(s),
          (double)p[0], (double)p[1]);
    free(p);
    round_trip = buffer_round_trip(net);
    CHECK(round_trip, "after bp_fit with learning rate 1e30, save + load fails: %s", last_error());

    free(x);
    free(y);
    bp_destroy(net);
}

/*-************************************************************************
 *  Cases: model files
 **************************************************************************/
/* bp_load_from_buffer on `size` bytes of `bytes` must fail with `want` and clear *out. */
static void load_fail_at(const unsigned char *bytes, size_t size, bp_status want, const char *file, int line,
                         const char *what)
{
    unsigned char *copy = xmalloc(size);
    bp_network *out = SENTINEL;
    bp_status got;
    if (size > 0)
        memcpy(copy, bytes, size);
    got = bp_load_from_buffer(copy, size, &out);
    expect_status_at(got, want, NULL, file, line, what);
    check_at(out == NULL, file, line, "%s: *out is not NULL after a failed load", what);
    if (got == BP_OK && out != NULL && out != SENTINEL)
        bp_destroy(out);
    free(copy);
}
#define LOAD_FAIL(bytes, size, want, what) load_fail_at((bytes), (size), (want), __FILE__, __LINE__, (what))

static void case_model_files(void)
{
    bp_network *net = CREATE_DESC(&XOR_NET, 71), *copy = NULL, *out;
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *pa, *pb, *ga, *gb;
    unsigned char *buf, *bad;
    size_t size = 0, written = 0, param_off;
    char dir[] = "/tmp/backprop-test-XXXXXX", path[256], missing[256], garbage[256];
    FILE *f;
    double va = 0, vb = 1;
    if (net == NULL) {
        free(x);
        free(y);
        return;
    }

    /* A network with optimizer state and gradients waiting to be applied. */
    EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_MOMENTUM));
    EXPECT_OK(bp_set_option(net, BP_OPTION_MOMENTUM, 0.75));
    EXPECT_OK(bp_train_step(net, x, y, 4, 0.5f, NULL));
    EXPECT_OK(bp_train_step(net, x, y, 4, 0.5f, NULL));
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_OK(bp_backward(net, y, 4, NULL));

    /* Buffers: the size query, too small, exact. */
    EXPECT_OK(bp_save_to_buffer(net, NULL, 0, &size));
    CHECK(size > 64, "model size %zu", size);
    buf = xmalloc(size + 1);
    buf[size] = 0x5A;
    written = 0;
    EXPECT_ERR(bp_save_to_buffer(net, buf, size - 1, &written), BP_ERROR_BUFFER_TOO_SMALL, "capacity");
    CHECK(written == size, "BP_ERROR_BUFFER_TOO_SMALL: *written = %zu, expected the size %zu", written, size);
    EXPECT_ERR(bp_save_to_buffer(net, buf, 0, &written), BP_ERROR_BUFFER_TOO_SMALL, "capacity");
    written = 0;
    EXPECT_OK(bp_save_to_buffer(net, buf, size + 1, &written));
    CHECK(written == size && buf[size] == 0x5A, "saved %zu bytes into %zu (model size %zu)", written, size + 1,
          size);
    CHECK(memcmp(buf, "\x89" "BPM\r\n\x1a\n", 8) == 0, "the model does not start with the magic");

    /* Loading gives the same network: parameters, pending gradients, options, and the
     * same continued training; the activations were not saved. */
    EXPECT_OK(bp_load_from_buffer(buf, size, &copy));
    if (copy != NULL) {
        pa = GET_PARAMS(net, NULL);
        pb = GET_PARAMS(copy, NULL);
        CHECK(memcmp(pa, pb, 17 * sizeof *pa) == 0, "loaded parameters differ");
        free(pa);
        free(pb);
        ga = GET_GRADS(net);
        gb = GET_GRADS(copy);
        CHECK(memcmp(ga, gb, 17 * sizeof *ga) == 0, "loaded pending gradients differ");
        free(ga);
        free(gb);
        for (int32_t k = 1; k <= OPTION_COUNT; k++) {
            va = GET_OPTION(net, k);
            vb = GET_OPTION(copy, k);
            CHECK(va == vb, "option %d: %.17g saved, %.17g loaded", (int)k, va, vb);
        }
        EXPECT_ERR(bp_backward(copy, y, 4, NULL), BP_ERROR_STATE, NULL);
        EXPECT_OK(bp_update(net, 0.5f));
        EXPECT_OK(bp_update(copy, 0.5f));
        for (int i = 0; i < 5; i++) {
            EXPECT_OK(bp_train_step(net, x, y, 4, 0.5f, NULL));
            EXPECT_OK(bp_train_step(copy, x, y, 4, 0.5f, NULL));
        }
        pa = GET_PARAMS(net, NULL);
        pb = GET_PARAMS(copy, NULL);
        CHECK(memcmp(pa, pb, 17 * sizeof *pa) == 0, "continued training of the loaded network differs");
        free(pa);
        free(pb);
        bp_destroy(copy);
        copy = NULL;
    }

    /* Damaged models (docs/format.md). */
    bad = xmalloc(size + 1);
    memcpy(bad, buf, size);
    LOAD_FAIL((const unsigned char *)"hello, this is not a model at all", 33, BP_ERROR_NOT_A_MODEL, "text");
    LOAD_FAIL(buf, 5, BP_ERROR_TRUNCATED, "5 bytes of the magic");
    LOAD_FAIL(buf, 0, BP_ERROR_TRUNCATED, "0 bytes");
    LOAD_FAIL(buf, size - 1, BP_ERROR_TRUNCATED, "the model without its last byte");
    LOAD_FAIL(buf, size - 4, BP_ERROR_TRUNCATED, "the model without its CRC");
    LOAD_FAIL(buf, size - 5, BP_ERROR_TRUNCATED, "the model without its CRC and one more byte");
    LOAD_FAIL(buf, size / 2, BP_ERROR_TRUNCATED, "half the model");
    bad[size] = 0;
    LOAD_FAIL(bad, size + 1, BP_ERROR_CORRUPT_MODEL, "the model and a trailing byte");
    bad[0] ^= 0x01;
    LOAD_FAIL(bad, size, BP_ERROR_NOT_A_MODEL, "first magic byte changed");
    memcpy(bad, buf, size);
    put_u32(bad + 8, 2);
    LOAD_FAIL(bad, size, BP_ERROR_UNSUPPORTED_VERSION, "format version 2");
    memcpy(bad, buf, size);
    param_off = 20 + 8 * 3 + 4 * 2 + 4 + 8; /* the first parameter of a 3-layer model */
    bad[param_off + 5] ^= 0x10;
    LOAD_FAIL(bad, size, BP_ERROR_CHECKSUM_MISMATCH, "a parameter byte changed");
    memcpy(bad, buf, size);
    bad[size - 1] ^= 0x80;
    LOAD_FAIL(bad, size, BP_ERROR_CHECKSUM_MISMATCH, "the CRC changed");
    memcpy(bad, buf, size);
    put_u32(bad + 12, 7); /* loss 7, with a valid CRC */
    put_u32(bad + size - 4, crc32_of(bad, size - 4));
    LOAD_FAIL(bad, size, BP_ERROR_CORRUPT_MODEL, "loss 7 under a valid CRC");
    memcpy(bad, buf, size);
    put_u32(bad + size - 4, crc32_of(bad, size - 4));
    out = NULL;
    EXPECT_OK(bp_load_from_buffer(bad, size, &out)); /* our CRC-32 agrees with the library's */
    bp_destroy(out);

    /* Argument errors. */
    out = SENTINEL;
    EXPECT_ERR(bp_load_from_buffer(NULL, size, &out), BP_ERROR_NULL_ARGUMENT, "buffer");
    CHECK(out == NULL, "*out not cleared by a failed bp_load_from_buffer");
    EXPECT_ERR(bp_load_from_buffer(buf, size, NULL), BP_ERROR_NULL_ARGUMENT, "out");
    EXPECT_ERR(bp_save_to_buffer(NULL, buf, size, &written), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_save_to_buffer(net, buf, size, NULL), BP_ERROR_NULL_ARGUMENT, "written");

    /* Files, in a directory of our own. */
    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp failed");
    } else {
        snprintf(path, sizeof path, "%s/model.bpm", dir);
        snprintf(missing, sizeof missing, "%s/no-such-dir/model.bpm", dir);
        snprintf(garbage, sizeof garbage, "%s/garbage.bpm", dir);
        EXPECT_OK(bp_save(net, path));
        CHECK(count_dir_entries(dir) == 1, "after bp_save the directory holds %zu entries, expected 1",
              count_dir_entries(dir));
        EXPECT_OK(bp_save(net, path)); /* over an existing file */
        CHECK(count_dir_entries(dir) == 1, "after a second bp_save the directory holds %zu entries",
              count_dir_entries(dir));
        copy = NULL;
        EXPECT_OK(bp_load(path, &copy));
        if (copy != NULL) {
            pa = GET_PARAMS(net, NULL);
            pb = GET_PARAMS(copy, NULL);
            CHECK(memcmp(pa, pb, 17 * sizeof *pa) == 0, "parameters loaded from the file differ");
            free(pa);
            free(pb);
            bp_destroy(copy);
        }
        EXPECT_ERR(bp_save(NULL, path), BP_ERROR_NULL_ARGUMENT, "net");
        EXPECT_ERR(bp_save(net, NULL), BP_ERROR_NULL_ARGUMENT, "path");
        EXPECT_ERR(bp_save(net, missing), BP_ERROR_IO, "path");
        out = SENTINEL;
        EXPECT_ERR(bp_load(NULL, &out), BP_ERROR_NULL_ARGUMENT, "path");
        CHECK(out == NULL, "*out not cleared by bp_load(NULL, ...)");
        EXPECT_ERR(bp_load(path, NULL), BP_ERROR_NULL_ARGUMENT, "out");
        out = SENTINEL;
        EXPECT_ERR(bp_load(missing, &out), BP_ERROR_IO, "path");
        CHECK(out == NULL, "*out not cleared by a bp_load of a missing file");
        f = fopen(garbage, "wb");
        if (f != NULL) {
            fputs("definitely not a model", f);
            fclose(f);
        }
        out = SENTINEL;
        EXPECT_ERR(bp_load(garbage, &out), BP_ERROR_NOT_A_MODEL, NULL);
        CHECK(out == NULL, "*out not cleared by a bp_load of a text file");
        unlink(garbage);
        unlink(path);
        CHECK(rmdir(dir) == 0, "the test directory %s is not empty after removing our files", dir);
    }

    free(buf);
    free(bad);
    free(x);
    free(y);
    bp_destroy(net);
}

/*-************************************************************************
 *  Runner
 **************************************************************************/
static const test_case CASES[] = {
    {"version", case_version},
    {"kernels", case_kernels},
    {"status_strings", case_status_strings},
    {"last_error", case_last_error},
    {"create_and_sizes", case_create_and_sizes},
    {"create_errors", case_create_errors},
    {"create_limits", case_create_limits},
    {"create_out_of_memory", case_create_out_of_memory},
    {"numerics", case_numerics},
    {"forward", case_forward},
    {"forward_errors", case_forward_errors},
    {"backward_errors", case_backward_errors},
    {"update", case_update},
    {"train_step", case_train_step},
    {"parameters", case_parameters},
    {"softmax_cross_entropy", case_softmax_cross_entropy},
    {"xor_learning", case_xor_learning},
    {"threads", case_threads},
    {"predict", case_predict},
    {"set_threads", case_set_threads},
    {"options", case_options},
    {"optimizers", case_optimizers},
    {"fit", case_fit},
    {"evaluate", case_evaluate},
    {"diverged", case_diverged},
    {"model_files", case_model_files},
};

static void banner(void)
{
    printf("libbackprop C API tests: header %s (ABI %d), library %s (ABI %u)\n", BP_VERSION_STRING, BP_ABI_VERSION,
           bp_version() != NULL ? bp_version() : "(NULL)", (unsigned)bp_abi_version());
}

int main(int argc, char **argv)
{
    /* Each case runs in a re-executed copy of this program (see harness.h): the parent
     * calls the library for the banner, so a fork()ed child must not. */
    static const harness_suite suite = {"test_api", CASES, sizeof CASES / sizeof CASES[0], 24, 900, 1, banner};
    return harness_main(&suite, argc, argv);
}
