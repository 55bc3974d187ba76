/*
 * test_api_distributed.c — test_api cases on data-parallel training without MPI: the
 * "processes" are threads of this program, and their collectives a shared-memory
 * allreduce behind a barrier (sums in rank order, as MPI's on two ranks). Covered:
 * bp_set_gradients (a manual loop, every error); bp_fit's gradient and reduce hooks: two
 * replicas on strided halves of every batch end where one network on the whole batches
 * ends (SGD and Adam) and equal to each other bit for bit, with identical histories;
 * unequal shards finish, the shorter one taking empty steps; one replica's progress
 * callback stops both after the same epoch; early stopping stops both at the same epoch;
 * a process whose data is refused makes the other return BP_ERROR_PEER_FAILED, not wait;
 * a hook's status is bp_fit()'s; a reduce hook without a gradient hook is refused; the
 * second layout of bp_fit_options (weights, no hooks) is still read.
 * The same protocol over MPI is tested by scripts/test-mpi (examples/c/mpi_fit.c, Python).
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

#include "test_api_distributed.h"

/* Two replicas on the dealt halves against one network on the whole batches. */
static void check_equivalence(int32_t optimizer, const float *x, const float *y)
{
    world *w = xmalloc(sizeof *w);
    replica r[RANKS];
    float sx[RANKS][ROWS * IN], sy[RANKS][ROWS * OUT];
    bp_network *whole = CREATE_DESC(&DIST_NET, 21);
    bp_fit_options o;
    bp_epoch_report history[8];
    memset(w, 0, sizeof *w);
    memset(r, 0, sizeof r);
    bp_fit_options_init(&o);
    o.epochs = 6;
    o.batch_size = 8;
    o.learning_rate = optimizer == BP_OPTIMIZER_ADAM ? 0.01f : 0.2f;
    o.shuffle = 0;
    for (int k = 0; k < RANKS; k++) {
        r[k].net = CREATE_DESC(&DIST_NET, 21);
        r[k].count = deal(x, y, ROWS, k, sx[k], sy[k]);
        r[k].x = sx[k];
        r[k].y = sy[k];
        r[k].options = o;
        r[k].options.batch_size = o.batch_size / RANKS;
        if (r[k].net != NULL)
            EXPECT_OK(bp_set_option(r[k].net, BP_OPTION_OPTIMIZER, optimizer));
    }
    if (whole == NULL || r[0].net == NULL || r[1].net == NULL)
        goto done;
    EXPECT_OK(bp_set_option(whole, BP_OPTION_OPTIMIZER, optimizer));
    EXPECT_OK(bp_fit(whole, x, y, ROWS, &o, history, 8, NULL));
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_OK, NULL);
    EXPECT_REPLICA(r[1], BP_OK, NULL);
    {
        size_t n = 0;
        float *p = GET_PARAMS(whole, &n), *p0 = GET_PARAMS(r[0].net, &n), *p1 = GET_PARAMS(r[1].net, &n);
        double rel = relative_difference(p, p0, n);
        CHECK(memcmp(p0, p1, n * sizeof *p0) == 0, "optimizer %d: the replicas differ", (int)optimizer);
        CHECK(rel <= 1e-6, "optimizer %d: 2 replicas vs 1 network, relative difference %.3g", (int)optimizer, rel);
        CHECK(w->gradient_calls[0] == 6 * 6 && w->gradient_calls[1] == 6 * 6 && w->empty_steps[0] == 0,
              "gradient hook calls %zu and %zu, expected 36 each", w->gradient_calls[0], w->gradient_calls[1]);
        for (size_t e = 0; e < 6 && e < r[0].context.epochs_seen; e++) {
            const bp_epoch_report *a = &r[0].context.reports[e], *b = &r[1].context.reports[e];
            CHECK(memcmp(a, b, sizeof *a) == 0, "epoch %zu: the replicas' reports differ", e + 1);
            CHECK(fabs((double)a->train_loss - history[e].train_loss) <= 1e-5 * fabs((double)history[e].train_loss),
                  "epoch %zu: train loss %.9g on the replicas, %.9g on one network", e + 1, (double)a->train_loss,
                  (double)history[e].train_loss);
        }
        free(p);
        free(p0);
        free(p1);
    }
done:
    for (int k = 0; k < RANKS; k++)
        bp_destroy(r[k].net);
    bp_destroy(whole);
    free(w);
}

/* 30 and 12 rows in batches of 4: 8 and 3 steps; the short shard takes 5 empty ones.
 * Validation on one rank only still makes the validation loss the monitored one on both,
 * and early stopping stops both at the same epoch. */
static void check_unequal_shards(const float *x, const float *y)
{
    world *w = xmalloc(sizeof *w);
    replica r[RANKS];
    memset(w, 0, sizeof *w);
    memset(r, 0, sizeof r);
    for (int k = 0; k < RANKS; k++) {
        r[k].net = CREATE_DESC(&DIST_NET, 5);
        r[k].x = k == 0 ? x : x + 30 * IN;
        r[k].y = k == 0 ? y : y + 30 * OUT;
        r[k].count = k == 0 ? 30 : 12;
        bp_fit_options_init(&r[k].options);
        r[k].options.epochs = 40;
        r[k].options.batch_size = 4;
        r[k].options.learning_rate = 2.0f; /* large enough that the validation loss turns up */
        r[k].options.seed = (uint64_t)k;
        r[k].options.patience = 2;
    }
    r[1].options.validation_inputs = x + 42 * IN;
    r[1].options.validation_targets = y + 42 * OUT;
    r[1].options.validation_count = 6;
    if (r[0].net == NULL || r[1].net == NULL)
        goto done;
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_OK, NULL);
    EXPECT_REPLICA(r[1], BP_OK, NULL);
    CHECK(r[0].epochs_run == r[1].epochs_run, "epochs run: %zu and %zu", r[0].epochs_run, r[1].epochs_run);
    CHECK(r[0].epochs_run < 40, "early stopping never stopped (%zu epochs)", r[0].epochs_run);
    CHECK(w->gradient_calls[0] == 8 * r[0].epochs_run && w->gradient_calls[1] == 8 * r[1].epochs_run,
          "gradient hook calls %zu and %zu for %zu epochs of 8 steps", w->gradient_calls[0], w->gradient_calls[1],
          r[0].epochs_run);
    CHECK(w->empty_steps[0] == 0 && w->empty_steps[1] == 5 * r[1].epochs_run, "empty steps %zu and %zu",
          w->empty_steps[0], w->empty_steps[1]);
    CHECK(!isnan(r[0].context.reports[0].validation_loss) &&
              memcmp(&r[0].context.reports[0], &r[1].context.reports[0], sizeof(bp_epoch_report)) == 0,
          "the rank without validation data did not report the agreed validation loss");
    {
        size_t n = 0;
        float *p0 = GET_PARAMS(r[0].net, &n), *p1 = GET_PARAMS(r[1].net, &n);
        CHECK(memcmp(p0, p1, n * sizeof *p0) == 0, "unequal shards: the replicas differ");
        free(p0);
        free(p1);
    }
done:
    for (int k = 0; k < RANKS; k++)
        bp_destroy(r[k].net);
    free(w);
}

/* One replica's callback stops both; one replica's refused data stops both before
 * training. */
static void check_agreement(const float *x, const float *y)
{
    world *w = xmalloc(sizeof *w);
    replica r[RANKS];
    float *bad = dup_floats(x, 24 * IN);
    bad[7] = NAN;
    memset(w, 0, sizeof *w);
    memset(r, 0, sizeof r);
    for (int k = 0; k < RANKS; k++) {
        r[k].net = CREATE_DESC(&DIST_NET, 9);
        r[k].x = x + (size_t)k * 24 * IN;
        r[k].y = y + (size_t)k * 24 * OUT;
        r[k].count = 24;
        bp_fit_options_init(&r[k].options);
        r[k].options.epochs = 10;
        r[k].options.batch_size = 6;
    }
    r[1].context.stop_at_epoch = 3;
    if (r[0].net == NULL || r[1].net == NULL)
        goto done;
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_OK, NULL);
    EXPECT_REPLICA(r[1], BP_OK, NULL);
    CHECK(r[0].epochs_run == 3 && r[1].epochs_run == 3, "one callback's stop: epochs run %zu and %zu",
          r[0].epochs_run, r[1].epochs_run);

    memset(w, 0, sizeof *w);
    r[1].context.stop_at_epoch = 0;
    r[1].x = bad;
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_ERROR_PEER_FAILED, NULL);
    EXPECT_REPLICA(r[1], BP_ERROR_NON_FINITE, NULL);
    CHECK(r[0].epochs_run == 0 && w->gradient_calls[0] == 0, "a refused peer: %zu epochs, %zu steps on the other",
          r[0].epochs_run, w->gradient_calls[0]);
done:
    for (int k = 0; k < RANKS; k++)
        bp_destroy(r[k].net);
    free(bad);
    free(w);
}

/*-************************************************************************
 *  One process: hook statuses, option errors, bp_set_gradients
 **************************************************************************/
static bp_status failing_hook(float *g, size_t count, size_t samples, double weight, float loss, void *user_data)
{
    int *calls = user_data;
    (void)g, (void)count, (void)samples, (void)weight, (void)loss;
    return ++*calls == 3 ? BP_ERROR_IO : BP_OK;
}

static bp_status doubling_hook(float *g, size_t count, size_t samples, double weight, float loss, void *user_data)
{
    (void)samples, (void)weight, (void)loss, (void)user_data;
    for (size_t i = 0; i < count; i++)
        g[i] *= 2.0f;
    return BP_OK;
}

/* One process's reduction, that records the failure flag of the first one it sees. */
static bp_status lone_reduce_hook(double *values, size_t count, int32_t op, void *user_data)
{
    double *first = user_data;
    if (*first < 0 && count >= 1 && op == BP_REDUCE_MAX)
        *first = values[0];
    return BP_OK;
}

static void check_single_process(const float *x, const float *y)
{
    bp_network *a = CREATE_DESC(&DIST_NET, 3), *b = CREATE_DESC(&DIST_NET, 3);
    bp_fit_options o;
    size_t run = 99, n = 0;
    int calls = 0;
    double flag = -1;
    if (a == NULL || b == NULL)
        goto done;
    bp_fit_options_init(&o);
    CHECK(o.gradient_hook == NULL && o.reduce_hook == NULL, "the hooks' defaults are not NULL");
    o.epochs = 2;
    o.batch_size = 8;
    o.gradient_hook = failing_hook;
    o.user_data = &calls;
    EXPECT_ERR(bp_fit(a, x, y, ROWS, &o, NULL, 0, &run), BP_ERROR_IO, NULL);
    CHECK(calls == 3 && run == 0, "a hook's error: %d calls, %zu epochs run", calls, run);
    CHECK(strstr(bp_last_error(), "gradient_hook") != NULL, "bp_last_error() = \"%s\"", bp_last_error());

    /* Refused, and the refusal announced through the reduce hook. */
    o.gradient_hook = NULL;
    o.reduce_hook = lone_reduce_hook;
    o.user_data = &flag;
    EXPECT_ERR(bp_fit(a, x, y, ROWS, &o, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "reduce_hook");
    CHECK(flag == 1.0, "the refusal's failure flag is %g, expected 1", flag);

    /* Doubled gradients at η are the plain step at 2η (a starts again: the failed fit
     * took two steps). */
    EXPECT_OK(bp_initialize(a, BP_INIT_HE_GLOROT_UNIFORM, 3));
    o.reduce_hook = NULL;
    o.gradient_hook = doubling_hook;
    o.shuffle = 0;
    o.epochs = 1;
    o.batch_size = ROWS;
    o.learning_rate = 0.05f;
    EXPECT_OK(bp_fit(a, x, y, ROWS, &o, NULL, 0, NULL));
    EXPECT_OK(bp_forward(b, x, ROWS, NULL));
    EXPECT_OK(bp_backward(b, y, ROWS, NULL));
    EXPECT_OK(bp_update(b, 0.1f));
    {
        float *pa = GET_PARAMS(a, &n), *pb = GET_PARAMS(b, &n);
        double rel = relative_difference(pb, pa, n);
        CHECK(rel <= 1e-6, "the hook's doubled gradients at η vs the step at 2η: relative difference %.3g", rel);
        free(pa);
        free(pb);
    }
done:
    bp_destroy(a);
    bp_destroy(b);
}

static void check_set_gradients(const float *x, const float *y)
{
    bp_network *a = CREATE_DESC(&DIST_NET, 4), *b = CREATE_DESC(&DIST_NET, 4);
    size_t n = a == NULL ? 0 : bp_parameter_count(a);
    float *g = NULL, *pa = NULL, *pb = NULL;
    if (a == NULL || b == NULL)
        goto done;
    g = alloc_floats(n, 0.5f);
    EXPECT_ERR(bp_set_gradients(a, g, n), BP_ERROR_STATE, NULL); /* no backward yet */
    EXPECT_OK(bp_forward(a, x, 8, NULL));
    EXPECT_OK(bp_backward(a, y, 8, NULL));
    EXPECT_ERR(bp_set_gradients(NULL, g, n), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_set_gradients(a, NULL, n), BP_ERROR_NULL_ARGUMENT, "in");
    EXPECT_ERR(bp_set_gradients(a, g, n - 1), BP_ERROR_SIZE_MISMATCH, "count");
    g[n / 2] = NAN;
    EXPECT_ERR(bp_set_gradients(a, g, n), BP_ERROR_NON_FINITE, "in");
    free(g);
    /* A manual loop's reduction: the gradients read, scaled by 3, set, applied at η, are
     * the step at 3η. */
    g = GET_GRADS(a);
    for (size_t i = 0; i < n; i++)
        g[i] *= 3.0f;
    EXPECT_OK(bp_set_gradients(a, g, n));
    {
        float *back = GET_GRADS(a);
        CHECK(memcmp(back, g, n * sizeof *g) == 0, "bp_get_gradients() after bp_set_gradients() differs");
        free(back);
    }
    EXPECT_OK(bp_update(a, 0.1f));
    EXPECT_ERR(bp_set_gradients(a, g, n), BP_ERROR_STATE, NULL); /* already applied */
    EXPECT_OK(bp_forward(b, x, 8, NULL));
    EXPECT_OK(bp_backward(b, y, 8, NULL));
    EXPECT_OK(bp_update(b, 0.3f));
    pa = GET_PARAMS(a, &n);
    pb = GET_PARAMS(b, &n);
    CHECK(relative_difference(pb, pa, n) <= 1e-6, "gradients × 3 at η vs the step at 3η: relative difference %.3g",
          relative_difference(pb, pa, n));
done:
    free(g);
    free(pa);
    free(pb);
    bp_destroy(a);
    bp_destroy(b);
}

/* A program built with the second header (weights, no hooks) passes that struct_size. */
static void check_second_layout(const float *x, const float *y)
{
    bp_network *net = CREATE_DESC(&DIST_NET, 6);
    unsigned char room[sizeof(bp_fit_options)];
    bp_fit_options *o = (bp_fit_options *)(void *)room;
    const size_t second = offsetof(bp_fit_options, gradient_hook);
    memset(room, 0xA5, sizeof room);
    bp_fit_options_init_sized(o, second);
    CHECK(o->struct_size == second && room[second] == 0xA5, "the second layout: struct_size %zu, or written past it",
          o->struct_size);
    if (net != NULL)
        EXPECT_OK(bp_fit(net, x, y, ROWS, o, NULL, 0, NULL)); /* the bytes after it (0xA5) are not read */
    bp_destroy(net);
}

void case_distributed(void)
{
    float *x = xmalloc(ROWS * IN * sizeof *x), *y = xmalloc(ROWS * OUT * sizeof *y);
    make_data(x, y, ROWS);
    check_set_gradients(x, y);
    check_single_process(x, y);
    check_second_layout(x, y);
    check_equivalence(BP_OPTIMIZER_SGD, x, y);
    check_equivalence(BP_OPTIMIZER_ADAM, x, y);
    check_unequal_shards(x, y);
    check_agreement(x, y);
    free(x);
    free(y);
}
