/*
 * test_api_weights.c — sample weights: bp_backward_weighted's loss and gradients against
 * the weighted mean of single-sample passes (in double precision) and against duplicated
 * samples, bp_train_step_weighted and bp_evaluate_weighted, bp_fit's sample and validation
 * weights, the argument errors (nothing changed by any), and bp_fit_options of the first
 * layout, which programs built before the weights still pass.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_api.h"

#include <stddef.h>

static const net_desc WEIGHTS_NET = {3, {3, 5, 2}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
#define ROWS 4
#define PARAMS (3 * 5 + 5 + 5 * 2 + 2)

/* Inputs and one-hot targets of ROWS samples. */
static void make_data(float *x, float *y)
{
    for (size_t i = 0; i < ROWS * 3; i++)
        x[i] = (float)((i * 7) % 11) / 5.0f - 1.0f;
    for (size_t s = 0; s < ROWS; s++) {
        y[2 * s] = (float)(s % 2);
        y[2 * s + 1] = 1.0f - (float)(s % 2);
    }
}

/* The largest |a_i − b_i| relative to max(‖b‖∞, 1e-6). */
static double relative_gap(const float *a, const double *b, size_t n)
{
    double scale = 1e-6, worst = 0.0;
    for (size_t i = 0; i < n; i++)
        scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    for (size_t i = 0; i < n; i++)
        worst = fabs(a[i] - b[i]) > worst ? fabs(a[i] - b[i]) : worst;
    return worst / scale;
}

static void check_weighted_means(bp_network *net, const float *x, const float *y)
{
    const float w[ROWS] = {2.0f, 0.5f, 0.0f, 1.5f};
    double loss_sum = 0.0, weight_sum = 0.0, want[PARAMS] = {0};
    float *g, loss = 0.0f;
    for (size_t s = 0; s < ROWS; s++) {
        float sample_loss = 0.0f, *gs;
        EXPECT_OK(bp_forward(net, x + 3 * s, 1, NULL));
        EXPECT_OK(bp_backward(net, y + 2 * s, 1, &sample_loss));
        gs = GET_GRADS(net);
        for (size_t i = 0; i < PARAMS; i++)
            want[i] += (double)w[s] * gs[i];
        loss_sum += (double)w[s] * sample_loss;
        weight_sum += w[s];
        free(gs);
    }
    for (size_t i = 0; i < PARAMS; i++)
        want[i] /= weight_sum;
    EXPECT_OK(bp_forward(net, x, ROWS, NULL));
    EXPECT_OK(bp_backward_weighted(net, y, w, ROWS, &loss));
    g = GET_GRADS(net);
    CHECK(fabs(loss - loss_sum / weight_sum) <= 1e-6 * fabs(loss_sum / weight_sum),
          "weighted loss %.9g, the weighted mean of single samples %.9g", loss, loss_sum / weight_sum);
    CHECK(relative_gap(g, want, PARAMS) < 1e-5, "weighted gradients differ from the weighted mean of single samples by %g",
          relative_gap(g, want, PARAMS));
    free(g);
}

/* Weights 2, 1, 0, 3 are the batch x0 x0 x1 x3 x3 x3. */
static void check_weights_duplicate_samples(bp_network *net, const float *x, const float *y)
{
    const float w[ROWS] = {2.0f, 1.0f, 0.0f, 3.0f};
    const size_t copies[6] = {0, 0, 1, 3, 3, 3};
    float xd[6 * 3], yd[6 * 2], loss_w = 0.0f, loss_d = 0.0f, *gw, *gd;
    double want[PARAMS];
    for (size_t s = 0; s < 6; s++) {
        memcpy(xd + 3 * s, x + 3 * copies[s], 3 * sizeof *xd);
        memcpy(yd + 2 * s, y + 2 * copies[s], 2 * sizeof *yd);
    }
    EXPECT_OK(bp_forward(net, xd, 6, NULL));
    EXPECT_OK(bp_backward(net, yd, 6, &loss_d));
    gd = GET_GRADS(net);
    EXPECT_OK(bp_forward(net, x, ROWS, NULL));
    EXPECT_OK(bp_backward_weighted(net, y, w, ROWS, &loss_w));
    gw = GET_GRADS(net);
    for (size_t i = 0; i < PARAMS; i++)
        want[i] = gd[i];
    CHECK(fabs(loss_w - loss_d) <= 1e-6 * fabs(loss_d), "weights 2,1,0,3: loss %.9g, duplicated samples %.9g", loss_w,
          loss_d);
    CHECK(relative_gap(gw, want, PARAMS) < 1e-5, "weights 2,1,0,3 differ from duplicated samples by %g",
          relative_gap(gw, want, PARAMS));
    free(gw);
    free(gd);
}

static void check_steps_and_evaluation(bp_network *net, const float *x, const float *y)
{
    bp_network *twin = CREATE_DESC(&WEIGHTS_NET, 3);
    const float w3 = 3.0f, w[ROWS] = {1.0f, 0.0f, 2.0f, 1.0f};
    float loss = 0.0f, loss_w = 0.0f, accuracy = 0.0f, accuracy_w = 0.0f, *p;
    double want_loss = 0.0, want_correct = 0.0;
    size_t n = 0;
    if (twin == NULL)
        return;
    p = GET_PARAMS(net, &n);
    EXPECT_OK(bp_set_parameters(twin, p, n));
    /* One sample: its weight cancels, bit for bit. */
    EXPECT_OK(bp_train_step(net, x, y, 1, 0.1f, &loss));
    EXPECT_OK(bp_train_step_weighted(twin, x, y, &w3, 1, 0.1f, &loss_w));
    free(p);
    p = GET_PARAMS(net, &n);
    CHECK(loss == loss_w && params_equal(twin, p, n), "a weighted step on one sample differs from the unweighted one");
    free(p);
    /* Weighted evaluation: the weighted mean of each sample's loss and correctness. */
    for (size_t s = 0; s < ROWS; s++) {
        EXPECT_OK(bp_evaluate(net, x + 3 * s, y + 2 * s, 1, &loss, &accuracy));
        want_loss += (double)w[s] * loss;
        want_correct += (double)w[s] * accuracy;
    }
    EXPECT_OK(bp_evaluate_weighted(net, x, y, w, ROWS, &loss_w, &accuracy_w));
    CHECK(fabs(loss_w - want_loss / 4.0) <= 1e-6 * fabs(want_loss / 4.0), "weighted evaluation loss %.9g, expected %.9g",
          loss_w, want_loss / 4.0);
    CHECK(accuracy_w == (float)(want_correct / 4.0), "weighted accuracy %.9g, expected %.9g", accuracy_w,
          want_correct / 4.0);
    bp_destroy(twin);
}

static void check_errors(bp_network *net, const float *x, const float *y)
{
    float zeros[ROWS] = {0}, negative[ROWS] = {1, -1, 1, 1}, nan_weight[ROWS] = {1, 1, NAN, 1}, *before, loss = 0.0f;
    float ones[ROWS] = {1, 1, 1, 1};
    size_t n = 0;
    EXPECT_OK(bp_forward(net, x, ROWS, NULL));
    before = GET_PARAMS(net, &n);
    EXPECT_ERR(bp_backward_weighted(net, y, NULL, ROWS, &loss), BP_ERROR_NULL_ARGUMENT, "weights");
    EXPECT_ERR(bp_backward_weighted(net, y, zeros, ROWS, &loss), BP_ERROR_INVALID_ARGUMENT, "weights");
    EXPECT_ERR(bp_backward_weighted(net, y, negative, ROWS, &loss), BP_ERROR_INVALID_ARGUMENT, "weights");
    EXPECT_ERR(bp_backward_weighted(net, y, nan_weight, ROWS, &loss), BP_ERROR_NON_FINITE, "weights");
    EXPECT_ERR(bp_train_step_weighted(net, x, y, NULL, ROWS, 0.1f, &loss), BP_ERROR_NULL_ARGUMENT, "weights");
    EXPECT_ERR(bp_train_step_weighted(net, x, y, zeros, ROWS, 0.1f, &loss), BP_ERROR_INVALID_ARGUMENT, "weights");
    EXPECT_ERR(bp_train_step_weighted(net, x, y, zeros, 1, 0.1f, &loss), BP_ERROR_INVALID_ARGUMENT, "weights");
    EXPECT_ERR(bp_train_step_weighted(net, x, y, negative, ROWS, 0.1f, &loss), BP_ERROR_INVALID_ARGUMENT, "weights");
    EXPECT_ERR(bp_evaluate_weighted(net, x, y, NULL, ROWS, &loss, NULL), BP_ERROR_NULL_ARGUMENT, "weights");
    EXPECT_ERR(bp_evaluate_weighted(net, x, y, nan_weight, ROWS, &loss, NULL), BP_ERROR_NON_FINITE, "weights");
    EXPECT_ERR(bp_evaluate_weighted(NULL, x, y, ones, ROWS, &loss, NULL), BP_ERROR_NULL_ARGUMENT, "net");
    CHECK(params_equal(net, before, n), "a refused weighted call changed the parameters");
    free(before);
}

/* Weight 0 for the last half: full-batch fit on all samples is fit on the first half. */
static void check_fit_weights(const float *x, const float *y)
{
    bp_network *all = CREATE_DESC(&WEIGHTS_NET, 11), *half = CREATE_DESC(&WEIGHTS_NET, 11);
    const float w[ROWS] = {1.0f, 1.0f, 0.0f, 0.0f}, vw[ROWS] = {0.0f, 1.0f, 0.0f, 3.0f};
    bp_fit_options o;
    bp_epoch_report history[5], half_history[5];
    float *pa, *ph, vloss = 0.0f;
    double want[PARAMS];
    if (all == NULL || half == NULL)
        goto done;
    bp_fit_options_init(&o);
    CHECK(o.struct_size == sizeof(bp_fit_options) && o.sample_weights == NULL && o.validation_weights == NULL,
          "bp_fit_options_init: struct_size %zu, weights not NULL", o.struct_size);
    o.epochs = 5;
    o.batch_size = ROWS;
    o.shuffle = 0;
    o.learning_rate = 0.5f;
    EXPECT_OK(bp_fit(half, x, y, 2, &o, half_history, 5, NULL));
    o.sample_weights = w;
    o.validation_inputs = x;
    o.validation_targets = y;
    o.validation_count = ROWS;
    o.validation_weights = vw;
    EXPECT_OK(bp_fit(all, x, y, ROWS, &o, history, 5, NULL));
    pa = GET_PARAMS(all, NULL);
    ph = GET_PARAMS(half, NULL);
    for (size_t i = 0; i < PARAMS; i++)
        want[i] = ph[i];
    CHECK(relative_gap(pa, want, PARAMS) < 1e-5, "fit with weights 1,1,0,0 differs from fit on the first two by %g",
          relative_gap(pa, want, PARAMS));
    CHECK(fabsf(history[0].train_loss - half_history[0].train_loss) <= 1e-6f * half_history[0].train_loss,
          "the epoch's weighted loss %.9g, the first two samples' %.9g", history[0].train_loss,
          half_history[0].train_loss);
    EXPECT_OK(bp_evaluate_weighted(all, x, y, vw, ROWS, &vloss, NULL));
    CHECK(history[4].validation_loss == vloss, "the last epoch's validation loss %.9g, bp_evaluate_weighted %.9g",
          history[4].validation_loss, vloss);
    free(pa);
    free(ph);
done:
    bp_destroy(all);
    bp_destroy(half);
}

/* The first layout, as programs built before the weights have it. */
static void check_first_layout(const float *x, const float *y)
{
    const size_t first = offsetof(bp_fit_options, sample_weights);
    unsigned char room[sizeof(bp_fit_options) + 32];
    bp_fit_options *o = (bp_fit_options *)(void *)room;
    bp_network *net = CREATE_DESC(&WEIGHTS_NET, 5);
    memset(room, 0xA5, sizeof room);
    (bp_fit_options_init)(o); /* the function, not the macro: what an old program calls */
    CHECK(o->struct_size == first, "bp_fit_options_init() wrote struct_size %zu, expected %zu", o->struct_size, first);
    CHECK(room[first] == 0xA5 && room[sizeof room - 1] == 0xA5, "bp_fit_options_init() wrote past the first layout");
    if (net != NULL) {
        o->epochs = 2;
        EXPECT_OK(bp_fit(net, x, y, ROWS, o, NULL, 0, NULL)); /* the bytes after it are not read */
    }
    memset(room, 0xA5, sizeof room);
    bp_fit_options_init_sized(o, first - 1);
    CHECK(room[0] == 0xA5 && room[first - 1] == 0xA5, "bp_fit_options_init_sized() with too small a size wrote");
    bp_fit_options_init_sized(o, sizeof room);
    CHECK(o->struct_size == sizeof(bp_fit_options) && room[sizeof(bp_fit_options)] == 0xA5,
          "bp_fit_options_init_sized() of a newer, larger struct: struct_size %zu, or it wrote past what it knows",
          o->struct_size);
    bp_destroy(net);
}

void case_weights(void)
{
    float x[ROWS * 3], y[ROWS * 2];
    bp_network *net = CREATE_DESC(&WEIGHTS_NET, 3);
    make_data(x, y);
    if (net != NULL) {
        check_weighted_means(net, x, y);
        check_weights_duplicate_samples(net, x, y);
        check_steps_and_evaluation(net, x, y);
        check_errors(net, x, y);
    }
    check_fit_weights(x, y);
    check_first_layout(x, y);
    bp_destroy(net);
}
