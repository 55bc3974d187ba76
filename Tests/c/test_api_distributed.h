/*
 * test_api_distributed.h — what the data-parallel test files share: RANKS threads
 * standing in for processes, their collectives (a shared-memory allreduce behind a
 * barrier, summing in rank order as MPI's does on two ranks), bp_fit's hooks over it, one
 * replica's bp_fit on its own thread, and the data dealt to the ranks. Included by
 * test_api_distributed.c and test_api_distributed_failures.c after test_api.h.
 */
#ifndef BACKPROP_TESTS_TEST_API_DISTRIBUTED_H
#define BACKPROP_TESTS_TEST_API_DISTRIBUTED_H

#include <pthread.h>

#define RANKS 2
#define MAX_VALUES 4096

/*-************************************************************************
 *  A shared-memory allreduce between RANKS threads
 **************************************************************************/
typedef struct {
    pthread_barrier_t barrier;
    double slots[RANKS][MAX_VALUES];
    size_t gradient_calls[RANKS], empty_steps[RANKS];
} world;

typedef struct {
    world *w;
    int rank;
    int stop_at_epoch; /* this rank's progress callback asks to stop after it; 0: never */
    size_t epochs_seen;
    bp_epoch_report reports[64];
} rank_context;

/* values[i] becomes the sum or maximum over the ranks, summed in rank order. */
HARNESS_UNUSED static void allreduce(rank_context *c, double *values, size_t count, int32_t op)
{
    world *w = c->w;
    memcpy(w->slots[c->rank], values, count * sizeof *values);
    pthread_barrier_wait(&w->barrier);
    for (size_t i = 0; i < count; i++) {
        double v = w->slots[0][i];
        for (int r = 1; r < RANKS; r++)
            v = op == BP_REDUCE_MAX ? (w->slots[r][i] > v ? w->slots[r][i] : v) : v + w->slots[r][i];
        values[i] = v;
    }
    pthread_barrier_wait(&w->barrier);
}

HARNESS_UNUSED static bp_status reduce_hook(double *values, size_t count, int32_t op, void *user_data)
{
    if (count > MAX_VALUES || (op != BP_REDUCE_SUM && op != BP_REDUCE_MAX))
        return BP_ERROR_INVALID_ARGUMENT;
    allreduce(user_data, values, count, op);
    return BP_OK;
}

/* g ← Σ_r weight_r g_r / Σ_r weight_r. */
HARNESS_UNUSED static bp_status gradient_hook(float *g, size_t count, size_t samples, double weight, float loss, void *user_data)
{
    rank_context *c = user_data;
    double buffer[MAX_VALUES + 1];
    (void)loss;
    if (count > MAX_VALUES)
        return BP_ERROR_INVALID_ARGUMENT;
    c->w->gradient_calls[c->rank]++;
    if (samples == 0)
        c->w->empty_steps[c->rank]++;
    for (size_t i = 0; i < count; i++)
        buffer[i] = weight * (double)g[i];
    buffer[count] = weight;
    allreduce(c, buffer, count + 1, BP_REDUCE_SUM);
    for (size_t i = 0; i < count; i++)
        g[i] = buffer[count] > 0 ? (float)(buffer[i] / buffer[count]) : 0.0f;
    return BP_OK;
}

HARNESS_UNUSED static int rank_progress(const bp_epoch_report *report, void *user_data)
{
    rank_context *c = user_data;
    if (c->epochs_seen < 64)
        c->reports[c->epochs_seen] = *report;
    c->epochs_seen++;
    return c->stop_at_epoch == 0 || report->epoch < (size_t)c->stop_at_epoch;
}

/*-************************************************************************
 *  One replica's bp_fit on its own thread
 **************************************************************************/
typedef struct {
    rank_context context;
    bp_network *net;
    const float *x, *y;
    size_t count;
    bp_fit_options options;
    size_t epochs_run;
    bp_status status;
    char message[512]; /* bp_last_error() on the replica's thread, after a failure */
} replica;

HARNESS_UNUSED static void *run_replica(void *argument)
{
    replica *r = argument;
    r->options.gradient_hook = gradient_hook;
    r->options.reduce_hook = reduce_hook;
    r->options.progress = rank_progress;
    r->options.user_data = &r->context;
    r->status = bp_fit(r->net, r->x, r->y, r->count, &r->options, NULL, 0, &r->epochs_run);
    r->message[0] = '\0';
    if (r->status != BP_OK && bp_last_error() != NULL)
        snprintf(r->message, sizeof r->message, "%s", bp_last_error());
    return NULL;
}

/* Runs the RANKS replicas to the end of their fits. */
HARNESS_UNUSED static void run_world(world *w, replica *replicas)
{
    pthread_t threads[RANKS];
    pthread_barrier_init(&w->barrier, NULL, RANKS);
    for (int r = 0; r < RANKS; r++) {
        replicas[r].context.w = w;
        replicas[r].context.rank = r;
        pthread_create(&threads[r], NULL, run_replica, &replicas[r]);
    }
    for (int r = 0; r < RANKS; r++)
        pthread_join(threads[r], NULL);
    pthread_barrier_destroy(&w->barrier);
}

/*-************************************************************************
 *  Data: a 4-6-3 softmax classifier's inputs and one-hot targets, dealt to the ranks
 **************************************************************************/
#define ROWS 48
#define IN 4
#define OUT 3
static const net_desc DIST_NET = {3, {IN, 6, OUT}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};

HARNESS_UNUSED static void make_data(float *x, float *y, size_t rows)
{
    for (size_t s = 0; s < rows; s++) {
        float sum = 0;
        for (size_t k = 0; k < IN; k++) {
            x[s * IN + k] = rng_range(-1.0, 1.0);
            sum += x[s * IN + k] * (float)(k + 1);
        }
        size_t cls = sum < -0.5f ? 0 : sum < 0.5f ? 1 : 2;
        for (size_t j = 0; j < OUT; j++)
            y[s * OUT + j] = j == cls ? 1.0f : 0.0f;
    }
}

/* Rows rank, rank + RANKS, rank + 2 RANKS...: with batches of b each, batch k of every
 * rank together is batch k of RANKS · b rows in order. Returns the shard's row count. */
HARNESS_UNUSED static size_t deal(const float *x, const float *y, size_t rows, int rank, float *sx, float *sy)
{
    size_t n = 0;
    for (size_t s = (size_t)rank; s < rows; s += RANKS, n++) {
        memcpy(sx + n * IN, x + s * IN, IN * sizeof *x);
        memcpy(sy + n * OUT, y + s * OUT, OUT * sizeof *y);
    }
    return n;
}

HARNESS_UNUSED static double relative_difference(const float *a, const float *b, size_t n)
{
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; i++) {
        diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        norm += (double)a[i] * a[i];
    }
    return sqrt(diff / norm);
}

/* A replica's bp_fit returned `want`, and on failure a message (read on its own thread)
 * that contains `words` when not NULL. */
#define EXPECT_REPLICA(r, want, words) expect_replica_at(&(r), (want), (words), __FILE__, __LINE__)
HARNESS_UNUSED static void expect_replica_at(const replica *r, bp_status want, const char *words, const char *file,
                                             int line)
{
    check_at(r->status == want, file, line, "rank %d: bp_fit returned %s (%d), expected %s (%d); \"%s\"",
             r->context.rank, status_name(r->status), (int)r->status, status_name(want), (int)want, r->message);
    if (want != BP_OK)
        check_at(strlen(r->message) > 0 && (words == NULL || strstr(r->message, words) != NULL), file, line,
                 "rank %d: the message \"%s\" does not say \"%s\"", r->context.rank, r->message,
                 words ? words : "anything");
}

#endif
