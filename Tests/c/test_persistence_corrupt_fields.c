/*
 * test_persistence_corrupt_fields.c — test_persistence cases on models whose fields are
 * impossible under a recomputed (valid) CRC-32: activation, loss, layer, size, gradient
 * state and parameter-count fields, NaN and infinite parameters (finite odd values load),
 * trailing bytes; NaN pending gradients; headers declaring enormous networks (answered
 * from the bytes present, without allocating what they claim); and the optimizer section
 * of every optimizer (codes, option keys and values, state arrays, step counts), a loaded
 * model always training safely.
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#include "test_persistence.h"

/*-************************************************************************
 *  Cases: fields made impossible under a valid CRC-32
 **************************************************************************/
/* A copy of `model` with one u32/u64 field changed and the CRC recomputed. */
static bp_status load_patched(const unsigned char *model, size_t size, size_t offset, int width, uint64_t value)
{
    unsigned char *copy = xmalloc(size);
    bp_status s;
    memcpy(copy, model, size);
    if (width == 4)
        put_u32(copy + offset, (uint32_t)value);
    else
        put_u64(copy + offset, value);
    fix_crc(copy, size);
    s = load_buffer(copy, size, NULL);
    free(copy);
    return s;
}

#define EXPECT_PATCHED(model, size, off, width, value, want, what)                                                    \
    do {                                                                                                               \
        bp_status s_ = load_patched((model), (size), (off), (width), (value));                                        \
        CHECK(s_ == (want), "%s (CRC recomputed): %s, expected %s; \"%s\"", (what), status_name(s_),                  \
              status_name(want), last_error());                                                                       \
    } while (0)

void case_load_corrupt_fields(void)
{
    const net_desc *d = &NET_SIGMOID; /* 4-8-3, sigmoid, sigmoid, MSE */
    size_t L = d->layers;
    bp_network *net;
    unsigned char *model, *copy;
    size_t size = 0, pcount;
    rng_seed(600);
    net = trained(d, 17, STATE_FRESH);
    pcount = bp_parameter_count(net);
    model = MODEL_BYTES(net, &size);
    CHECK(get_u32(model + 16) == L, "the layer count is not at offset 16 (docs/format.md)");

    EXPECT_PATCHED(model, size, off_acts(L), 4, 99, BP_ERROR_CORRUPT_MODEL, "activation code 99");
    EXPECT_PATCHED(model, size, off_acts(L) + 4, 4, BP_ELU + 1, BP_ERROR_CORRUPT_MODEL, "the activation code past the last");
    EXPECT_PATCHED(model, size, off_acts(L), 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "activation code 2^32-1");
    EXPECT_PATCHED(model, size, off_acts(L), 4, BP_SOFTMAX, BP_ERROR_CORRUPT_MODEL, "softmax on the hidden layer");
    EXPECT_PATCHED(model, size, off_sizes(), 8, 0, BP_ERROR_CORRUPT_MODEL, "layer 0 with 0 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, 0, BP_ERROR_CORRUPT_MODEL, "layer 1 with 0 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, ((uint64_t)1 << 24) + 1, BP_ERROR_CORRUPT_MODEL,
                   "layer 1 with 2^24+1 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, UINT64_MAX, BP_ERROR_CORRUPT_MODEL, "layer 1 with 2^64-1 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, 9, BP_ERROR_CORRUPT_MODEL,
                   "layer 1 with 9 units (parameter count mismatch)");
    EXPECT_PATCHED(model, size, 16, 4, 1, BP_ERROR_CORRUPT_MODEL, "layer count 1");
    EXPECT_PATCHED(model, size, 16, 4, 0, BP_ERROR_CORRUPT_MODEL, "layer count 0");
    EXPECT_PATCHED(model, size, 16, 4, 1025, BP_ERROR_CORRUPT_MODEL, "layer count 1025");
    EXPECT_PATCHED(model, size, 16, 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "layer count 2^32-1");
    EXPECT_PATCHED(model, size, off_state(L), 4, 4, BP_ERROR_CORRUPT_MODEL, "gradient state 4");
    EXPECT_PATCHED(model, size, off_count(L), 8, pcount + 1, BP_ERROR_CORRUPT_MODEL, "parameter count P+1");
    EXPECT_PATCHED(model, size, off_count(L), 8, UINT64_MAX, BP_ERROR_CORRUPT_MODEL, "parameter count 2^64-1");
    EXPECT_PATCHED(model, size, 12, 4, 7, BP_ERROR_CORRUPT_MODEL, "loss code 7");
    /* Gradient state 1 on a model without gradients: the gradients are missing. */
    EXPECT_PATCHED(model, size, off_state(L), 4, 1, BP_ERROR_TRUNCATED, "gradient state 1 without gradients");
    {
        /* A layer count in range that does not match the sizes that follow. */
        bp_status s = load_patched(model, size, 16, 4, 4);
        CHECK(s == BP_ERROR_CORRUPT_MODEL || s == BP_ERROR_TRUNCATED, "layer count 4 in a 3-layer model: %s",
              status_name(s));
    }

    /* NaN, infinities as parameters. */
    {
        const uint32_t bad[] = {0x7FC00000u, 0x7F800001u, 0xFFC00000u, 0x7F800000u, 0xFF800000u};
        const size_t where[] = {0, pcount / 2, pcount - 1};
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
            for (size_t w = 0; w < 3; w++) {
                char what[64];
                snprintf(what, sizeof what, "parameter %zu = 0x%08X", where[w], (unsigned)bad[b]);
                EXPECT_PATCHED(model, size, off_params(L) + 4 * where[w], 4, bad[b], BP_ERROR_CORRUPT_MODEL, what);
            }
        /* Values that are finite are fine: -0, subnormals, FLT_MAX. */
        EXPECT_PATCHED(model, size, off_params(L), 4, 0x80000000u, BP_OK, "parameter -0.0");
        EXPECT_PATCHED(model, size, off_params(L), 4, 0x00000001u, BP_OK, "a subnormal parameter");
        EXPECT_PATCHED(model, size, off_params(L), 4, 0x7F7FFFFFu, BP_OK, "parameter FLT_MAX");
    }

    /* One trailing byte, with a CRC computed over it (the CRC still closes the file). */
    copy = xmalloc(size + 1);
    memcpy(copy, model, size - 4);
    copy[size - 4] = 0x00;
    fix_crc(copy, size + 1);
    {
        bp_status s = load_buffer(copy, size + 1, NULL);
        CHECK(s == BP_ERROR_CORRUPT_MODEL, "a trailing byte before a valid CRC: %s, expected BP_ERROR_CORRUPT_MODEL",
              status_name(s));
    }
    /* One trailing byte after the CRC, and two models back to back. */
    memcpy(copy, model, size);
    copy[size] = 0x0A;
    EXPECT(load_buffer(copy, size + 1, NULL), BP_ERROR_CORRUPT_MODEL);
    free(copy);
    copy = xmalloc(2 * size);
    memcpy(copy, model, size);
    memcpy(copy + size, model, size);
    EXPECT(load_buffer(copy, 2 * size, NULL), BP_ERROR_CORRUPT_MODEL);
    free(copy);
    free(model);
    bp_destroy(net);

    /* Cross-entropy with a linear output layer (an architecture bp_create refuses). */
    {
        net_desc lin = {3, {2, 3, 2}, {BP_TANH, BP_LINEAR}, BP_LOSS_MSE};
        bp_network *n2 = CREATE_DESC(&lin, 3);
        model = MODEL_BYTES(n2, &size);
        EXPECT_PATCHED(model, size, 12, 4, BP_LOSS_CROSS_ENTROPY, BP_ERROR_CORRUPT_MODEL,
                       "cross-entropy with a linear output");
        free(model);
        bp_destroy(n2);
    }
}

void case_load_gradient_values(void)
{
    /* Pending gradients that are NaN: either refused as corrupt, or loaded and then refused
     * by bp_update() with BP_ERROR_DIVERGED, parameters unchanged. */
    const net_desc *d = &NET_SIGMOID;
    bp_network *net, *b = NULL;
    unsigned char *model;
    size_t size = 0, n;
    bp_status s;
    rng_seed(650);
    net = trained(d, 19, STATE_PENDING);
    n = bp_parameter_count(net);
    model = MODEL_BYTES(net, &size);
    put_u32(model + off_params(d->layers) + 4 * n + 8, 0x7FC00000u);
    fix_crc(model, size);
    s = load_buffer(model, size, &b);
    CHECK(s == BP_OK || s == BP_ERROR_CORRUPT_MODEL, "a NaN pending gradient: %s", status_name(s));
    if (s == BP_OK) {
        float *before = get_params(b, NULL);
        EXPECT(bp_update(b, 0.1f), BP_ERROR_DIVERGED);
        CHECK(params_equal_to(b, before, n), "bp_update with a NaN gradient changed the parameters");
        free(before);
        printf("  info  a NaN pending gradient loads; bp_update then returns BP_ERROR_DIVERGED\n");
    }
    bp_destroy(b);
    free(model);
    bp_destroy(net);
}

void case_load_huge_declared_sizes(void)
{
    /* Headers that declare enormous (but in-range) networks, followed by a few bytes: the
     * reader must answer BP_ERROR_TRUNCATED from the bytes present, without trying to
     * allocate what the header claims. */
    unsigned char hdr[20 + 8 * 2 + 4 + 4 + 8 + 64 + 4];
    size_t n = 0;
    uint64_t big = (uint64_t)1 << 24;
    memcpy(hdr, MAGIC, 8);
    put_u32(hdr + 8, 1);
    put_u32(hdr + 12, BP_LOSS_MSE);
    put_u32(hdr + 16, 2);
    put_u64(hdr + 20, big);
    put_u64(hdr + 28, big);
    put_u32(hdr + 36, BP_LINEAR);
    put_u32(hdr + 40, 1); /* gradients pending: twice the floats */
    put_u64(hdr + 44, big * big + big);
    memset(hdr + 52, 0x3F, 64);
    n = sizeof hdr;
    fix_crc(hdr, n);
    {
        bp_network *b = (bp_network *)&g_rng;
        unsigned char *copy = xmalloc(n);
        bp_status s;
        memcpy(copy, hdr, n);
        s = bp_load_from_buffer(copy, n, &b);
        CHECK(s == BP_ERROR_TRUNCATED, "a 2^24 x 2^24 network in %zu bytes: %s, expected BP_ERROR_TRUNCATED; \"%s\"",
              n, status_name(s), last_error());
        CHECK(b == NULL, "*out not NULL");
        free(copy);
    }
    /* 1024 layers of 2^24 units each: the parameter count computation must not overflow. */
    {
        size_t layers = 1024, total = 20 + 8 * layers + 4 * (layers - 1) + 4 + 8 + 16 + 4;
        unsigned char *m = xmalloc(total);
        uint64_t p = 0;
        bp_status s;
        memset(m, 0, total);
        memcpy(m, MAGIC, 8);
        put_u32(m + 8, 1);
        put_u32(m + 16, (uint32_t)layers);
        for (size_t l = 0; l < layers; l++)
            put_u64(m + 20 + 8 * l, big);
        for (size_t l = 1; l < layers; l++)
            p += big * big + big;
        put_u64(m + off_count(layers), p);
        fix_crc(m, total);
        s = load_buffer(m, total, NULL);
        CHECK(s == BP_ERROR_TRUNCATED || s == BP_ERROR_CORRUPT_MODEL,
              "1024 layers of 2^24 units in %zu bytes: %s, expected BP_ERROR_TRUNCATED", total, status_name(s));
        free(m);
    }
}

/* A loaded model must be usable: one training step either succeeds with finite
 * parameters or reports BP_ERROR_DIVERGED with the parameters unchanged; never a crash. */
static void check_trains_safely(bp_network *net, const char *what)
{
    size_t n = bp_parameter_count(net), in = bp_input_size(net), out = bp_output_size(net), batch = 3;
    float *x = random_floats(batch * in, -1.0, 1.0), *y = random_floats(batch * out, 0.0, 1.0);
    float *before = get_params(net, NULL), *after;
    bp_status s;
    for (size_t i = 0; i < batch; i++) { /* one-hot rows suit every loss */
        for (size_t j = 0; j < out; j++)
            y[i * out + j] = j == i % out ? 1.0f : 0.0f;
    }
    s = bp_train_step(net, x, y, batch, 0.01f, NULL);
    after = get_params(net, NULL);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "%s: a training step after loading returned %s", what,
          status_name(s));
    if (s == BP_OK)
        CHECK(all_finite(after, n), "%s: a training step after loading left non-finite parameters", what);
    else
        CHECK(memcmp(before, after, n * sizeof *after) == 0, "%s: diverged but changed the parameters", what);
    free(x);
    free(y);
    free(before);
    free(after);
}

void case_load_corrupt_optimizer(void)
{
    const net_desc *d = &NET_SIGMOID;
    size_t L = d->layers;
    for (int32_t opt = BP_OPTIMIZER_SGD; opt <= BP_OPTIMIZER_RPROP; opt++) {
        bp_network *net = CREATE_DESC(d, 41), *back = NULL;
        size_t size = 0, pcount = bp_parameter_count(net), o, k, step_at, arrays_at;
        unsigned char *model;
        char what[128];
        float x[4] = {0.1f, 0.2f, 0.3f, 0.4f}, y[3] = {0.0f, 1.0f, 0.0f};
        set_optimizer(net, opt);
        EXPECT_OK(bp_train_step(net, x, y, 1, 0.01f, NULL));
        model = MODEL_BYTES(net, &size);
        o = off_optimizer(model, L, pcount);
        CHECK(get_u32(model + o) == (uint32_t)opt, "optimizer %d: the optimizer code is not where docs/format.md puts it",
              (int)opt);
        k = get_u32(model + o + 4);
        step_at = o + 8 + 12 * k;
        arrays_at = step_at + 8;
#define PATCH(off, w, v, want, text)                                                                                   \
    do {                                                                                                               \
        snprintf(what, sizeof what, "optimizer %d: %s", (int)opt, (text));                                            \
        EXPECT_PATCHED(model, size, (off), (w), (v), (want), what);                                                   \
    } while (0)
        PATCH(o, 4, 6, BP_ERROR_CORRUPT_MODEL, "optimizer code 6");
        PATCH(o, 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "optimizer code 2^32-1");
        PATCH(o + 4, 4, k + 1, BP_ERROR_CORRUPT_MODEL, "one option more than there are keys");
        PATCH(o + 4, 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "option count 2^32-1");
        if (k > 0) {
            uint64_t nan_bits = UINT64_C(0x7FF8000000000000), inf_bits = UINT64_C(0x7FF0000000000000);
            uint64_t one_bits = UINT64_C(0x3FF0000000000000), neg_bits = UINT64_C(0xBFF0000000000000);
            PATCH(o + 8, 4, 11, BP_ERROR_CORRUPT_MODEL, "option key 11");
            PATCH(o + 8, 4, 0x80000000u, BP_ERROR_CORRUPT_MODEL, "option key 2^31");
            /* The first key is the momentum (key 0), in [0, 1). */
            if (get_u32(model + o + 8) == 0) {
                PATCH(o + 12, 8, nan_bits, BP_ERROR_CORRUPT_MODEL, "momentum NaN");
                PATCH(o + 12, 8, inf_bits, BP_ERROR_CORRUPT_MODEL, "momentum +inf");
                PATCH(o + 12, 8, one_bits, BP_ERROR_CORRUPT_MODEL, "momentum 1.0");
                PATCH(o + 12, 8, neg_bits, BP_ERROR_CORRUPT_MODEL, "momentum -1.0");
            }
        }
        PATCH(arrays_at, 4, get_u32(model + arrays_at) + 1, BP_ERROR_CORRUPT_MODEL, "one state array too many");
        if (get_u32(model + arrays_at) > 0)
            PATCH(arrays_at, 4, get_u32(model + arrays_at) - 1, BP_ERROR_CORRUPT_MODEL, "one state array too few");
        PATCH(step_at, 8, UINT64_MAX, BP_ERROR_CORRUPT_MODEL, "step count 2^64-1");
        PATCH(step_at, 8, (uint64_t)1 << 63, BP_ERROR_CORRUPT_MODEL, "step count 2^63");
#undef PATCH
        /* NaN and infinite optimizer state (moments, RPROP steps). */
        if (get_u32(model + arrays_at) > 0) {
            const uint32_t bad[] = {0x7FC00000u, 0x7F800000u, 0xFF800000u};
            for (size_t b = 0; b < 3; b++) {
                unsigned char *copy = xmalloc(size);
                bp_status s;
                char label[96];
                memcpy(copy, model, size);
                put_u32(copy + arrays_at + 4, bad[b]);
                put_u32(copy + size - 8, bad[b]); /* the last value of the last array */
                fix_crc(copy, size);
                s = load_buffer(copy, size, &back);
                CHECK(s == BP_OK || s == BP_ERROR_CORRUPT_MODEL, "optimizer %d: state value 0x%08X: %s", (int)opt,
                      (unsigned)bad[b], status_name(s));
                snprintf(label, sizeof label, "optimizer %d, optimizer state 0x%08X", (int)opt, (unsigned)bad[b]);
                if (back != NULL)
                    check_trains_safely(back, label);
                bp_destroy(back);
                back = NULL;
                free(copy);
            }
        }
        /* Step counts the reader accepts must not break the next update (Adam's t + 1).
         * Last, because a trap here ends the case. */
        {
            const uint64_t steps[] = {UINT64_C(0x7FFFFFFFFFFFFFFF), UINT64_C(0x7FFFFFFFFFFFFFFE), 0,
                                      UINT64_C(1) << 40};
            for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                unsigned char *copy = xmalloc(size);
                bp_status s;
                memcpy(copy, model, size);
                put_u64(copy + step_at, steps[i]);
                fix_crc(copy, size);
                s = load_buffer(copy, size, &back);
                CHECK(s == BP_OK || s == BP_ERROR_CORRUPT_MODEL, "optimizer %d: step count %llu: %s", (int)opt,
                      (unsigned long long)steps[i], status_name(s));
                if (back != NULL) {
                    char label[96];
                    snprintf(label, sizeof label, "optimizer %d, step count %llu", (int)opt,
                             (unsigned long long)steps[i]);
                    check_trains_safely(back, label);
                }
                bp_destroy(back);
                back = NULL;
                free(copy);
            }
        }
        free(model);
        bp_destroy(net);
    }
}
