/*
 * test_api_training.c — test_api cases on the training calls and their state machine:
 * bp_forward / bp_backward / bp_get_gradients / bp_update / bp_train_step argument and
 * state errors (NULL, batch 0, non-finite values, size_t overflow, nothing kept or
 * pending), each failure leaving parameters, kept activations and pending gradients as
 * they were; bp_train_step as forward + backward + update; bp_get_parameters and
 * bp_set_parameters (bit-exact round trips, count and non-finite errors, what a successful
 * set discards).
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

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

void case_forward_errors(void)
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

void case_backward_errors(void)
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

void case_update(void)
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

void case_train_step(void)
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
void case_parameters(void)
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
