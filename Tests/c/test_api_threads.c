/*
 * test_api_threads.c — test_api cases on learning, determinism and threads: XOR learnt by
 * bp_train_step (same seed and steps give the same bits, another seed other bits),
 * different networks trained on different threads at once (identical to one trained
 * alone), bp_predict (bp_forward's outputs, keeps nothing, its errors, any number of
 * threads on one network at once), bp_set_threads / bp_thread_count (limits, default, and
 * bit-identical training and outputs for 1, 2 and 3 threads).
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

/*-************************************************************************
 *  Training XOR
 **************************************************************************/
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
 *  Cases: learning, determinism, threads
 **************************************************************************/
void case_xor_learning(void)
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

void case_threads(void)
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

void case_predict(void)
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

void case_set_threads(void)
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
