/*
 * test_api_create.c — test_api cases on creating networks: bp_create() and the size
 * getters (bp_input_size, bp_output_size, bp_parameter_count, bp_layer_count,
 * bp_layer_size, also on NULL), Glorot/He initialisation bounds and zero biases, seeds
 * (same seed same bits), every valid architecture; every argument error of bp_create with
 * *out cleared (NULL pointers, zero sizes, unknown enums, invalid architectures, size
 * overflow); the limits (BP_MAX_LAYER_COUNT layers, BP_MAX_LAYER_SIZE units) and a network
 * larger than any machine's memory (BP_ERROR_OUT_OF_MEMORY).
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

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

void case_create_and_sizes(void)
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

void case_create_errors(void)
{
    const size_t s241[] = {2, 4, 1};
    const int32_t sig2[] = {BP_SIGMOID, BP_SIGMOID};
    const size_t s_zero_first[] = {0, 4, 1}, s_zero_mid[] = {2, 0, 1}, s_zero_last[] = {2, 4, 0};
    const size_t s_big[] = {(size_t)BP_MAX_LAYER_SIZE + 1, 1};
    const size_t s_big_last[] = {2, (size_t)BP_MAX_LAYER_SIZE + 1};
    const size_t s_huge[] = {SIZE_MAX / 2, 3, 1};
    const size_t s_sizemax[] = {2, SIZE_MAX, SIZE_MAX};
    const int32_t bad42[] = {42, BP_SIGMOID}, bad_neg[] = {BP_SIGMOID, -1}, bad_past_last[] = {BP_ELU + 1, BP_SIGMOID};
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
    CREATE_FAIL(s241, 3, bad_past_last, BP_LOSS_MSE, BP_ERROR_UNKNOWN_ENUM, "activations");
    CREATE_FAIL(s241, 3, bad_min, BP_LOSS_MSE, BP_ERROR_UNKNOWN_ENUM, "activations");
    CREATE_FAIL(s241, 3, sig2, BP_LOSS_L1 + 1, BP_ERROR_UNKNOWN_ENUM, "loss");
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

void case_create_limits(void)
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

void case_create_out_of_memory(void)
{
    /* 2^24 x 2^24 weights = 2^50 bytes: within the limits, no size_t overflow, more memory
     * than any machine (and than the 47-bit user address space) has. */
    const size_t sizes[] = {BP_MAX_LAYER_SIZE, BP_MAX_LAYER_SIZE};
    const int32_t acts[] = {BP_LINEAR};
    CREATE_FAIL(sizes, 2, acts, BP_LOSS_MSE, BP_ERROR_OUT_OF_MEMORY, NULL);
}
