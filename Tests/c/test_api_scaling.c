/*
 * test_api_scaling.c — input scaling: a network with a scaling against its twin without
 * one fed the inputs scaled here, bit for bit, through bp_forward, bp_predict, bp_evaluate,
 * bp_train_step (tiny and general paths) and bp_fit; model files keeping it (version 2, and
 * version 1 again once removed); bp_standardize_inputs against a double-precision mean and
 * deviation; the argument errors.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_api.h"

#define FEATURES 3
#define SAMPLES 5

static const net_desc SCALED_NET = {3, {FEATURES, 6, 2}, {BP_TANH, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};
static const float SHIFT[FEATURES] = {1.5f, -2.0f, 0.25f}, SCALE[FEATURES] = {0.5f, 4.0f, -1.25f};

static void make_data(float *x, float *y)
{
    for (size_t i = 0; i < SAMPLES * FEATURES; i++)
        x[i] = (float)((i * 5) % 9) - 3.5f;
    for (size_t i = 0; i < SAMPLES * 2; i++)
        y[i] = (float)(i % 3 == 0);
}

static void scale_here(const float *x, float *out, size_t rows)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t k = 0; k < FEATURES; k++)
            out[r * FEATURES + k] = (x[r * FEATURES + k] - SHIFT[k]) * SCALE[k];
}

/* The same network twice: `scaled` with the scaling, `plain` without. */
static int make_pair(bp_network **scaled, bp_network **plain)
{
    *scaled = CREATE_DESC(&SCALED_NET, 21);
    *plain = CREATE_DESC(&SCALED_NET, 21);
    if (*scaled == NULL || *plain == NULL)
        return 0;
    EXPECT_OK(bp_set_input_scaling(*scaled, SHIFT, SCALE, FEATURES));
    return 1;
}

static void check_every_call_scales(const float *x, const float *y, const float *xs)
{
    bp_network *scaled, *plain;
    float out_a[SAMPLES * 2], out_b[SAMPLES * 2], la = 0, lb = 0, aa = 0, ab = 0;
    if (make_pair(&scaled, &plain)) {
        EXPECT_OK(bp_forward(scaled, x, SAMPLES, out_a));
        EXPECT_OK(bp_forward(plain, xs, SAMPLES, out_b));
        CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "bp_forward with a scaling differs from scaled inputs");
        EXPECT_OK(bp_backward(scaled, y, SAMPLES, &la));
        EXPECT_OK(bp_backward(plain, y, SAMPLES, &lb));
        CHECK(la == lb, "bp_backward after a scaled forward: loss %.9g, %.9g", la, lb);
        EXPECT_OK(bp_predict(scaled, x, SAMPLES, out_a));
        EXPECT_OK(bp_predict(plain, xs, SAMPLES, out_b));
        CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "bp_predict with a scaling differs from scaled inputs");
        EXPECT_OK(bp_evaluate(scaled, x, y, SAMPLES, &la, &aa));
        EXPECT_OK(bp_evaluate(plain, xs, y, SAMPLES, &lb, &ab));
        CHECK(la == lb && aa == ab, "bp_evaluate with a scaling differs from scaled inputs");
        for (int step = 0; step < 3; step++) {
            EXPECT_OK(bp_train_step(scaled, x, y, SAMPLES, 0.5f, NULL)); /* the general path */
            EXPECT_OK(bp_train_step(plain, xs, y, SAMPLES, 0.5f, NULL));
            EXPECT_OK(bp_train_step(scaled, x + FEATURES, y + 2, 1, 0.5f, NULL)); /* the tiny network's path */
            EXPECT_OK(bp_train_step(plain, xs + FEATURES, y + 2, 1, 0.5f, NULL));
        }
        CHECK(same_params(scaled, plain), "bp_train_step with a scaling differs from scaled inputs");
    }
    bp_destroy(scaled);
    bp_destroy(plain);
}

static void check_fit_scales(const float *x, const float *y, const float *xs)
{
    bp_network *scaled, *plain;
    bp_fit_options o;
    bp_epoch_report ha[3], hb[3];
    if (make_pair(&scaled, &plain)) {
        bp_fit_options_init(&o);
        o.epochs = 3;
        o.batch_size = 2;
        o.seed = 4;
        o.learning_rate = 0.3f;
        o.validation_inputs = x;
        o.validation_targets = y;
        o.validation_count = SAMPLES;
        EXPECT_OK(bp_fit(scaled, x, y, SAMPLES, &o, ha, 3, NULL));
        o.validation_inputs = xs;
        EXPECT_OK(bp_fit(plain, xs, y, SAMPLES, &o, hb, 3, NULL));
        CHECK(same_params(scaled, plain), "bp_fit with a scaling differs from scaled inputs");
        CHECK(ha[2].validation_loss == hb[2].validation_loss, "bp_fit's validation did not scale its inputs");
    }
    bp_destroy(scaled);
    bp_destroy(plain);
}

static void check_model_files(const float *x)
{
    bp_network *net = CREATE_DESC(&SCALED_NET, 8), *loaded = NULL;
    float shift[FEATURES], scale[FEATURES], out_a[SAMPLES * 2], out_b[SAMPLES * 2];
    unsigned char *buf = NULL;
    size_t size = 0;
    if (net == NULL)
        return;
    EXPECT_OK(bp_set_input_scaling(net, SHIFT, SCALE, FEATURES));
    EXPECT_OK(bp_save_to_buffer(net, NULL, 0, &size));
    buf = xmalloc(size);
    EXPECT_OK(bp_save_to_buffer(net, buf, size, &size));
    CHECK(buf[8] == 2, "a model with an input scaling is written as version %u, expected 2", (unsigned)buf[8]);
    EXPECT_OK(bp_load_from_buffer(buf, size, &loaded));
    if (loaded != NULL) {
        EXPECT_OK(bp_get_input_scaling(loaded, shift, scale, FEATURES));
        CHECK(memcmp(shift, SHIFT, sizeof shift) == 0 && memcmp(scale, SCALE, sizeof scale) == 0,
              "the loaded scaling differs from the saved one");
        EXPECT_OK(bp_predict(net, x, SAMPLES, out_a));
        EXPECT_OK(bp_predict(loaded, x, SAMPLES, out_b));
        CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "the loaded model predicts otherwise");
    }
    free(buf);
    EXPECT_OK(bp_set_input_scaling(net, NULL, NULL, 0));
    EXPECT_OK(bp_get_input_scaling(net, shift, scale, FEATURES));
    CHECK(shift[0] == 0.0f && scale[2] == 1.0f, "without a scaling bp_get_input_scaling is not the identity");
    EXPECT_OK(bp_save_to_buffer(net, NULL, 0, &size));
    buf = xmalloc(size);
    EXPECT_OK(bp_save_to_buffer(net, buf, size, &size));
    CHECK(buf[8] == 1, "a model whose scaling was removed is written as version %u, expected 1", (unsigned)buf[8]);
    free(buf);
    bp_destroy(net);
    bp_destroy(loaded);
}

static void check_standardize(void)
{
    const float x[4 * FEATURES] = {1, 5, 7, 2, 5, -1, 4, 5, 3, 9, 5, 0.5f}; /* feature 1 is constant */
    float shift[FEATURES], scale[FEATURES];
    bp_network *net = CREATE_DESC(&SCALED_NET, 2);
    if (net == NULL)
        return;
    EXPECT_OK(bp_standardize_inputs(net, x, 4));
    EXPECT_OK(bp_get_input_scaling(net, shift, scale, FEATURES));
    for (size_t k = 0; k < FEATURES; k++) {
        double mean = 0, var = 0;
        for (size_t r = 0; r < 4; r++)
            mean += x[r * FEATURES + k] / 4.0;
        for (size_t r = 0; r < 4; r++)
            var += (x[r * FEATURES + k] - mean) * (x[r * FEATURES + k] - mean) / 4.0;
        CHECK(shift[k] == (float)mean, "feature %zu: shift %.9g, mean %.9g", k, shift[k], mean);
        CHECK(var == 0 ? scale[k] == 1.0f : scale[k] == (float)(1 / sqrt(var)), "feature %zu: scale %.9g, 1/σ %.9g", k,
              scale[k], var == 0 ? 1.0 : 1 / sqrt(var));
    }
    bp_destroy(net);
}

static void check_errors(void)
{
    bp_network *net = CREATE_DESC(&SCALED_NET, 2);
    const float bad[FEATURES] = {0, NAN, 1};
    float shift[FEATURES], scale[FEATURES], x[FEATURES] = {1, 2, 3};
    if (net == NULL)
        return;
    EXPECT_OK(bp_set_input_scaling(net, SHIFT, SCALE, FEATURES));
    EXPECT_ERR(bp_set_input_scaling(NULL, SHIFT, SCALE, FEATURES), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_set_input_scaling(net, NULL, SCALE, FEATURES), BP_ERROR_NULL_ARGUMENT, "shift");
    EXPECT_ERR(bp_set_input_scaling(net, SHIFT, NULL, FEATURES), BP_ERROR_NULL_ARGUMENT, "scale");
    EXPECT_ERR(bp_set_input_scaling(net, SHIFT, SCALE, FEATURES - 1), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_set_input_scaling(net, SHIFT, bad, FEATURES), BP_ERROR_NON_FINITE, "scale");
    EXPECT_ERR(bp_set_input_scaling(net, NULL, NULL, FEATURES), BP_ERROR_NULL_ARGUMENT, "shift");
    EXPECT_ERR(bp_get_input_scaling(net, shift, NULL, FEATURES), BP_ERROR_NULL_ARGUMENT, "scale");
    EXPECT_ERR(bp_get_input_scaling(net, shift, scale, FEATURES + 1), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_standardize_inputs(net, x, 0), BP_ERROR_INVALID_ARGUMENT, "count");
    EXPECT_ERR(bp_standardize_inputs(net, NULL, 1), BP_ERROR_NULL_ARGUMENT, "inputs");
    x[1] = INFINITY;
    EXPECT_ERR(bp_standardize_inputs(net, x, 1), BP_ERROR_NON_FINITE, "inputs");
    EXPECT_OK(bp_get_input_scaling(net, shift, scale, FEATURES));
    CHECK(memcmp(shift, SHIFT, sizeof shift) == 0 && memcmp(scale, SCALE, sizeof scale) == 0,
          "a refused call changed the scaling");
    bp_destroy(net);
}

/* A regressor with a target scaling against its twin trained on targets scaled here. */
static const net_desc REGRESSOR = {3, {2, 5, 2}, {BP_TANH, BP_LINEAR}, BP_LOSS_MSE};
static const float TSHIFT[2] = {100.0f, -3.0f}, TSCALE[2] = {0.125f, 2.0f};

static void check_target_scaling(void)
{
    bp_network *scaled = CREATE_DESC(&REGRESSOR, 4), *plain = CREATE_DESC(&REGRESSOR, 4), *loaded = NULL;
    bp_network *classifier = CREATE_DESC(&SCALED_NET, 4);
    float x[SAMPLES * 2], y[SAMPLES * 2], ys[SAMPLES * 2], out_a[SAMPLES * 2], out_b[SAMPLES * 2], la = 0, lb = 0;
    const float zero_scale[2] = {1.0f, 0.0f};
    unsigned char *buf = NULL;
    size_t size = 0;
    bp_metrics m = {sizeof m, 0, 0, 0, 0, 0};
    double absolute = 0;
    if (scaled == NULL || plain == NULL || classifier == NULL)
        goto done;
    for (size_t i = 0; i < SAMPLES * 2; i++) {
        x[i] = (float)((i * 3) % 7) / 3.0f - 1.0f;
        y[i] = i % 2 ? (float)i / 4.0f - 3.0f : 100.0f + (float)i;
        ys[i] = (y[i] - TSHIFT[i % 2]) * TSCALE[i % 2];
    }
    EXPECT_OK(bp_set_target_scaling(scaled, TSHIFT, TSCALE, 2));
    for (int step = 0; step < 3; step++) {
        EXPECT_OK(bp_train_step(scaled, x, y, SAMPLES, 0.1f, &la));
        EXPECT_OK(bp_train_step(plain, x, ys, SAMPLES, 0.1f, &lb));
        EXPECT_OK(bp_train_step(scaled, x + 2, y + 2, 1, 0.1f, NULL)); /* the tiny network's path */
        EXPECT_OK(bp_train_step(plain, x + 2, ys + 2, 1, 0.1f, NULL));
    }
    CHECK(la == lb && same_params(scaled, plain), "training with a target scaling differs from scaled targets");
    EXPECT_OK(bp_forward(scaled, x, SAMPLES, out_a));
    EXPECT_OK(bp_backward(scaled, y, SAMPLES, &la));
    EXPECT_OK(bp_forward(plain, x, SAMPLES, out_b));
    EXPECT_OK(bp_backward(plain, ys, SAMPLES, &lb));
    CHECK(la == lb, "bp_backward with a target scaling: loss %.9g, scaled targets %.9g", la, lb);
    for (size_t i = 0; i < SAMPLES * 2; i++)
        out_b[i] = out_b[i] / TSCALE[i % 2] + TSHIFT[i % 2];
    CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "bp_forward's outputs are not in the targets' units");
    EXPECT_OK(bp_predict(scaled, x, SAMPLES, out_a));
    CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "bp_predict's outputs are not in the targets' units");
    EXPECT_OK(bp_evaluate(scaled, x, y, SAMPLES, &la, NULL));
    EXPECT_OK(bp_evaluate(plain, x, ys, SAMPLES, &lb, NULL));
    CHECK(la == lb, "bp_evaluate with a target scaling: loss %.9g, scaled targets %.9g", la, lb);
    EXPECT_OK(bp_evaluate_metrics(scaled, x, y, NULL, SAMPLES, &m, NULL, 0));
    for (size_t i = 0; i < SAMPLES * 2; i++)
        absolute += fabs((double)out_a[i] - y[i]) / (SAMPLES * 2);
    CHECK(fabs(m.mean_absolute_error - absolute) <= 1e-5 * absolute, "MAE %.9g in the targets' units is %.9g",
          m.mean_absolute_error, absolute);
    /* Model files keep it; a classifier or a zero scale is refused. */
    EXPECT_OK(bp_save_to_buffer(scaled, NULL, 0, &size));
    buf = xmalloc(size);
    EXPECT_OK(bp_save_to_buffer(scaled, buf, size, &size));
    CHECK(buf[8] == 2, "a model with a target scaling is written as version %u", (unsigned)buf[8]);
    EXPECT_OK(bp_load_from_buffer(buf, size, &loaded));
    if (loaded != NULL) {
        EXPECT_OK(bp_predict(loaded, x, SAMPLES, out_b));
        CHECK(memcmp(out_a, out_b, sizeof out_a) == 0, "the loaded model's predictions differ");
    }
    EXPECT_ERR(bp_set_target_scaling(classifier, TSHIFT, TSCALE, 2), BP_ERROR_INVALID_ARGUMENT, "net");
    EXPECT_ERR(bp_set_target_scaling(scaled, TSHIFT, zero_scale, 2), BP_ERROR_INVALID_ARGUMENT, "scale");
    EXPECT_ERR(bp_set_target_scaling(scaled, TSHIFT, TSCALE, 3), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_OK(bp_standardize_targets(plain, y, SAMPLES));
    EXPECT_OK(bp_get_target_scaling(plain, out_a, out_b, 2));
    CHECK(fabsf(out_a[0] - 104.0f) < 1e-4f, "standardised targets' shift %.9g, mean 104", out_a[0]);
    EXPECT_OK(bp_get_target_scaling(scaled, out_a, out_b, 2));
    CHECK(memcmp(out_b, TSCALE, sizeof TSCALE) == 0, "a refused bp_set_target_scaling changed the scaling");
done:
    free(buf);
    bp_destroy(scaled);
    bp_destroy(plain);
    bp_destroy(loaded);
    bp_destroy(classifier);
}

void case_scaling(void)
{
    float x[SAMPLES * FEATURES], y[SAMPLES * 2], xs[SAMPLES * FEATURES];
    make_data(x, y);
    scale_here(x, xs, SAMPLES);
    check_every_call_scales(x, y, xs);
    check_fit_scales(x, y, xs);
    check_model_files(x);
    check_standardize();
    check_errors();
    check_target_scaling();
}
