/*
 * test_api_dropout.c — bp_set_dropout, bp_get_dropout and bp_forward_train: training
 * passes drop and plain passes do not, bp_backward follows the training pass's masks
 * (its gradients are those of the outputs it produced), training is bit-identical at 1
 * and 2 threads and resumes from a model file, and the argument errors change nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_api.h"

#define BATCH 64
#define IN 16
#define OUT 3

static const net_desc NET = {4, {IN, 96, 48, OUT}, {BP_RELU, BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
static const float RATES[2] = {0.5f, 0.25f};

static void fill(float *x, float *y)
{
    for (size_t s = 0; s < BATCH; s++) {
        for (size_t k = 0; k < IN; k++)
            x[s * IN + k] = (float)((s * 7 + k * 3) % 11) / 5.0f - 1.0f;
        for (size_t j = 0; j < OUT; j++)
            y[s * OUT + j] = j == s % OUT ? 1.0f : 0.0f;
    }
}

static bp_network *dropping_net(size_t threads)
{
    bp_network *net = CREATE_DESC(&NET, 3);
    if (net == NULL)
        return NULL;
    EXPECT_OK(bp_set_dropout(net, RATES, 2, 11));
    EXPECT_OK(bp_set_threads(net, threads));
    return net;
}

static void train(bp_network *net, const float *x, const float *y, int steps)
{
    for (int i = 0; i < steps; i++)
        EXPECT_OK(bp_train_step(net, x, y, BATCH, 0.05f, NULL));
}

static void check_passes(const float *x, const float *y)
{
    bp_network *net = dropping_net(1), *plain = CREATE_DESC(&NET, 3);
    float a[BATCH * OUT], b[BATCH * OUT], c[BATCH * OUT], rates[2] = {-1, -1}, loss = 0;
    if (net == NULL || plain == NULL)
        goto done;
    EXPECT_OK(bp_get_dropout(net, rates, 2));
    CHECK(rates[0] == RATES[0] && rates[1] == RATES[1], "bp_get_dropout gives %g, %g", rates[0], rates[1]);
    EXPECT_OK(bp_forward(net, x, BATCH, a));
    EXPECT_OK(bp_forward(plain, x, BATCH, b));
    CHECK(memcmp(a, b, sizeof a) == 0, "bp_forward dropped units");
    EXPECT_OK(bp_predict(net, x, BATCH, b));
    CHECK(memcmp(a, b, sizeof a) == 0, "bp_predict dropped units");
    EXPECT_OK(bp_forward_train(net, x, BATCH, b));
    EXPECT_OK(bp_forward_train(net, x, BATCH, c));
    CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(b, c, sizeof b) != 0, "training passes drop, each with new masks");
    /* bp_backward after a training pass reports the loss of the outputs that pass gave. */
    EXPECT_OK(bp_backward(net, y, BATCH, &loss));
    {
        double want = 0;
        for (size_t i = 0; i < BATCH * OUT; i++)
            want -= y[i] > 0 ? log(c[i]) : 0;
        want /= BATCH;
        CHECK(fabs(loss - want) < 1e-4 * fabs(want), "loss %g after a training pass; its outputs give %g", loss, want);
    }
done:
    bp_destroy(net);
    bp_destroy(plain);
}

static void check_determinism_and_files(const float *x, const float *y)
{
    bp_network *one = dropping_net(1), *two = dropping_net(2), *half = dropping_net(1), *loaded = NULL, *plain = NULL;
    unsigned char *buf = NULL;
    size_t size = 0;
    if (one == NULL || two == NULL || half == NULL)
        goto done;
    train(one, x, y, 6);
    train(two, x, y, 6);
    CHECK(same_params(one, two), "dropout training differs between 1 and 2 threads");
    train(half, x, y, 3);
    buf = SAVE_MODEL(half, &size);
    CHECK(buf[8] == 2, "a model with dropout is written as version %u, expected 2", (unsigned)buf[8]);
    EXPECT_OK(bp_load_from_buffer(buf, size, &loaded));
    if (loaded != NULL) {
        float rates[2] = {0, 0};
        EXPECT_OK(bp_get_dropout(loaded, rates, 2));
        CHECK(rates[0] == RATES[0] && rates[1] == RATES[1], "a loaded model's rates are %g, %g", rates[0], rates[1]);
        train(loaded, x, y, 3);
        CHECK(same_params(loaded, one), "training resumed from a model file drew other masks");
    }
    plain = CREATE_DESC(&NET, 3);
    if (plain != NULL) {
        train(plain, x, y, 6);
        CHECK(!same_params(plain, one), "dropout did not change training");
    }
done:
    free(buf);
    bp_destroy(one);
    bp_destroy(two);
    bp_destroy(half);
    bp_destroy(loaded);
    bp_destroy(plain);
}

static void check_errors(void)
{
    bp_network *net = dropping_net(1), *shallow = CREATE_DESC(&((net_desc){2, {3, 2}, {BP_SIGMOID}, BP_LOSS_MSE}), 1);
    float bad[2] = {0.5f, 1.0f}, nan2[2] = {NAN, 0}, rates[2] = {-1, -1}, none = 0;
    if (net == NULL || shallow == NULL)
        goto done;
    EXPECT_ERR(bp_set_dropout(NULL, RATES, 2, 0), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_set_dropout(net, NULL, 2, 0), BP_ERROR_NULL_ARGUMENT, "rates");
    EXPECT_ERR(bp_set_dropout(net, RATES, 1, 0), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_set_dropout(net, bad, 2, 0), BP_ERROR_INVALID_ARGUMENT, "hidden layer 2");
    EXPECT_ERR(bp_set_dropout(net, nan2, 2, 0), BP_ERROR_NON_FINITE, "hidden layer 1");
    EXPECT_ERR(bp_get_dropout(net, rates, 3), BP_ERROR_SIZE_MISMATCH, "count");
    EXPECT_ERR(bp_get_dropout(net, NULL, 2), BP_ERROR_NULL_ARGUMENT, "rates");
    EXPECT_OK(bp_get_dropout(net, rates, 2));
    CHECK(rates[0] == RATES[0] && rates[1] == RATES[1], "a refused bp_set_dropout changed the rates");
    EXPECT_ERR(bp_forward_train(NULL, &none, 1, NULL), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_forward_train(net, NULL, 1, NULL), BP_ERROR_NULL_ARGUMENT, "inputs");
    EXPECT_OK(bp_set_dropout(shallow, NULL, 0, 0)); /* no hidden layer: nothing to drop */
    EXPECT_OK(bp_get_dropout(shallow, NULL, 0));
    EXPECT_OK(bp_set_dropout(net, (const float[]){0, 0}, 2, 0)); /* all 0: off */
    {
        size_t size = 0;
        unsigned char *buf = SAVE_MODEL(net, &size);
        CHECK(buf[8] == 1, "a model whose dropout is off is written as version %u, expected 1", (unsigned)buf[8]);
        free(buf);
    }
done:
    bp_destroy(net);
    bp_destroy(shallow);
}

void case_dropout(void)
{
    float x[BATCH * IN], y[BATCH * OUT];
    fill(x, y);
    check_passes(x, y);
    check_determinism_and_files(x, y);
    check_errors();
}
