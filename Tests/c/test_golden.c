/*
 * test_golden.c — results that must never change: digests of the parameters and of the
 * saved model after a fixed amount of training, recorded once from the library as it
 * was before a refactoring, and model files saved by earlier versions (Tests/fixtures).
 *
 * Each digest is FNV-1a (64 bits) over the bytes of the flat parameters, and over the
 * bytes bp_save_to_buffer() writes, so a change in any bit of training, of the optimizer
 * or of the model format fails here. Refactorings keep these numbers; a change that is
 * meant to alter results must say so and record new ones:
 *
 *   test_golden --record            prints the digests, and writes the fixtures that are missing
 *   test_golden [FIXTURE_DIR]       checks them (FIXTURE_DIR defaults to Tests/fixtures)
 */
#define _POSIX_C_SOURCE 200809L
#include "backprop.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int g_failed, g_passed;

#define CHECK(cond, ...)                                                            \
    do {                                                                            \
        if (cond) {                                                                 \
            g_passed++;                                                             \
        } else {                                                                    \
            g_failed++;                                                             \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                            \
            printf(__VA_ARGS__);                                                    \
            printf("\n");                                                           \
        }                                                                           \
    } while (0)

static void must(bp_status status, const char *what)
{
    if (status != BP_OK) {
        printf("FAIL: %s: %s (%s)\n", what, bp_status_string(status), bp_last_error());
        exit(1);
    }
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        printf("FAIL: out of memory\n");
        exit(1);
    }
    return p;
}

static uint64_t fnv1a(const void *data, size_t size, uint64_t hash)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < size; i++) hash = (hash ^ bytes[i]) * UINT64_C(0x100000001B3);
    return hash;
}

#define FNV_OFFSET UINT64_C(0xCBF29CE484222325)

static uint64_t g_state;
static float uniform(void) /* [0, 1), xorshift64* */
{
    g_state ^= g_state >> 12;
    g_state ^= g_state << 25;
    g_state ^= g_state >> 27;
    return (float)((g_state * UINT64_C(0x2545F4914F6CDD1D)) >> 40) * (1.0f / 16777216.0f);
}

/* One recorded run: a network, an optimizer, data of `batch` samples per step. */
typedef struct {
    const char *name;
    size_t sizes[6];
    int32_t activations[5];
    size_t layers;
    int32_t loss;
    size_t batch;
    size_t steps;
    int32_t optimizer;
    size_t threads;
    uint64_t parameters; /* the recorded digests */
    uint64_t model;
} golden_run;

/* A–D are the benchmark workloads (shared/benchmarks.md); the others cover every
 * activation, the MSE output derivative of each, every optimizer and two threads. */
static golden_run RUNS[] = {
    {"A", {784, 256, 128, 10}, {BP_RELU, BP_RELU, BP_SOFTMAX}, 4, BP_LOSS_CROSS_ENTROPY, 128, 50,
     BP_OPTIMIZER_SGD, 1, UINT64_C(0x3a36217e25bbba5b), UINT64_C(0xa506c2ffa8445823)},
    {"B", {64, 32, 10}, {BP_SIGMOID, BP_SOFTMAX}, 3, BP_LOSS_CROSS_ENTROPY, 32, 50, BP_OPTIMIZER_SGD, 1,
     UINT64_C(0x055fb8cdc13be0ec), UINT64_C(0x1a648b8186fe9a97)},
    {"C", {1024, 1024, 1024, 1024, 10}, {BP_RELU, BP_RELU, BP_RELU, BP_SOFTMAX}, 5, BP_LOSS_CROSS_ENTROPY, 256, 50,
     BP_OPTIMIZER_SGD, 2, UINT64_C(0x146666a4da4c5771), UINT64_C(0x0aca2a4bd986cb92)},
    {"D", {2, 8, 1}, {BP_SIGMOID, BP_SIGMOID}, 3, BP_LOSS_MSE, 1, 50, BP_OPTIMIZER_SGD, 1,
     UINT64_C(0x240e45f8ecb409d3), UINT64_C(0xa6f0a021fe6a15fa)},
    {"A-adam", {784, 256, 128, 10}, {BP_RELU, BP_RELU, BP_SOFTMAX}, 4, BP_LOSS_CROSS_ENTROPY, 128, 50,
     BP_OPTIMIZER_ADAM, 2, UINT64_C(0x792a0c532177f6ce), UINT64_C(0xf607257273c961aa)},
    {"mixed-momentum", {20, 24, 16, 12, 4}, {BP_TANH, BP_LEAKY_RELU, BP_LINEAR, BP_SIGMOID}, 5, BP_LOSS_MSE, 16, 50,
     BP_OPTIMIZER_MOMENTUM, 1, UINT64_C(0x4c893add33226a08), UINT64_C(0x1b554b1b4e585a82)},
    {"mixed-nesterov", {20, 24, 16, 6}, {BP_LEAKY_RELU, BP_TANH, BP_SOFTMAX}, 4, BP_LOSS_MSE, 16, 50,
     BP_OPTIMIZER_NESTEROV, 1, UINT64_C(0xf608277d17454055), UINT64_C(0x5761ca68e0c6c477)},
    {"mixed-adamw", {12, 16, 3}, {BP_RELU, BP_LINEAR}, 3, BP_LOSS_MSE, 8, 50, BP_OPTIMIZER_ADAMW, 1,
     UINT64_C(0x742b759715b7bc14), UINT64_C(0x1b34ff8c4f590169)},
    {"tiny-rprop", {3, 7, 2}, {BP_TANH, BP_SIGMOID}, 3, BP_LOSS_CROSS_ENTROPY, 1, 50, BP_OPTIMIZER_RPROP, 1,
     UINT64_C(0x0c0e81b86cd4133c), UINT64_C(0xf9fbe340233aa5e3)},
    {"tiny-adam", {4, 6, 5, 1}, {BP_LEAKY_RELU, BP_RELU, BP_LINEAR}, 4, BP_LOSS_MSE, 1, 50, BP_OPTIMIZER_ADAM, 1,
     UINT64_C(0x4a104107c07cbe5c), UINT64_C(0xf01d0ba0a205a3b8)},
};
#define RUN_COUNT (sizeof RUNS / sizeof RUNS[0])

static bp_network *create(const golden_run *r, uint64_t seed)
{
    bp_network *net = NULL;
    must(bp_create(r->sizes, r->layers, r->activations, r->loss, seed, &net), r->name);
    must(bp_set_threads(net, r->threads), "bp_set_threads");
    if (r->optimizer != BP_OPTIMIZER_SGD) {
        must(bp_set_option(net, BP_OPTION_OPTIMIZER, r->optimizer), "optimizer");
        must(bp_set_option(net, BP_OPTION_WEIGHT_DECAY, 1e-4), "weight decay");
    }
    return net;
}

/* Inputs uniform in [0, 1); targets one-hot of a random class (several classes), or a
 * value in [0, 1) per output (one output, or MSE regression). */
static void make_batch(const golden_run *r, float *x, float *y)
{
    size_t n0 = r->sizes[0], nL = r->sizes[r->layers - 1];
    for (size_t i = 0; i < r->batch * n0; i++) x[i] = uniform();
    for (size_t s = 0; s < r->batch; s++) {
        float *row = y + s * nL;
        if (nL > 1 && r->activations[r->layers - 2] == BP_SOFTMAX) {
            memset(row, 0, nL * sizeof *row);
            row[(size_t)(uniform() * (float)nL) % nL] = 1;
        } else {
            for (size_t j = 0; j < nL; j++) row[j] = uniform() < 0.5f ? 0.0f : 1.0f;
        }
    }
}

static uint64_t parameter_digest(const bp_network *net)
{
    size_t count = bp_parameter_count(net);
    float *p = xmalloc(count * sizeof *p);
    must(bp_get_parameters(net, p, count), "bp_get_parameters");
    uint64_t digest = fnv1a(p, count * sizeof *p, FNV_OFFSET);
    free(p);
    return digest;
}

static uint64_t model_digest(const bp_network *net)
{
    size_t size = 0;
    must(bp_save_to_buffer(net, NULL, 0, &size), "bp_save_to_buffer (size)");
    void *bytes = xmalloc(size);
    must(bp_save_to_buffer(net, bytes, size, &size), "bp_save_to_buffer");
    uint64_t digest = fnv1a(bytes, size, FNV_OFFSET);
    free(bytes);
    return digest;
}

/* `steps` training steps on fresh batches; the last one runs as forward + backward +
 * update so the separate calls are covered too. */
static void train(bp_network *net, const golden_run *r, size_t steps)
{
    size_t n0 = r->sizes[0], nL = r->sizes[r->layers - 1];
    float *x = xmalloc(r->batch * n0 * sizeof *x), *y = xmalloc(r->batch * nL * sizeof *y);
    for (size_t step = 0; step < steps; step++) {
        make_batch(r, x, y);
        float loss = 0;
        if (step + 1 < steps) {
            must(bp_train_step(net, x, y, r->batch, 0.01f, &loss), "bp_train_step");
        } else {
            must(bp_forward(net, x, r->batch, NULL), "bp_forward");
            must(bp_backward(net, y, r->batch, &loss), "bp_backward");
            must(bp_update(net, 0.01f), "bp_update");
        }
    }
    free(x);
    free(y);
}

static void run_all(int record)
{
    for (size_t i = 0; i < RUN_COUNT; i++) {
        golden_run *r = &RUNS[i];
        g_state = UINT64_C(0x9E3779B97F4A7C15) + i;
        bp_network *net = create(r, 1000 + i);
        train(net, r, r->steps);
        uint64_t p = parameter_digest(net), m = model_digest(net);
        if (record) {
            printf("%-16s parameters 0x%016llx  model 0x%016llx\n", r->name, (unsigned long long)p,
                   (unsigned long long)m);
        } else {
            CHECK(p == r->parameters, "%s: parameter digest 0x%016llx, recorded 0x%016llx", r->name,
                  (unsigned long long)p, (unsigned long long)r->parameters);
            CHECK(m == r->model, "%s: model digest 0x%016llx, recorded 0x%016llx", r->name, (unsigned long long)m,
                  (unsigned long long)r->model);
        }
        bp_destroy(net);
    }
}

/* bp_fit() with shuffling, validation and early stopping on B's network; with a schedule
 * other than the constant one, its rates are part of the digest. */
static uint64_t fit_digest(int32_t schedule)
{
    const golden_run *b = &RUNS[1];
    bp_network *net = create(b, 77);
    if (schedule != BP_SCHEDULE_CONSTANT) {
        must(bp_set_option(net, BP_OPTION_SCHEDULE, schedule), "schedule");
        must(bp_set_option(net, BP_OPTION_WARMUP_EPOCHS, 2), "warm-up");
    }
    size_t count = 320, validation = 64, n0 = b->sizes[0], nL = b->sizes[b->layers - 1];
    golden_run data = *b;
    data.batch = count + validation;
    float *x = xmalloc(data.batch * n0 * sizeof *x), *y = xmalloc(data.batch * nL * sizeof *y);
    g_state = UINT64_C(0xF17);
    make_batch(&data, x, y);
    bp_fit_options options;
    bp_fit_options_init(&options);
    options.epochs = 6;
    options.batch_size = 20;
    options.seed = 5;
    options.validation_inputs = x + count * n0;
    options.validation_targets = y + count * nL;
    options.validation_count = validation;
    options.patience = 3;
    bp_epoch_report history[6];
    size_t epochs = 0;
    must(bp_fit(net, x, y, count, &options, history, 6, &epochs), "bp_fit");
    uint64_t digest = parameter_digest(net);
    for (size_t e = 0; e < epochs; e++) { /* field by field: the struct has padding */
        float losses[3] = {history[e].train_loss, history[e].validation_loss, history[e].validation_accuracy};
        digest = fnv1a(&history[e].epoch, sizeof history[e].epoch, digest);
        digest = fnv1a(losses, sizeof losses, digest);
        if (schedule != BP_SCHEDULE_CONSTANT)
            digest = fnv1a(&history[e].learning_rate, sizeof history[e].learning_rate, digest);
    }
    free(x);
    free(y);
    bp_destroy(net);
    return digest;
}

static const uint64_t FIT_DIGEST = UINT64_C(0xaacd8de7f3718db1);
static const uint64_t FIT_COSINE_DIGEST = UINT64_C(0x1fb445b1fe81e36e); /* warm-up 2, cycle: the fit's 6 epochs */

/* The fixtures: models saved by format version 1, one with Adam's state and pending
 * gradients, one with RPROP's state after an applied step; and by version 2, one with a
 * plateau schedule part way through, one with an input scaling (and ELU and Huber), one
 * with input and target scalings (and softplus). */
typedef struct {
    const char *file;
    golden_run run;
    int pending; /* saved after bp_backward(), before bp_update() */
    int32_t schedule; /* BP_SCHEDULE_CONSTANT, or one given three epochs before saving */
    int scaled;       /* saved with an input scaling (1), and a target scaling too (3) */
    uint64_t trained; /* parameter digest after loading and training 10 more steps (and the
                         scheduled rate, with a schedule) */
} golden_fixture;

static golden_fixture FIXTURES[] = {
    {"golden-v1-adam-pending.bpm",
     {"fixture-adam", {6, 5, 4, 3}, {BP_TANH, BP_LEAKY_RELU, BP_SOFTMAX}, 4, BP_LOSS_CROSS_ENTROPY, 4, 5,
      BP_OPTIMIZER_ADAM, 1, 0, 0},
     1, BP_SCHEDULE_CONSTANT, 0, UINT64_C(0xeb8d439d264de58c)},
    {"golden-v1-rprop.bpm",
     {"fixture-rprop", {5, 6, 2}, {BP_RELU, BP_SIGMOID}, 3, BP_LOSS_MSE, 3, 5, BP_OPTIMIZER_RPROP, 1, 0, 0}, 0,
     BP_SCHEDULE_CONSTANT, 0, UINT64_C(0x5a35a78c30923991)},
    {"golden-v2-plateau.bpm",
     {"fixture-plateau", {4, 5, 3}, {BP_SILU, BP_SOFTMAX}, 3, BP_LOSS_CROSS_ENTROPY, 3, 5, BP_OPTIMIZER_NESTEROV, 1, 0,
      0},
     0, BP_SCHEDULE_PLATEAU, 0, UINT64_C(0x921213c07984612d)},
    {"golden-v2-scaled.bpm",
     {"fixture-scaled", {3, 4, 2}, {BP_ELU, BP_LINEAR}, 3, BP_LOSS_HUBER, 2, 5, BP_OPTIMIZER_ADAM, 1, 0, 0}, 1,
     BP_SCHEDULE_CONSTANT, 1, UINT64_C(0x6a914368caa2076b)},
    {"golden-v2-target-scaled.bpm",
     {"fixture-target", {3, 5, 2}, {BP_SOFTPLUS, BP_LINEAR}, 3, BP_LOSS_MSE, 2, 5, BP_OPTIMIZER_SGD, 1, 0, 0}, 0,
     BP_SCHEDULE_CONSTANT, 3, UINT64_C(0xcf7e5ef15733db65)},
};
#define FIXTURE_COUNT (sizeof FIXTURES / sizeof FIXTURES[0])

static void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *bytes = xmalloc((size_t)length);
    *size = fread(bytes, 1, (size_t)length, f);
    fclose(f);
    return bytes;
}

static void make_fixture(const golden_fixture *fx, const char *path)
{
    g_state = UINT64_C(0xC0FFEE);
    bp_network *net = create(&fx->run, 42);
    train(net, &fx->run, fx->run.steps);
    if (fx->pending) {
        size_t n0 = fx->run.sizes[0], nL = fx->run.sizes[fx->run.layers - 1];
        float *x = xmalloc(fx->run.batch * n0 * sizeof *x), *y = xmalloc(fx->run.batch * nL * sizeof *y);
        make_batch(&fx->run, x, y);
        must(bp_forward(net, x, fx->run.batch, NULL), "bp_forward");
        must(bp_backward(net, y, fx->run.batch, NULL), "bp_backward");
        free(x);
        free(y);
    }
    if (fx->scaled) {
        static const float shift[3] = {0.5f, -1.0f, 2.0f}, scale[3] = {2.0f, 0.25f, -1.0f};
        must(bp_set_input_scaling(net, shift, scale, 3), "bp_set_input_scaling");
    }
    if (fx->scaled & 2) {
        static const float shift[2] = {10.0f, -0.5f}, scale[2] = {0.5f, 3.0f};
        must(bp_set_target_scaling(net, shift, scale, 2), "bp_set_target_scaling");
    }
    if (fx->schedule != BP_SCHEDULE_CONSTANT) {
        must(bp_set_option(net, BP_OPTION_SCHEDULE, fx->schedule), "schedule");
        must(bp_set_option(net, BP_OPTION_PLATEAU_FACTOR, 0.5), "plateau factor");
        must(bp_set_option(net, BP_OPTION_PLATEAU_PATIENCE, 0), "plateau patience");
        for (int epoch = 0; epoch < 3; epoch++) must(bp_end_epoch(net, 12, 1.0f), "bp_end_epoch");
    }
    must(bp_save(net, path), path);
    bp_destroy(net);
}

static void check_fixture(const golden_fixture *fx, const char *path, int record)
{
    size_t size = 0;
    void *bytes = read_file(path, &size);
    CHECK(bytes != NULL, "%s: cannot read the fixture", path);
    if (!bytes) return;
    bp_network *net = NULL;
    must(bp_load_from_buffer(bytes, size, &net), path);
    /* Loading and saving again gives the same bytes: every field survives. */
    size_t again = 0;
    must(bp_save_to_buffer(net, NULL, 0, &again), "bp_save_to_buffer");
    void *resaved = xmalloc(again);
    must(bp_save_to_buffer(net, resaved, again, &again), "bp_save_to_buffer");
    CHECK(again == size && memcmp(bytes, resaved, size) == 0, "%s: saved again, its bytes differ", path);
    if (fx->pending) must(bp_update(net, 0.01f), "bp_update of the pending gradients");
    g_state = UINT64_C(0xBEEF);
    train(net, &fx->run, 10);
    uint64_t digest = parameter_digest(net);
    if (fx->schedule != BP_SCHEDULE_CONSTANT) {
        float rate = 0;
        must(bp_scheduled_learning_rate(net, 0.01f, &rate), "bp_scheduled_learning_rate");
        CHECK(rate == 0.01f * 0.25f, "%s: the plateau schedule resumes at rate %g, expected 0.0025", fx->file, rate);
        digest = fnv1a(&rate, sizeof rate, digest);
    }
    if (record) {
        printf("%-28s trained 0x%016llx\n", fx->file, (unsigned long long)digest);
    } else {
        CHECK(digest == fx->trained, "%s: trained after loading, digest 0x%016llx, recorded 0x%016llx", fx->file,
              (unsigned long long)digest, (unsigned long long)fx->trained);
    }
    free(resaved);
    free(bytes);
    bp_destroy(net);
}

int main(int argc, char **argv)
{
    int record = argc > 1 && strcmp(argv[1], "--record") == 0;
    const char *dir = argc > 1 + record ? argv[1 + record] : "Tests/fixtures";
    run_all(record);
    uint64_t fit = fit_digest(BP_SCHEDULE_CONSTANT), cosine = fit_digest(BP_SCHEDULE_COSINE);
    if (record) {
        printf("%-16s history+parameters 0x%016llx\n", "fit", (unsigned long long)fit);
        printf("%-16s history+parameters 0x%016llx\n", "fit-cosine", (unsigned long long)cosine);
    } else {
        CHECK(fit == FIT_DIGEST, "bp_fit: digest 0x%016llx, recorded 0x%016llx", (unsigned long long)fit,
              (unsigned long long)FIT_DIGEST);
        CHECK(cosine == FIT_COSINE_DIGEST, "bp_fit, cosine schedule: digest 0x%016llx, recorded 0x%016llx",
              (unsigned long long)cosine, (unsigned long long)FIT_COSINE_DIGEST);
    }
    for (size_t i = 0; i < FIXTURE_COUNT; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, FIXTURES[i].file);
        FILE *existing = fopen(path, "rb");
        if (existing) fclose(existing);
        if (record && !existing) make_fixture(&FIXTURES[i], path); /* a fixture, once written, is never rewritten */
        check_fixture(&FIXTURES[i], path, record);
    }
    if (record) return 0;
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
