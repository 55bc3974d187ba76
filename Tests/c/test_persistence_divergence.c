/*
 * test_persistence_divergence.c — test_persistence cases on training that blows up:
 * BP_ERROR_DIVERGED with the parameters unchanged (never BP_OK with non-finite ones) for
 * overflowing inputs, huge learning rates in bp_train_step, bp_update and bp_fit, and
 * softmax with extreme logits; option values valid as doubles but not as floats; and a
 * checkpoint saved from bp_fit's progress callback holding the parameters of that moment.
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#include "test_persistence.h"

/*-************************************************************************
 *  Cases: extreme option values, checkpoints from bp_fit
 **************************************************************************/
void case_options_extreme_values(void)
{
    /* Option values that are valid doubles but not valid floats (the update runs in float):
     * values that become infinite as floats are refused (BP_ERROR_NON_FINITE), values that
     * become 0 where 0 is out of range are refused (BP_ERROR_INVALID_ARGUMENT); whatever is
     * accepted, training must leave finite parameters or report BP_ERROR_DIVERGED. */
    struct {
        int32_t optimizer, key;
        double value;
        const char *what;
    } cases[] = {
        {BP_OPTIMIZER_SGD, BP_OPTION_WEIGHT_DECAY, 1e300, "SGD, weight decay 1e300"},
        {BP_OPTIMIZER_MOMENTUM, BP_OPTION_WEIGHT_DECAY, 1e39, "momentum, weight decay 1e39"},
        {BP_OPTIMIZER_ADAMW, BP_OPTION_WEIGHT_DECAY, 1e300, "AdamW, weight decay 1e300"},
        {BP_OPTIMIZER_ADAM, BP_OPTION_EPSILON, 1e-300, "Adam, epsilon 1e-300 (0 in float)"},
        {BP_OPTIMIZER_ADAM, BP_OPTION_EPSILON, 1e300, "Adam, epsilon 1e300 (inf in float)"},
        {BP_OPTIMIZER_RPROP, BP_OPTION_RPROP_MAX_STEP, 1e300, "RPROP, max step 1e300"},
        {BP_OPTIMIZER_RPROP, BP_OPTION_RPROP_MIN_STEP, 1e-300, "RPROP, min step 1e-300"},
        {BP_OPTIMIZER_SGD, BP_OPTION_CLIP_NORM, 1e-300, "SGD, clip norm 1e-300"},
        {BP_OPTIMIZER_SGD, BP_OPTION_CLIP_NORM, 1e300, "SGD, clip norm 1e300"},
    };
    /* A ReLU layer with dead units gives exact zero gradients (Adam's 0 / (0 + ε)). */
    const net_desc d = {3, {3, 6, 2}, {BP_RELU, BP_LINEAR}, BP_LOSS_MSE};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bp_network *net = CREATE_DESC(&d, 51);
        size_t n = bp_parameter_count(net), batch = 4;
        float *x, *y;
        bp_status s;
        int bad = 0;
        rng_seed(1100 + i);
        x = random_floats(batch * 3, -1.0, 1.0);
        y = random_floats(batch * 2, -1.0, 1.0);
        EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, cases[i].optimizer));
        if (cases[i].key == BP_OPTION_RPROP_MIN_STEP)
            EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, 1e-3));
        s = bp_set_option(net, cases[i].key, cases[i].value);
        CHECK(cases[i].value > 3.4e38 ? s == BP_ERROR_NON_FINITE : (s == BP_OK || s == BP_ERROR_INVALID_ARGUMENT),
              "%s: bp_set_option: %s", cases[i].what, status_name(s));
        for (int step = 0; step < 30 && !bad; step++) {
            float *before = get_params(net, NULL), *after;
            bp_status t = bp_train_step(net, x, y, batch, 0.01f, NULL);
            after = get_params(net, NULL);
            if (t == BP_OK && !all_finite(after, n)) {
                bad = 1;
                CHECK(0, "%s: step %d returned BP_OK but left NaN or infinite parameters", cases[i].what, step);
            } else if (t == BP_ERROR_DIVERGED) {
                bad = 1;
                CHECK(memcmp(before, after, n * sizeof *after) == 0, "%s: diverged but changed the parameters",
                      cases[i].what);
            } else if (t != BP_OK) {
                bad = 1;
                CHECK(0, "%s: step %d: %s", cases[i].what, step, status_name(t));
            }
            free(before);
            free(after);
        }
        if (!bad)
            CHECK(1, "ok");
        free(x);
        free(y);
        bp_destroy(net);
    }
}

static bp_network *g_fit_net; /* the network bp_fit is training, for the callback */

typedef struct {
    const char *path;
    int saves;
    size_t count;
    float *params_at_save; /* the parameters when the callback saved */
    int save_status;
} checkpoint_ctx;

static int checkpoint_progress(const bp_epoch_report *report, void *user)
{
    /* A progress callback that checkpoints the network it reports on, as a user would. */
    checkpoint_ctx *ctx = user;
    if (report->epoch == 3) {
        ctx->save_status = bp_save(g_fit_net, ctx->path);
        ctx->saves++;
        ctx->params_at_save = xmalloc(ctx->count * sizeof(float));
        if (bp_get_parameters(g_fit_net, ctx->params_at_save, ctx->count) != BP_OK)
            memset(ctx->params_at_save, 0xEE, ctx->count * sizeof(float));
    }
    return 1;
}

void case_fit_checkpoint_and_divergence(void)
{
    const net_desc *d = &NET_SOFTMAX;
    char *dir = make_temp_dir();
    char *path = join(dir, "checkpoint.bpm");
    bp_network *net = CREATE_DESC(d, 61), *back = NULL;
    size_t count = 50, n = bp_parameter_count(net), epochs_run = 0;
    float *x, *y;
    bp_fit_options options;
    checkpoint_ctx ctx;
    rng_seed(1200);
    x = random_floats(count * in_size(d), -1.0, 1.0);
    y = make_targets(d, count);
    memset(&ctx, 0, sizeof ctx);
    ctx.path = path;
    ctx.count = n;
    bp_fit_options_init(&options);
    options.epochs = 5;
    options.batch_size = 7;
    options.progress = checkpoint_progress;
    options.user_data = &ctx;
    EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
    g_fit_net = net;
    EXPECT_OK(bp_fit(net, x, y, count, &options, NULL, 0, &epochs_run));
    CHECK(epochs_run == 5, "epochs_run = %zu", epochs_run);
    CHECK(ctx.saves == 1 && ctx.save_status == BP_OK, "the checkpoint in the progress callback: %d saves, %s",
          ctx.saves, status_name(ctx.save_status));
    EXPECT_OK(bp_load(path, &back));
    CHECK(back != NULL && ctx.params_at_save != NULL && params_equal_to(back, ctx.params_at_save, n),
          "the checkpoint saved during bp_fit does not hold the parameters of that moment");
    /* Resuming from the checkpoint for the remaining 2 epochs gives what the uninterrupted
     * run gave? Not with shuffling (the order depends on the epoch); without shuffling yes. */
    bp_destroy(back);
    free(ctx.params_at_save);

    /* bp_fit with a learning rate that blows up: BP_ERROR_DIVERGED, parameters from before
     * the diverging step, never BP_OK with non-finite parameters. */
    {
        const net_desc lin = {3, {3, 5, 1}, {BP_LINEAR, BP_LINEAR}, BP_LOSS_MSE};
        bp_network *l = CREATE_DESC(&lin, 62);
        size_t ln = bp_parameter_count(l);
        float *lx = random_floats(20 * 3, 0.5, 2.0), *ly = random_floats(20, 3.0, 5.0), *p;
        bp_status s;
        bp_fit_options_init(&options);
        options.epochs = 20;
        options.batch_size = 4;
        options.learning_rate = 1e30f;
        s = bp_fit(l, lx, ly, 20, &options, NULL, 0, &epochs_run);
        p = get_params(l, NULL);
        CHECK(s == BP_ERROR_DIVERGED, "bp_fit with a learning rate of 1e30: %s after %zu epochs", status_name(s),
              epochs_run);
        CHECK(all_finite(p, ln), "bp_fit with a learning rate of 1e30 left non-finite parameters (%s)",
              status_name(s));
        free(p);
        free(lx);
        free(ly);
        bp_destroy(l);
    }
    free(x);
    free(y);
    bp_destroy(net);
    free(path);
    remove_tree(dir);
    free(dir);
}

/*-************************************************************************
 *  Cases: divergence
 **************************************************************************/
void case_diverged_overflowing_inputs(void)
{
    /* Linear output, MSE: inputs of 1e30 give outputs ~1e30 and a loss of ~1e60 = inf. */
    const net_desc d = {3, {4, 6, 2}, {BP_LINEAR, BP_LINEAR}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&d, 21);
    size_t n = bp_parameter_count(net), batch = 5;
    float *x = random_floats(batch * 4, 1e29, 3e30), *y = random_floats(batch * 2, 0.0, 1.0);
    float *before = get_params(net, NULL), loss = 0.0f;
    float *ok_x = random_floats(batch * 4, -1.0, 1.0);

    EXPECT(bp_train_step(net, x, y, batch, 0.01f, &loss), BP_ERROR_DIVERGED);
    CHECK(params_equal_to(net, before, n), "bp_train_step changed the parameters although it diverged");
    /* The same through forward / backward / update. */
    EXPECT_OK(bp_forward(net, x, batch, NULL));
    {
        bp_status s = bp_backward(net, y, batch, &loss);
        CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_backward: %s", status_name(s));
        if (s == BP_OK) {
            EXPECT(bp_update(net, 0.01f), BP_ERROR_DIVERGED);
            CHECK(params_equal_to(net, before, n), "bp_update changed the parameters although it diverged");
            EXPECT(bp_update(net, 0.0f), BP_ERROR_DIVERGED); /* still refused, even with η = 0 */
            CHECK(params_equal_to(net, before, n), "a second bp_update changed the parameters");
        }
    }
    /* The network is still usable afterwards. */
    EXPECT_OK(bp_train_step(net, ok_x, y, batch, 0.01f, NULL));
    {
        float *p = get_params(net, NULL);
        CHECK(all_finite(p, n), "the parameters are not finite after recovering");
        free(p);
    }
    free(x);
    free(y);
    free(ok_x);
    free(before);
    bp_destroy(net);
}

void case_diverged_huge_learning_rate(void)
{
    /* A learning rate of 1e30 on a linear network: the first step is finite (but huge),
     * the next one overflows. Whichever step diverges must leave the parameters as they
     * were before it; a step reported as BP_OK must leave them finite, or the model can
     * no longer be saved and loaded (the loader refuses non-finite parameters). */
    const net_desc d = {3, {3, 5, 1}, {BP_LINEAR, BP_LINEAR}, BP_LOSS_MSE};
    const float rates[] = {1e30f, 1e38f, FLT_MAX};
    for (size_t r = 0; r < 3; r++) {
        bp_network *net = CREATE_DESC(&d, 23);
        size_t n = bp_parameter_count(net), batch = 4;
        float *x, *y;
        int diverged = 0, nonfinite_ok = 0;
        rng_seed(900 + r);
        x = random_floats(batch * 3, 0.5, 2.0);
        y = random_floats(batch, 3.0, 5.0);
        for (int step = 0; step < 6 && !diverged; step++) {
            float *before = get_params(net, NULL), *after;
            bp_status s = bp_train_step(net, x, y, batch, rates[r], NULL);
            after = get_params(net, NULL);
            if (s == BP_ERROR_DIVERGED) {
                diverged = 1;
                CHECK(memcmp(before, after, n * sizeof *before) == 0,
                      "rate %g, step %d: BP_ERROR_DIVERGED but the parameters changed", (double)rates[r], step);
            } else {
                CHECK(s == BP_OK, "rate %g, step %d: %s", (double)rates[r], step, status_name(s));
                if (!all_finite(after, n) && nonfinite_ok++ == 0) {
                    bp_network *back = NULL;
                    size_t size = 0;
                    unsigned char *bytes = MODEL_BYTES(net, &size);
                    bp_status ls = load_buffer(bytes, size, &back);
                    CHECK(0,
                          "rate %g, step %d: bp_train_step returned BP_OK but left non-finite parameters "
                          "(a finite gradient times the rate overflowed); the saved model then loads with %s",
                          (double)rates[r], step, status_name(ls));
                    bp_destroy(back);
                    free(bytes);
                }
            }
            free(before);
            free(after);
        }
        CHECK(diverged, "rate %g: six steps never reported BP_ERROR_DIVERGED", (double)rates[r]);
        /* bp_update on its own, after a diverging bp_backward. */
        {
            float *before = get_params(net, NULL);
            EXPECT_OK(bp_forward(net, x, batch, NULL));
            if (bp_backward(net, y, batch, NULL) == BP_OK) {
                bp_status s = bp_update(net, rates[r]);
                CHECK(s == BP_ERROR_DIVERGED, "rate %g: bp_update after a diverged step: %s", (double)rates[r],
                      status_name(s));
                CHECK(params_equal_to(net, before, n), "rate %g: bp_update changed the parameters", (double)rates[r]);
            }
            free(before);
        }
        free(x);
        free(y);
        bp_destroy(net);
    }
}

void case_diverged_softmax_extremes(void)
{
    /* Softmax + cross-entropy with extreme logits: the library's fused, stable δ must either
     * train normally or report divergence; never NaN parameters. */
    const net_desc d = {2, {3, 4}, {BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&d, 25);
    size_t n = bp_parameter_count(net), batch = 3;
    float x[9] = {1e20f, -1e20f, 3e19f, -2e20f, 5e19f, 1e18f, 3e38f, -3e38f, 3e38f};
    float y[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    float *before = get_params(net, NULL), *after;
    bp_status s = bp_train_step(net, x, y, batch, 0.1f, NULL);
    after = get_params(net, NULL);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_train_step: %s", status_name(s));
    if (s == BP_ERROR_DIVERGED)
        CHECK(memcmp(before, after, n * sizeof *before) == 0, "diverged but the parameters changed");
    else
        CHECK(all_finite(after, n), "BP_OK but the parameters are not finite");
    free(before);
    free(after);
    bp_destroy(net);
}
