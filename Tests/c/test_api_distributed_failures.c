/*
 * test_api_distributed_failures.c — test_api cases on what a data-parallel bp_fit does
 * when the processes (threads here, see test_api_distributed.h) are not alike: a process
 * out of memory or with a bad handle makes the other return BP_ERROR_PEER_FAILED rather
 * than wait; options that differ between the processes are refused on every one; a
 * shard whose sample weights are all 0 still trains with the others, while all shards
 * of weight 0 are refused on every one; with dropout and unequal shards the replicas end
 * alike to the last byte of their model files; a reduce hook that fails while a process
 * announces its own refusal leaves that refusal as the status.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

#include "test_api_distributed.h"

/* Two replicas of `d` with seed 7 on the first rows of x and y (count rows each), the
 * options' defaults but for 3 epochs of batch 4. */
static void prepare(replica *r, const net_desc *d, const float *x, const float *y, size_t count)
{
    memset(r, 0, RANKS * sizeof *r);
    for (int k = 0; k < RANKS; k++) {
        r[k].net = CREATE_DESC(d, 7);
        r[k].x = x;
        r[k].y = y;
        r[k].count = count;
        bp_fit_options_init(&r[k].options);
        r[k].options.epochs = 3;
        r[k].options.batch_size = 4;
    }
}

static void destroy(replica *r)
{
    for (int k = 0; k < RANKS; k++)
        bp_destroy(r[k].net);
}

/* Rank 1's batch cannot be allocated (a 4-65536-3 network, a million rows a batch); a
 * NULL handle on rank 1. Rank 0 returns BP_ERROR_PEER_FAILED after no step, both times. */
static void check_failures_before_training(world *w)
{
    static const net_desc WIDE = {3, {IN, 65536, OUT}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const size_t rows = 1000000;
    float *x = xmalloc(rows * IN * sizeof *x), *y = xmalloc(rows * OUT * sizeof *y);
    replica r[RANKS];
    make_data(x, y, 64);
    for (size_t s = 64; s < rows; s++) { /* rows beyond the first 64 repeat them */
        memcpy(x + s * IN, x + (s % 64) * IN, IN * sizeof *x);
        memcpy(y + s * OUT, y + (s % 64) * OUT, OUT * sizeof *y);
    }
    prepare(r, &WIDE, x, y, 24);
    for (int k = 0; k < RANKS; k++)
        r[k].options.batch_size = rows;
    r[1].count = rows;
    memset(w, 0, sizeof *w);
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_ERROR_PEER_FAILED, "another process");
    EXPECT_REPLICA(r[1], BP_ERROR_OUT_OF_MEMORY, NULL);
    CHECK(w->gradient_calls[0] == 0, "a peer out of memory: %zu steps on the other", w->gradient_calls[0]);
    destroy(r);

    prepare(r, &DIST_NET, x, y, 24);
    bp_destroy(r[1].net);
    r[1].net = NULL;
    memset(w, 0, sizeof *w);
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_ERROR_PEER_FAILED, NULL);
    EXPECT_REPLICA(r[1], BP_ERROR_NULL_ARGUMENT, "net");
    destroy(r);
    free(x);
    free(y);
}

/* Options that must match but differ (patience), and shards that all weigh 0, are refused
 * on both ranks; one shard of weight 0 trains with the other. */
static void check_agreement_on_options(world *w, const float *x, const float *y)
{
    replica r[RANKS];
    float zeros[24] = {0}, ones[24];
    for (size_t i = 0; i < 24; i++)
        ones[i] = 1.0f;
    prepare(r, &DIST_NET, x, y, 24);
    r[1].options.patience = 2;
    memset(w, 0, sizeof *w);
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_ERROR_INVALID_ARGUMENT, "patience");
    EXPECT_REPLICA(r[1], BP_ERROR_INVALID_ARGUMENT, "patience");
    CHECK(w->gradient_calls[0] + w->gradient_calls[1] == 0, "options that differ: %zu steps were taken",
          w->gradient_calls[0] + w->gradient_calls[1]);
    destroy(r);

    prepare(r, &DIST_NET, x, y, 24);
    r[0].options.sample_weights = ones;
    r[1].options.sample_weights = zeros;
    memset(w, 0, sizeof *w);
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_OK, NULL);
    EXPECT_REPLICA(r[1], BP_OK, NULL);
    {
        size_t n = 0;
        float *p0 = GET_PARAMS(r[0].net, &n), *p1 = GET_PARAMS(r[1].net, &n);
        CHECK(memcmp(p0, p1, n * sizeof *p0) == 0, "a shard of weight 0: the replicas differ");
        free(p0);
        free(p1);
    }
    destroy(r);

    prepare(r, &DIST_NET, x, y, 24);
    r[0].options.sample_weights = zeros;
    r[1].options.sample_weights = zeros;
    memset(w, 0, sizeof *w);
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_ERROR_INVALID_ARGUMENT, NULL);
    EXPECT_REPLICA(r[1], BP_ERROR_INVALID_ARGUMENT, NULL);
    destroy(r);
}

/* Dropout, 30 and 12 rows: the short shard's empty steps count as passes, so the
 * replicas' model files are the same bytes. */
static void check_dropout_state(world *w, const float *x, const float *y)
{
    static const net_desc DEEP = {4, {IN, 8, 8, OUT}, {BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const float rates[2] = {0.25f, 0.5f};
    replica r[RANKS];
    unsigned char *bytes[RANKS] = {NULL, NULL};
    size_t sizes[RANKS] = {0, 0};
    prepare(r, &DEEP, x, y, 30);
    r[1].x = x + 30 * IN;
    r[1].y = y + 30 * OUT;
    r[1].count = 12;
    for (int k = 0; k < RANKS; k++)
        if (r[k].net != NULL)
            EXPECT_OK(bp_set_dropout(r[k].net, rates, 2, 11));
    memset(w, 0, sizeof *w);
    run_world(w, r);
    EXPECT_REPLICA(r[0], BP_OK, NULL);
    EXPECT_REPLICA(r[1], BP_OK, NULL);
    for (int k = 0; k < RANKS && r[k].net != NULL; k++) {
        EXPECT_OK(bp_save_to_buffer(r[k].net, NULL, 0, &sizes[k]));
        bytes[k] = xmalloc(sizes[k]);
        EXPECT_OK(bp_save_to_buffer(r[k].net, bytes[k], sizes[k], &sizes[k]));
    }
    CHECK(bytes[0] != NULL && bytes[1] != NULL && sizes[0] == sizes[1] && memcmp(bytes[0], bytes[1], sizes[0]) == 0,
          "dropout with unequal shards: the replicas' model files differ");
    free(bytes[0]);
    free(bytes[1]);
    destroy(r);
}

static bp_status broken_reduce_hook(double *values, size_t count, int32_t op, void *user_data)
{
    (void)values, (void)count, (void)op, (void)user_data;
    return BP_ERROR_IO;
}

static bp_status unused_gradient_hook(float *g, size_t count, size_t samples, double weight, float loss, void *user)
{
    (void)g, (void)count, (void)samples, (void)weight, (void)loss, (void)user;
    return BP_OK;
}

/* A process refused for a NaN (found by the core) or 0 epochs (by the C layer) whose
 * reduce hook then fails returns its own refusal. */
static void check_own_error_first(const float *x, const float *y)
{
    bp_network *net = CREATE_DESC(&DIST_NET, 2);
    float *bad = dup_floats(x, 24 * IN);
    bp_fit_options o;
    bad[5] = NAN;
    bp_fit_options_init(&o);
    o.gradient_hook = unused_gradient_hook;
    o.reduce_hook = broken_reduce_hook;
    if (net != NULL) {
        EXPECT_ERR(bp_fit(net, bad, y, 24, &o, NULL, 0, NULL), BP_ERROR_NON_FINITE, NULL);
        o.epochs = 0;
        EXPECT_ERR(bp_fit(net, x, y, 24, &o, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, NULL);
    }
    free(bad);
    bp_destroy(net);
}

void case_distributed_failures(void)
{
    world *w = xmalloc(sizeof *w);
    float *x = xmalloc(ROWS * IN * sizeof *x), *y = xmalloc(ROWS * OUT * sizeof *y);
    make_data(x, y, ROWS);
    check_failures_before_training(w);
    check_agreement_on_options(w, x, y);
    check_dropout_state(w, x, y);
    check_own_error_first(x, y);
    free(x);
    free(y);
    free(w);
}
