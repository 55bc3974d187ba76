/*
 * test_threads.c — concurrency stress test of libbackprop, against include/backprop.h only.
 *
 * At the same time:
 *  - 4 threads call bp_predict() on ONE shared network (the header allows any number of
 *    concurrent bp_predict() calls on a network nobody changes), each with its own input
 *    batches of 1, 7, 64 and 300 samples (and a few others), so that both the unpacked
 *    and the packed GEMM kernels run; every output must equal (memcmp) the output
 *    computed on one thread beforehand;
 *  - 2 threads each train a network of their own (Adam with 3 worker threads of the
 *    network's own, and momentum with the default thread count), with a model save/load
 *    round trip in the middle; each final network must equal, bit for bit, the same
 *    training run done beforehand on one thread with bp_set_threads(net, 1);
 *  - the prediction threads also call bp_evaluate() on the shared network;
 *  - every thread makes failing calls and checks that bp_last_error() is its own message
 *    (thread-local), whatever the other threads do.
 *
 * BP_THREADS_ROUNDS (default 400) scales the work of the prediction threads,
 * BP_THREADS_STEPS (default 1500) the training steps.
 *
 * Build (scripts/test-reliability does this):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -pthread -Iinclude Tests/c/test_threads.c \
 *      -L.build/release -lbackprop -Wl,-rpath,<lib dir> -lm
 *
 * Output: "FAIL ..." lines and finally "N passed, M failed". Exit status 0 only if M is 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "harness.h" /* CHECK is thread-safe */

static long env_long(const char *name, long fallback)
{
    const char *v = getenv(name);
    long n;
    if (v == NULL || v[0] == '\0')
        return fallback;
    n = strtol(v, NULL, 10);
    return n > 0 ? n : fallback;
}

/*-************************************************************************
 *  The shared network and the prediction threads
 **************************************************************************/
#define PREDICT_THREADS 4
#define TRAIN_THREADS 2
#define BATCHES_PER_THREAD 6

/* 64 -> 128 -> 64 -> 10: batch 1 takes the unpacked kernels, 7 / 64 / 300 the packed ones. */
static const size_t SHARED_SIZES[] = {64, 128, 64, 10};
static const int32_t SHARED_ACTS[] = {BP_TANH, BP_RELU, BP_SOFTMAX};
static const size_t BATCH_SIZES[BATCHES_PER_THREAD] = {1, 7, 64, 300, 2, 33};

typedef struct {
    int index;
    const bp_network *net;
    pthread_barrier_t *start;
    long rounds;
    float *inputs[BATCHES_PER_THREAD];
    float *expected[BATCHES_PER_THREAD];
    float *targets;           /* for bp_evaluate on inputs[3] (300 samples) */
    float eval_loss, eval_accuracy;
    /* results */
    long predictions, mismatches, failures, message_errors;
    size_t first_bad_batch;
} predict_job;

static void *predict_thread(void *arg)
{
    predict_job *job = arg;
    size_t out_n = SHARED_SIZES[3];
    float *out = xmalloc(300 * out_n * sizeof *out);
    char mine[256];
    pthread_barrier_wait(job->start);

    for (long r = 0; r < job->rounds; r++) {
        for (size_t b = 0; b < BATCHES_PER_THREAD; b++) {
            size_t k = (b + (size_t)job->index + (size_t)r) % BATCHES_PER_THREAD; /* threads out of step */
            size_t batch = BATCH_SIZES[k];
            bp_status s;
            memset(out, 0xFF, batch * out_n * sizeof *out);
            s = bp_predict(job->net, job->inputs[k], batch, out);
            job->predictions++;
            if (s != BP_OK) {
                job->failures++;
            } else if (memcmp(out, job->expected[k], batch * out_n * sizeof *out) != 0) {
                if (job->mismatches++ == 0)
                    job->first_bad_batch = batch;
            }
        }
        /* bp_evaluate reads the network only, like bp_predict. */
        {
            float loss = -1.0f, accuracy = -1.0f;
            if (bp_evaluate(job->net, job->inputs[3], job->targets, 300, &loss, &accuracy) != BP_OK)
                job->failures++;
            else if (memcmp(&loss, &job->eval_loss, sizeof loss) != 0 ||
                     memcmp(&accuracy, &job->eval_accuracy, sizeof accuracy) != 0)
                job->mismatches++;
            job->predictions++;
        }
        /* A failing call of this thread's own: its message must be this thread's. */
        if (bp_predict(job->net, job->inputs[0], 0, out) != BP_ERROR_INVALID_ARGUMENT) {
            job->message_errors++;
        } else {
            snprintf(mine, sizeof mine, "%s", bp_last_error());
            /* Another batch of successful work; the message must not change meanwhile. */
            if (bp_predict(job->net, job->inputs[1], BATCH_SIZES[1], out) != BP_OK)
                job->failures++;
            if (strcmp(mine, bp_last_error()) != 0 || strstr(mine, "batch") == NULL)
                job->message_errors++;
        }
    }
    free(out);
    return NULL;
}

/*-************************************************************************
 *  The training threads
 **************************************************************************/
typedef struct {
    size_t layers;
    size_t sizes[5];
    int32_t acts[4];
    int32_t loss;
    size_t batch;
    uint64_t seed;
    int32_t optimizer;
    size_t threads; /* bp_set_threads() in the concurrent run; the reference uses 1 */
} train_spec;

/* The first is large enough (64 x 256 x 128 multiply-adds per product) that the network's
 * own worker threads split its products: results must not depend on the thread count. */
static const train_spec TRAIN_SPECS[TRAIN_THREADS] = {
    {4, {128, 256, 64, 8}, {BP_SIGMOID, BP_LEAKY_RELU, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY, 64, 77, BP_OPTIMIZER_ADAM, 3},
    {3, {10, 20, 3}, {BP_TANH, BP_LINEAR}, BP_LOSS_MSE, 5, 78, BP_OPTIMIZER_MOMENTUM, 0},
};

typedef struct {
    const train_spec *spec;
    pthread_barrier_t *start; /* NULL when run alone (the reference run, on one thread) */
    long steps;
    /* results */
    float *params;
    size_t count;
    int ok;
    long message_errors;
} train_job;

static void *train_thread(void *arg)
{
    train_job *job = arg;
    const train_spec *sp = job->spec;
    bp_network *net = NULL;
    uint64_t rng = sp->seed * UINT64_C(0x9E3779B97F4A7C15) + 1;
    size_t in = sp->sizes[0], out = sp->sizes[sp->layers - 1];
    float *x = xmalloc(sp->batch * in * sizeof *x), *y = xmalloc(sp->batch * out * sizeof *y);
    char mine[256];
    job->ok = 1;
    if (job->start != NULL)
        pthread_barrier_wait(job->start);
    if (bp_create(sp->sizes, sp->layers, sp->acts, sp->loss, sp->seed, &net) != BP_OK ||
        bp_set_option(net, BP_OPTION_OPTIMIZER, sp->optimizer) != BP_OK ||
        bp_set_threads(net, job->start != NULL ? sp->threads : 1) != BP_OK) {
        job->ok = 0;
        bp_destroy(net);
        free(x);
        free(y);
        return NULL;
    }
    for (long step = 0; step < job->steps && job->ok; step++) {
        for (size_t i = 0; i < sp->batch * in; i++)
            x[i] = (float)(2.0 * rng_next(&rng) - 1.0);
        for (size_t i = 0; i < sp->batch * out; i++)
            y[i] = (float)rng_next(&rng);
        if (step % 3 == 0) {
            if (bp_train_step(net, x, y, sp->batch, 0.05f, NULL) != BP_OK)
                job->ok = 0;
        } else {
            if (bp_forward(net, x, sp->batch, NULL) != BP_OK || bp_backward(net, y, sp->batch, NULL) != BP_OK ||
                bp_update(net, 0.05f) != BP_OK)
                job->ok = 0;
        }
        if (step == job->steps / 2) {
            /* Save and continue with the loaded copy. */
            size_t need = 0, written = 0;
            unsigned char *buf;
            bp_network *copy = NULL;
            if (bp_save_to_buffer(net, NULL, 0, &need) != BP_OK) {
                job->ok = 0;
                break;
            }
            buf = xmalloc(need);
            if (bp_save_to_buffer(net, buf, need, &written) != BP_OK || bp_load_from_buffer(buf, need, &copy) != BP_OK)
                job->ok = 0;
            free(buf);
            bp_destroy(net);
            net = copy;
            if (net == NULL)
                break;
            /* The thread count is not part of the model. */
            if (bp_set_threads(net, job->start != NULL ? sp->threads : 1) != BP_OK)
                job->ok = 0;
        }
        if (step % 10 == 5) {
            /* A failing call: bp_update right after an update has no gradients to apply. */
            if (bp_update(net, 0.05f) != BP_ERROR_STATE) {
                job->message_errors++;
            } else {
                snprintf(mine, sizeof mine, "%s", bp_last_error());
                if (bp_forward(net, x, sp->batch, NULL) != BP_OK)
                    job->ok = 0;
                if (strcmp(mine, bp_last_error()) != 0 || strstr(mine, "batch") != NULL)
                    job->message_errors++;
            }
        }
    }
    if (net != NULL) {
        job->count = bp_parameter_count(net);
        job->params = xmalloc(job->count * sizeof *job->params);
        if (bp_get_parameters(net, job->params, job->count) != BP_OK)
            job->ok = 0;
    } else {
        job->ok = 0;
    }
    bp_destroy(net);
    free(x);
    free(y);
    return NULL;
}

/*-************************************************************************
 *  Main
 **************************************************************************/
int main(void)
{
    long rounds = env_long("BP_THREADS_ROUNDS", 400), steps = env_long("BP_THREADS_STEPS", 1500);
    bp_network *shared = NULL;
    predict_job pjobs[PREDICT_THREADS];
    train_job tjobs[TRAIN_THREADS], refs[TRAIN_THREADS];
    pthread_t threads[PREDICT_THREADS + TRAIN_THREADS];
    pthread_barrier_t start;
    uint64_t rng = 12345;
    int created = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("libbackprop thread stress test: library %s; %d predicting threads x %ld rounds, %d training threads x "
           "%ld steps\n",
           bp_version() ? bp_version() : "(NULL)", PREDICT_THREADS, rounds, TRAIN_THREADS, steps);

    /* The shared network, trained a little so that its parameters are not the initial ones. */
    CHECK(bp_create(SHARED_SIZES, 4, SHARED_ACTS, BP_LOSS_CROSS_ENTROPY, 2024, &shared) == BP_OK, "bp_create: %s",
          bp_last_error());
    if (shared == NULL)
        goto done;
    {
        size_t batch = 32;
        float *x = random_floats_from(&rng, batch * 64, -1.0, 1.0), *y = xmalloc(batch * 10 * sizeof *y);
        for (size_t s = 0; s < batch; s++)
            for (size_t j = 0; j < 10; j++)
                y[s * 10 + j] = j == s % 10 ? 1.0f : 0.0f;
        for (int i = 0; i < 5; i++)
            CHECK(bp_train_step(shared, x, y, batch, 0.1f, NULL) == BP_OK, "training the shared network");
        free(x);
        free(y);
    }

    /* Inputs and single-threaded expected outputs for each prediction thread. */
    for (int t = 0; t < PREDICT_THREADS; t++) {
        predict_job *job = &pjobs[t];
        memset(job, 0, sizeof *job);
        job->index = t;
        job->net = shared;
        job->start = &start;
        job->rounds = rounds;
        for (size_t k = 0; k < BATCHES_PER_THREAD; k++) {
            size_t batch = BATCH_SIZES[k];
            job->inputs[k] = random_floats_from(&rng, batch * 64, -3.0, 3.0);
            job->expected[k] = xmalloc(batch * 10 * sizeof(float));
            CHECK(bp_predict(shared, job->inputs[k], batch, job->expected[k]) == BP_OK, "reference bp_predict");
            if (batch == 300) {
                job->targets = xmalloc(300 * 10 * sizeof(float));
                for (size_t i = 0; i < 300; i++)
                    for (size_t j = 0; j < 10; j++)
                        job->targets[i * 10 + j] = j == (i * 7 + (size_t)t) % 10 ? 1.0f : 0.0f;
                CHECK(bp_evaluate(shared, job->inputs[k], job->targets, 300, &job->eval_loss, &job->eval_accuracy) ==
                          BP_OK,
                      "reference bp_evaluate");
            }
            /* The same prediction again gives the same bits (no hidden state). */
            {
                float *again = xmalloc(batch * 10 * sizeof *again);
                CHECK(bp_predict(shared, job->inputs[k], batch, again) == BP_OK &&
                          memcmp(again, job->expected[k], batch * 10 * sizeof *again) == 0,
                      "bp_predict is not deterministic on one thread (batch %zu)", batch);
                free(again);
            }
        }
    }

    /* Single-threaded reference training runs. */
    for (int t = 0; t < TRAIN_THREADS; t++) {
        memset(&refs[t], 0, sizeof refs[t]);
        refs[t].spec = &TRAIN_SPECS[t];
        refs[t].steps = steps;
        train_thread(&refs[t]);
        CHECK(refs[t].ok, "reference training run %d failed", t);
    }

    /* Everything at once. */
    if (pthread_barrier_init(&start, NULL, PREDICT_THREADS + TRAIN_THREADS) != 0) {
        CHECK(0, "pthread_barrier_init");
        goto done;
    }
    for (int t = 0; t < TRAIN_THREADS; t++) {
        memset(&tjobs[t], 0, sizeof tjobs[t]);
        tjobs[t].spec = &TRAIN_SPECS[t];
        tjobs[t].steps = steps;
        tjobs[t].start = &start;
    }
    for (int t = 0; t < PREDICT_THREADS; t++)
        if (pthread_create(&threads[created], NULL, predict_thread, &pjobs[t]) == 0)
            created++;
    for (int t = 0; t < TRAIN_THREADS; t++)
        if (pthread_create(&threads[created], NULL, train_thread, &tjobs[t]) == 0)
            created++;
    CHECK(created == PREDICT_THREADS + TRAIN_THREADS, "only %d threads started", created);
    if (created != PREDICT_THREADS + TRAIN_THREADS) {
        printf("cannot continue without all threads (the barrier would wait forever)\n");
        return 1;
    }
    for (int i = 0; i < created; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);

    for (int t = 0; t < PREDICT_THREADS; t++) {
        predict_job *job = &pjobs[t];
        CHECK(job->failures == 0, "prediction thread %d: %ld calls failed", t, job->failures);
        CHECK(job->mismatches == 0,
              "prediction thread %d: %ld of %ld predictions differ from the single-threaded result (first: batch %zu)",
              t, job->mismatches, job->predictions, job->first_bad_batch);
        CHECK(job->message_errors == 0, "prediction thread %d: bp_last_error() was not this thread's message %ld times",
              t, job->message_errors);
        printf("  info  prediction thread %d: %ld predictions\n", t, job->predictions);
    }
    for (int t = 0; t < TRAIN_THREADS; t++) {
        CHECK(tjobs[t].ok, "training thread %d failed", t);
        CHECK(tjobs[t].message_errors == 0, "training thread %d: bp_last_error() was not its own message %ld times", t,
              tjobs[t].message_errors);
        CHECK(tjobs[t].ok && refs[t].ok && tjobs[t].count == refs[t].count &&
                  memcmp(tjobs[t].params, refs[t].params, refs[t].count * sizeof(float)) == 0,
              "training thread %d: the network differs from the single-threaded run", t);
        free(tjobs[t].params);
        free(refs[t].params);
    }
    /* The shared network was only read: it still predicts the same. */
    {
        float *out = xmalloc(300 * 10 * sizeof *out);
        CHECK(bp_predict(shared, pjobs[0].inputs[3], 300, out) == BP_OK &&
                  memcmp(out, pjobs[0].expected[3], 300 * 10 * sizeof *out) == 0,
              "the shared network changed");
        free(out);
    }
    for (int t = 0; t < PREDICT_THREADS; t++)
        for (size_t k = 0; k < BATCHES_PER_THREAD; k++) {
            free(pjobs[t].inputs[k]);
            free(pjobs[t].expected[k]);
        }
    for (int t = 0; t < PREDICT_THREADS; t++)
        free(pjobs[t].targets);

done:
    bp_destroy(shared);
    return harness_finish();
}
