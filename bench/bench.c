/*
 * bench/bench.c — the native benchmark harness of libbackprop, through its C API.
 *
 * Times the workloads of the project's benchmark definitions (benchmarks.md):
 *
 *   A   784-256-128-10  relu,relu,softmax  cross-entropy  batch 128   training samples/s, one 60,000-sample epoch
 *   B   64-32-10        sigmoid,softmax    cross-entropy  batch 32    training samples/s
 *   C   1024x4-10       relu x3,softmax    cross-entropy  batch 256   training samples/s and effective GFLOP/s
 *   D   2-8-1           sigmoid,sigmoid    MSE            batch 1     training steps/s (XOR-like data)
 *   E1  A's network     forward only                      batch 1     µs per bp_forward() call
 *   P1  A's network     bp_predict (thread-safe)          batch 1     µs per bp_predict() call
 *   E2  A's network     forward only                      batch 1024  forward samples/s
 *   E3  A's network after one epoch of training (most ReLU units off), bp_predict batch 1024
 *   DL  D's network and data, 20M steps from a fresh network: steps/s in each quarter,
 *       and the last quarter's rate over the first's (as training converges, gradients
 *       underflow towards subnormal floats, which a library that does not flush them
 *       computes in microcode)
 *
 * The table's first line names the CPU (vendor, family, model and its name), since the
 * figures mean little without it.
 * Data is synthetic, from a fixed seed: inputs uniform in [0, 1), targets one-hot of a
 * uniformly random class (D: target 1 when exactly one of x0 > 0.5, x1 > 0.5, else 0).
 * Each workload first checks that the step is real (outputs finite, the loss goes down
 * when training on one batch), then warms up, then times --repeats repeats (default 5)
 * with clock_gettime(CLOCK_MONOTONIC) and reports the median and the min..max spread.
 *
 * Usage: bench [options] [A B C D E1 E2 ...]        (no workload: all of them)
 *   --repeats N     timed repeats per workload (default 5, at least 1)
 *   --threads LIST  thread counts, e.g. 1 or 1,2: every workload runs at each, after
 *                   bp_set_threads(net, N), when the loaded library exports it (looked up
 *                   with dlsym at run time). A library without it has one thread: the
 *                   option is then ignored and the rows say 1. Without --threads the
 *                   library's default is used, shown as "N (dflt)" (bp_thread_count)
 *   --seconds S     minimum time of one repeat for B, C, D, E1, E2 (default 0.3)
 *   --seed N        data and weight seed (default 42)
 *   --help
 *
 * C99 + POSIX (clock_gettime, dlsym). Build: scripts/bench does it.
 */
#define _GNU_SOURCE /* RTLD_DEFAULT, clock_gettime under -std=c99 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "backprop.h"

/*-************************************************************************
 *  Small helpers
 **************************************************************************/

static const char *g_workload = "setup"; /* for error messages */

static void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bench: %s: ", g_workload);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

#define CHECK(call)                                                                     \
    do {                                                                                \
        bp_status st_ = (call);                                                         \
        if (st_ != BP_OK)                                                               \
            die("%s failed: %s (%s)", #call, bp_status_string(st_), bp_last_error());   \
    } while (0)

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds the whole machine spent busy (/proc/stat), or -1 when unknown. */
static double machine_busy_seconds(void)
{
    unsigned long long v[8] = {0};
    long tick = sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/stat", "r");
    int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                       &v[6], &v[7])
              : 0;
    if (f) fclose(f);
    if (n < 4 || tick <= 0) return -1;
    return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)tick; /* all but idle and iowait */
}

/* CPU seconds used by this process, all its threads (the library's included). */
static double self_cpu_seconds(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec * 1e-6;
}

static void *xmalloc(size_t count, size_t size)
{
    void *p;
    if (count != 0 && size > SIZE_MAX / count) die("allocation of %zu x %zu bytes overflows", count, size);
    p = malloc(count * size > 0 ? count * size : 1);
    if (!p) die("out of memory (%zu x %zu bytes)", count, size);
    return p;
}

/* SplitMix64: fixed-seed synthetic data. */
static uint64_t g_rng;
static uint64_t rng_next(void)
{
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float rng_uniform(void) { return (float)(rng_next() >> 40) * (1.0f / 16777216.0f); } /* [0, 1) */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(const double *v, size_t n)
{
    double *s = xmalloc(n, sizeof *s);
    double m;
    memcpy(s, v, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_double);
    m = (n % 2) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    free(s);
    return m;
}

/* "vendor family F model M: name", from /proc/cpuinfo's first processor. */
static void describe_cpu(char *buf, size_t size)
{
    char line[512], vendor[64] = "?", name[256] = "?";
    int family = -1, model = -1;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f != NULL && fgets(line, sizeof line, f) != NULL && strcmp(line, "\n") != 0) {
        char *value = strchr(line, ':');
        if (value == NULL) continue;
        value += 2;
        value[strcspn(value, "\n")] = 0;
        if (strncmp(line, "vendor_id", 9) == 0) snprintf(vendor, sizeof vendor, "%s", value);
        else if (strncmp(line, "cpu family", 10) == 0) family = atoi(value);
        else if (strncmp(line, "model name", 10) == 0) snprintf(name, sizeof name, "%s", value);
        else if (strncmp(line, "model\t", 6) == 0) model = atoi(value);
    }
    if (f != NULL) fclose(f);
    snprintf(buf, size, "%s family %d model %d: %s", vendor, family, model, name);
}

static void format_number(char *buf, size_t size, double v)
{
    if (v >= 1000.0) snprintf(buf, size, "%.0f", v);
    else if (v >= 100.0) snprintf(buf, size, "%.1f", v);
    else if (v >= 10.0) snprintf(buf, size, "%.2f", v);
    else snprintf(buf, size, "%.3f", v);
}

/*-************************************************************************
 *  Workloads
 **************************************************************************/

enum kind { TRAIN_EPOCH, TRAIN, FORWARD, PREDICT, PREDICT_TRAINED, TRAIN_BY_QUARTERS };
#define IS_INFERENCE(w) ((w)->kind == FORWARD || (w)->kind == PREDICT || (w)->kind == PREDICT_TRAINED)

typedef struct {
    const char *id;
    const char *description;
    size_t layers[5];
    size_t layer_count;
    int32_t activations[4];
    int32_t loss;
    size_t batch;
    float learning_rate;
    enum kind kind;
    size_t pool;      /* samples of synthetic data cycled through */
    int xor_data;     /* D: XOR-like inputs and targets */
    const char *unit; /* of the main figure */
} workload;

static const workload WORKLOADS[] = {
    {"A", "784-256-128-10 relu,relu,softmax CE", {784, 256, 128, 10}, 4,
     {BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 128, 0.05f, TRAIN_EPOCH, 60000, 0, "samples/s"},
    {"B", "64-32-10 sigmoid,softmax CE", {64, 32, 10}, 3,
     {BP_SIGMOID, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 32, 0.1f, TRAIN, 60000, 0, "samples/s"},
    {"C", "1024-1024-1024-1024-10 relu x3,softmax CE", {1024, 1024, 1024, 1024, 10}, 5,
     {BP_RELU, BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 256, 0.01f, TRAIN, 4096, 0, "samples/s"},
    {"D", "2-8-1 sigmoid,sigmoid MSE, XOR-like", {2, 8, 1}, 3,
     {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE, 1, 0.5f, TRAIN, 4096, 1, "steps/s"},
    {"E1", "A's network, bp_forward batch 1", {784, 256, 128, 10}, 4,
     {BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 1, 0.0f, FORWARD, 1024, 0, "us/call"},
    {"P1", "A's network, bp_predict batch 1 (E1's call, thread-safe)", {784, 256, 128, 10}, 4,
     {BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 1, 0.0f, PREDICT, 1024, 0, "us/call"},
    {"E2", "A's network, bp_forward batch 1024", {784, 256, 128, 10}, 4,
     {BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 1024, 0.0f, FORWARD, 8192, 0, "samples/s"},
    {"E3", "A's network after one epoch, bp_predict batch 1024", {784, 256, 128, 10}, 4,
     {BP_RELU, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY, 1024, 0.05f, PREDICT_TRAINED, 60000, 0, "samples/s"},
    {"DL", "D for 20M steps, by quarter", {2, 8, 1}, 3,
     {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE, 1, 0.5f, TRAIN_BY_QUARTERS, 4096, 1, "steps/s"},
};
#define LONG_RUN_STEPS 20000000u
#define WORKLOAD_COUNT (sizeof WORKLOADS / sizeof WORKLOADS[0])

typedef struct {
    const workload *w;
    bp_network *net;
    float *x, *y, *out;
    size_t in, outw;   /* widths */
    size_t cursor;     /* next batch start (samples) */
    float last_loss;
} context;

/* bp_set_threads() and bp_thread_count() are not in every library: look them up at run time. */
typedef bp_status (*set_threads_fn)(bp_network *net, size_t threads);
typedef size_t (*thread_count_fn)(const bp_network *net);
static set_threads_fn g_set_threads;
static thread_count_fn g_thread_count;

static void make_data(context *c, uint64_t seed)
{
    const workload *w = c->w;
    size_t i, j;
    uint64_t tag = (uint64_t)(unsigned char)w->id[0] + 31u * (uint64_t)(unsigned char)w->id[1];
    g_rng = seed ^ (0x5851F42D4C957F2Dull * tag); /* a different stream per workload */
    c->in = w->layers[0];
    c->outw = w->layers[w->layer_count - 1];
    c->x = xmalloc(w->pool * c->in, sizeof(float));
    c->y = xmalloc(w->pool * c->outw, sizeof(float));
    c->out = xmalloc(w->batch * c->outw, sizeof(float));
    for (i = 0; i < w->pool; i++) {
        float *xi = c->x + i * c->in, *yi = c->y + i * c->outw;
        for (j = 0; j < c->in; j++) xi[j] = rng_uniform();
        if (w->xor_data) {
            yi[0] = ((xi[0] > 0.5f) != (xi[1] > 0.5f)) ? 1.0f : 0.0f;
        } else {
            memset(yi, 0, c->outw * sizeof(float));
            yi[rng_next() % c->outw] = 1.0f;
        }
    }
}

static bp_network *make_network(const workload *w, uint64_t seed, size_t threads)
{
    bp_network *net = NULL;
    CHECK(bp_create(w->layers, w->layer_count, w->activations, w->loss, seed, &net));
    if (threads && g_set_threads) CHECK(g_set_threads(net, threads));
    return net;
}

static size_t weight_count(const workload *w)
{
    size_t l, n = 0;
    for (l = 1; l < w->layer_count; l++) n += w->layers[l] * w->layers[l - 1];
    return n;
}

static void check_finite(const float *v, size_t n, const char *what)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (!isfinite(v[i])) die("%s[%zu] is %g, not finite", what, i, (double)v[i]);
}

/* One training step on the next batch of the pool (wrapping around). */
static void train_steps(context *c, size_t steps)
{
    const workload *w = c->w;
    size_t s;
    for (s = 0; s < steps; s++) {
        if (c->cursor + w->batch > w->pool) c->cursor = 0;
        CHECK(bp_train_step(c->net, c->x + c->cursor * c->in, c->y + c->cursor * c->outw, w->batch,
                            w->learning_rate, &c->last_loss));
        c->cursor += w->batch;
    }
    if (!isfinite(c->last_loss)) die("training loss became %g", (double)c->last_loss);
}

/* E3: one epoch over the pool in batches of 128 (A's training), which leaves most ReLU
 * units off, as in a trained network, before predicting. */
static void pretrain_one_epoch(context *c)
{
    size_t start;
    for (start = 0; start + 128 <= c->w->pool; start += 128)
        CHECK(bp_train_step(c->net, c->x + start * c->in, c->y + start * c->outw, 128, c->w->learning_rate, NULL));
}

/* One epoch over the whole pool: full batches, then the remainder as a smaller batch. */
static void train_epoch(context *c)
{
    const workload *w = c->w;
    size_t start;
    for (start = 0; start < w->pool; start += w->batch) {
        size_t m = w->pool - start < w->batch ? w->pool - start : w->batch;
        CHECK(bp_train_step(c->net, c->x + start * c->in, c->y + start * c->outw, m, w->learning_rate,
                            &c->last_loss));
    }
    if (!isfinite(c->last_loss)) die("training loss became %g", (double)c->last_loss);
}

static void forward_calls(context *c, size_t calls)
{
    const workload *w = c->w;
    size_t s;
    for (s = 0; s < calls; s++) {
        if (c->cursor + w->batch > w->pool) c->cursor = 0;
        if (w->kind == PREDICT || w->kind == PREDICT_TRAINED) CHECK(bp_predict(c->net, c->x + c->cursor * c->in, w->batch, c->out));
        else CHECK(bp_forward(c->net, c->x + c->cursor * c->in, w->batch, c->out));
        c->cursor += w->batch;
    }
}

/* Runs `units` steps or calls (TRAIN_EPOCH: steps of batch w->batch, cycling). */
static void run_units(context *c, size_t units)
{
    if (IS_INFERENCE(c->w)) forward_calls(c, units);
    else train_steps(c, units);
}

/* Before timing: the step must be real. */
static void sanity_check(const workload *w, context *c, uint64_t seed, size_t threads)
{
    bp_network *net = make_network(w, seed, threads);
    size_t b = w->batch, i, j, rows;
    float *out2;
    if (!IS_INFERENCE(w)) {
        /* Outputs finite, then 30 steps on one batch: the loss must go down. */
        float loss0 = 0, loss = 0;
        int k;
        CHECK(bp_forward(net, c->x, b, c->out));
        check_finite(c->out, b * c->outw, "outputs");
        CHECK(bp_train_step(net, c->x, c->y, b, w->learning_rate, &loss0));
        for (k = 0; k < 30; k++) CHECK(bp_train_step(net, c->x, c->y, b, w->learning_rate, &loss));
        CHECK(bp_forward(net, c->x, b, c->out));
        check_finite(c->out, b * c->outw, "outputs after training");
        if (!isfinite(loss0) || !isfinite(loss) || !(loss < loss0))
            die("the loss did not go down over 31 steps on one batch: %g -> %g", (double)loss0, (double)loss);
        fprintf(stderr, "check %-2s: outputs finite; loss %.4g -> %.4g over 31 steps on one batch\n", w->id,
                (double)loss0, (double)loss);
    } else {
        /* Outputs finite, softmax rows sum to 1, deterministic, and they depend on the input. */
        rows = b < 2 ? 2 : b;
        out2 = xmalloc(rows * c->outw, sizeof(float));
        CHECK(bp_forward(net, c->x, b, c->out));
        check_finite(c->out, b * c->outw, "outputs");
        for (i = 0; i < b; i++) {
            double sum = 0;
            for (j = 0; j < c->outw; j++) sum += c->out[i * c->outw + j];
            if (fabs(sum - 1.0) > 1e-4) die("softmax output row %zu sums to %.6f, not 1", i, sum);
        }
        CHECK(bp_forward(net, c->x, b, out2));
        if (memcmp(c->out, out2, b * c->outw * sizeof(float)) != 0) die("two forward passes of the same input differ");
        CHECK(bp_forward(net, c->x + c->in, 1, out2)); /* sample 1 alone ... */
        if (memcmp(c->out, out2, c->outw * sizeof(float)) == 0) die("different inputs give identical outputs");
        free(out2);
        fprintf(stderr, "check %-2s: outputs finite, rows sum to 1, deterministic, input-dependent\n", w->id);
    }
    bp_destroy(net);
}

/*-************************************************************************
 *  Driver
 **************************************************************************/

typedef struct {
    char workload[8];
    char threads[32];
    double figure, lo, hi;
    const char *unit;
} row;

static row g_rows[64];
static size_t g_row_count;

static void add_row(const char *id, const char *threads, const double *values, size_t n, const char *unit)
{
    size_t i;
    row *r;
    if (g_row_count == sizeof g_rows / sizeof g_rows[0]) die("too many rows");
    r = &g_rows[g_row_count++];
    snprintf(r->workload, sizeof r->workload, "%s", id);
    snprintf(r->threads, sizeof r->threads, "%s", threads);
    r->figure = median(values, n);
    r->lo = r->hi = values[0];
    for (i = 1; i < n; i++) {
        if (values[i] < r->lo) r->lo = values[i];
        if (values[i] > r->hi) r->hi = values[i];
    }
    r->unit = unit;
}

/* DL: one fresh network trained for LONG_RUN_STEPS steps, timed by quarter. */
static void run_by_quarters(context *c, const char *threads_label)
{
    const size_t quarter = LONG_RUN_STEPS / 4;
    double rate[4], ratio;
    char id[8];
    int q;
    fprintf(stderr, "run   %-2s: %s, batch 1, threads %s, %zu steps in 4 quarters\n", c->w->id, c->w->description,
            threads_label, (size_t)LONG_RUN_STEPS);
    for (q = 0; q < 4; q++) {
        double t0 = now_seconds();
        train_steps(c, quarter);
        rate[q] = (double)quarter / (now_seconds() - t0);
    }
    for (q = 0; q < 4; q++) {
        snprintf(id, sizeof id, "DL q%d", q + 1);
        add_row(id, threads_label, &rate[q], 1, c->w->unit);
    }
    ratio = rate[3] / rate[0];
    add_row("DL", threads_label, &ratio, 1, "q4/q1");
}

/* The other workloads: warm up, then `repeats` timed repeats of at least `seconds`. */
static void time_repeats(context *c, const char *threads_label, int repeats, double seconds)
{
    const workload *w = c->w;
    double *rate = xmalloc((size_t)repeats, sizeof *rate);
    double *extra = xmalloc((size_t)repeats, sizeof *extra);
    double t0, t, per_unit;
    size_t units, n, samples_per_repeat;
    int r;

    /* Warm-up, doubling the number of steps until it lasts >= min(seconds, 0.2 s); this
     * also measures the time of one step or call. */
    n = 1;
    for (;;) {
        t0 = now_seconds();
        run_units(c, n);
        t = now_seconds() - t0;
        if (t >= (seconds < 0.2 ? seconds : 0.2) || n >= ((size_t)1 << 40)) break;
        n *= 2;
    }
    per_unit = t / (double)n;

    if (w->kind == TRAIN_EPOCH) {
        units = 0; /* one epoch per repeat */
        samples_per_repeat = w->pool;
    } else {
        units = (size_t)ceil(seconds / per_unit);
        if (units < 1) units = 1;
        samples_per_repeat = units * w->batch;
    }
    fprintf(stderr, "run   %-2s: %s, batch %zu, threads %s, %zu %s per repeat, %d repeats\n", w->id,
            w->description, w->batch, threads_label, IS_INFERENCE(w) ? units : samples_per_repeat,
            IS_INFERENCE(w) ? "calls" : "samples", repeats);

    for (r = 0; r < repeats; r++) {
        t0 = now_seconds();
        if (w->kind == TRAIN_EPOCH) train_epoch(c);
        else run_units(c, units);
        t = now_seconds() - t0;
        if (IS_INFERENCE(w)) {
            check_finite(c->out, w->batch * c->outw, "outputs");
            if (w->batch == 1) rate[r] = t / (double)units * 1e6; /* µs per call */
            else rate[r] = (double)samples_per_repeat / t;
        } else if (w->xor_data) {
            rate[r] = (double)units / t; /* steps/s */
        } else {
            rate[r] = (double)samples_per_repeat / t;
        }
        extra[r] = rate[r] * 6.0 * (double)weight_count(w) * 1e-9; /* GFLOP/s, training */
    }

    add_row(w->id, threads_label, rate, (size_t)repeats, w->unit);
    if (strcmp(w->id, "C") == 0) add_row(w->id, threads_label, extra, (size_t)repeats, "GFLOP/s");
    free(rate);
    free(extra);
}

static void run_workload(const workload *w, size_t threads, const char *threads_label, int repeats,
                         double seconds, uint64_t seed)
{
    context c;
    g_workload = w->id;
    memset(&c, 0, sizeof c);
    c.w = w;
    make_data(&c, seed);
    sanity_check(w, &c, seed, threads);

    c.net = make_network(w, seed, threads);
    if (w->kind == PREDICT_TRAINED) pretrain_one_epoch(&c);
    if (w->kind == TRAIN_BY_QUARTERS) run_by_quarters(&c, threads_label);
    else time_repeats(&c, threads_label, repeats, seconds);

    bp_destroy(c.net);
    free(c.x);
    free(c.y);
    free(c.out);
    g_workload = "setup";
}

static void usage(FILE *f)
{
    size_t i;
    fprintf(f,
            "usage: bench [--repeats N] [--threads N[,N...]] [--seconds S] [--seed N] [WORKLOAD ...]\n"
            "workloads (default: all):\n");
    for (i = 0; i < WORKLOAD_COUNT; i++)
        fprintf(f, "  %-3s %s, batch %zu (%s)\n", WORKLOADS[i].id, WORKLOADS[i].description, WORKLOADS[i].batch,
                WORKLOADS[i].unit);
}

static long parse_long(const char *s, const char *option, long min)
{
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min) {
        fprintf(stderr, "bench: %s needs an integer >= %ld, got '%s'\n", option, min, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    int repeats = 5, i;
    double seconds = 0.3;
    uint64_t seed = 42;
    size_t thread_list[16], thread_count = 0;
    int selected[WORKLOAD_COUNT], any_selected = 0;
    size_t w, t, k;
    void *sym;
    double busy0, busy1, self0, self1, wall0, wall1;

    memset(selected, 0, sizeof selected);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--repeats") == 0 && i + 1 < argc) {
            repeats = (int)parse_long(argv[++i], "--repeats", 1);
        } else if (strcmp(a, "--seconds") == 0 && i + 1 < argc) {
            char *end;
            seconds = strtod(argv[++i], &end);
            if (*end || !(seconds > 0)) {
                fprintf(stderr, "bench: --seconds needs a positive number, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
            seed = (uint64_t)parse_long(argv[++i], "--seed", 0);
        } else if (strcmp(a, "--threads") == 0 && i + 1 < argc) {
            char *list = argv[++i], *tok;
            for (tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
                if (thread_count == sizeof thread_list / sizeof thread_list[0]) {
                    fprintf(stderr, "bench: too many thread counts\n");
                    return 2;
                }
                thread_list[thread_count++] = (size_t)parse_long(tok, "--threads", 1);
            }
        } else {
            int found = 0;
            for (w = 0; w < WORKLOAD_COUNT; w++) {
                const char *id = WORKLOADS[w].id;
                if (strlen(a) == strlen(id) && (a[0] == id[0] || a[0] == id[0] + 32) && strcmp(a + 1, id + 1) == 0) {
                    selected[w] = found = any_selected = 1;
                }
            }
            if (!found && strcmp(a, "E") == 0) {
                for (w = 0; w < WORKLOAD_COUNT; w++)
                    if (WORKLOADS[w].id[0] == 'E') selected[w] = found = any_selected = 1;
            }
            if (!found) {
                fprintf(stderr, "bench: unknown argument '%s'\n", a);
                usage(stderr);
                return 2;
            }
        }
    }
    if (!any_selected)
        for (w = 0; w < WORKLOAD_COUNT; w++) selected[w] = 1;

    if (bp_abi_version() != BP_ABI_VERSION) {
        fprintf(stderr, "bench: library ABI %u, header ABI %d\n", (unsigned)bp_abi_version(), BP_ABI_VERSION);
        return 1;
    }

    sym = dlsym(RTLD_DEFAULT, "bp_set_threads");
    memcpy(&g_set_threads, &sym, sizeof g_set_threads);
    sym = dlsym(RTLD_DEFAULT, "bp_thread_count");
    memcpy(&g_thread_count, &sym, sizeof g_thread_count);

    printf("# libbackprop %s (ABI %u), bp_set_threads: %s\n", bp_version(), (unsigned)bp_abi_version(),
           g_set_threads ? "yes" : "no (library is single-threaded)");
    sym = dlsym(RTLD_DEFAULT, "bp_kernels");
    if (sym) {
        const char *(*kernels)(void);
        memcpy(&kernels, &sym, sizeof kernels);
        printf("# matrix kernels: %s\n", kernels());
        {
            char cpu[400];
            describe_cpu(cpu, sizeof cpu);
            printf("# CPU: %s\n", cpu);
        }
    }
    {
        double load[3];
        FILE *f = fopen("/proc/loadavg", "r");
        if (f && fscanf(f, "%lf %lf %lf", &load[0], &load[1], &load[2]) == 3)
            printf("# load average at start %.2f %.2f %.2f\n", load[0],
                   load[1], load[2]);
        if (f) fclose(f);
    }
    printf("# %d repeats after warm-up, median and min..max; B-E repeats last >= %.2g s; seed %llu\n", repeats,
           seconds, (unsigned long long)seed);
    if (thread_count && !g_set_threads) {
        fprintf(stderr,
                "bench: this library has no bp_set_threads(); --threads is ignored and every workload runs once, "
                "at the library's single thread\n");
        thread_count = 0;
    }
    fflush(stdout);

    busy0 = machine_busy_seconds();
    self0 = self_cpu_seconds();
    wall0 = now_seconds();
    for (w = 0; w < WORKLOAD_COUNT; w++) {
        if (!selected[w]) continue;
        if (thread_count == 0) {
            char label[32] = "1";
            if (g_set_threads) {
                snprintf(label, sizeof label, "default");
                if (g_thread_count) {
                    bp_network *probe = make_network(&WORKLOADS[w], seed, 0);
                    snprintf(label, sizeof label, "%zu (dflt)", g_thread_count(probe));
                    bp_destroy(probe);
                }
            }
            run_workload(&WORKLOADS[w], 0, label, repeats, seconds, seed);
        } else {
            for (t = 0; t < thread_count; t++) {
                char label[16];
                snprintf(label, sizeof label, "%zu", thread_list[t]);
                run_workload(&WORKLOADS[w], thread_list[t], label, repeats, seconds, seed);
            }
        }
    }

    busy1 = machine_busy_seconds();
    self1 = self_cpu_seconds();
    wall1 = now_seconds();

    printf("%-8s  %-9s  %12s  %-9s  %s\n", "workload", "threads", "figure", "unit", "spread (min..max)");
    for (k = 0; k < g_row_count; k++) {
        char fig[32], lo[32], hi[32];
        format_number(fig, sizeof fig, g_rows[k].figure);
        format_number(lo, sizeof lo, g_rows[k].lo);
        format_number(hi, sizeof hi, g_rows[k].hi);
        printf("%-8s  %-9s  %12s  %-9s  %s..%s (%+.1f%%/%+.1f%%)\n", g_rows[k].workload, g_rows[k].threads, fig,
               g_rows[k].unit, lo, hi, (g_rows[k].lo / g_rows[k].figure - 1) * 100,
               (g_rows[k].hi / g_rows[k].figure - 1) * 100);
    }
    if (busy0 >= 0 && busy1 >= 0) {
        double others = (busy1 - busy0) - (self1 - self0);
        if (others < 0) others = 0;
        printf("# other processes used %.1f CPU-s during the %.1f s run (%.2f cores on average)%s\n", others,
               wall1 - wall0, others / (wall1 - wall0),
               others / (wall1 - wall0) > 0.1 ? ": the figures are skewed, rerun on a quiet machine" : "");
    }
    return 0;
}
