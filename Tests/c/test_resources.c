/* Resource use of the training loop, measured from outside the library:
 *  - heap allocations: this executable defines malloc, calloc, realloc, posix_memalign,
 *    aligned_alloc and memalign, so every allocation the library (and the Swift runtime
 *    linked into it) makes goes through these counters; a steady-state bp_train_step /
 *    bp_forward / bp_update must make none, nor a bp_predict whose scratch fits the stack;
 *  - peak memory: training workload A (784-256-128-10, batch 128) over 60,000 samples
 *    must stay within the data's size + 16 MiB (getrusage's ru_maxrss).
 * Prints "N passed, M failed". */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include "backprop.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);

static volatile int counting;
static volatile long allocations;

static void count(void) {
    if (counting) allocations++;
}

void *malloc(size_t size) { count(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(); return __libc_realloc(p, size); }
void *memalign(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { count(); return __libc_memalign(alignment, size); }
int posix_memalign(void **out, size_t alignment, size_t size) {
    count();
    *out = __libc_memalign(alignment, size);
    return *out ? 0 : ENOMEM;
}

/* CHECK and the counters (Tests/c/harness.h): a check allocates nothing (printf only on
 * a failure), and none runs while allocations are counted. */
#include "harness.h"

static unsigned long long state = 42;

static float uniform(void) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (float)(state >> 40) / 16777216.0f;
}

static void fill(float *inputs, float *targets, size_t count, size_t width, size_t classes) {
    for (size_t i = 0; i < count * width; i++) inputs[i] = uniform();
    memset(targets, 0, count * classes * sizeof(float));
    for (size_t i = 0; i < count; i++) targets[i * classes + (size_t)(uniform() * classes) % classes] = 1;
}

static bp_network *workload_a(size_t threads) {
    size_t sizes[] = {784, 256, 128, 10};
    int32_t activations[] = {BP_RELU, BP_RELU, BP_SOFTMAX};
    bp_network *net = NULL;
    if (bp_create(sizes, 4, activations, BP_LOSS_CROSS_ENTROPY, 1, &net) != BP_OK) return NULL;
    bp_set_threads(net, threads);
    return net;
}

/* No allocation once the buffers for the largest batch exist and the threads run. */
static void steady_state_allocates_nothing(size_t threads) {
    enum { batch = 128 };
    float *x = __libc_malloc(sizeof(float) * batch * 784);
    float *y = __libc_malloc(sizeof(float) * batch * 10);
    float out[batch * 10], loss = 0;
    fill(x, y, batch, 784, 10);
    bp_network *net = workload_a(threads);
    CHECK(net != NULL, "workload A network");
    if (!net) return;
    for (int i = 0; i < 3; i++) bp_train_step(net, x, y, batch, 0.01f, &loss);
    bp_forward(net, x, 1, out);

    allocations = 0;
    counting = 1;
    int ok = 1;
    for (int i = 0; i < 50; i++) ok &= bp_train_step(net, x, y, batch, 0.01f, &loss) == BP_OK;
    for (int i = 0; i < 50; i++) ok &= bp_forward(net, x, batch, out) == BP_OK;
    for (int i = 0; i < 50; i++) ok &= bp_forward(net, x, 1, out) == BP_OK;
    for (int i = 0; i < 50; i++) ok &= bp_predict(net, x, 1, out) == BP_OK;  /* scratch on the stack */
    ok &= bp_backward(net, y, 1, &loss) == BP_OK;
    ok &= bp_update(net, 0.01f) == BP_OK;
    counting = 0;
    CHECK(ok, "steady-state calls succeed");
    CHECK(allocations == 0, "%zu thread(s): %ld heap allocations in 50 train steps / 100 forwards / 50 predictions",
          threads, allocations);
    bp_destroy(net);
    free(x);
    free(y);
}

/* bp_predict keeps its scratch on the stack when it is small: a 2-8-1 network (the
 * uninitialised kilobyte) as well as workload A above (the 4 KiB block). */
static void small_predictions_allocate_nothing(void) {
    size_t sizes[] = {2, 8, 1};
    int32_t activations[] = {BP_SIGMOID, BP_SIGMOID};
    bp_network *net = NULL;
    CHECK(bp_create(sizes, 3, activations, BP_LOSS_MSE, 1, &net) == BP_OK, "2-8-1 network");
    if (!net) return;
    float x[2] = {0.25f, 0.75f}, out[1];
    bp_predict(net, x, 1, out);
    allocations = 0;
    counting = 1;
    int ok = 1;
    for (int i = 0; i < 50; i++) ok &= bp_predict(net, x, 1, out) == BP_OK;
    counting = 0;
    CHECK(ok, "predictions succeed");
    CHECK(allocations == 0, "%ld heap allocations in 50 predictions of a 2-8-1 network", allocations);
    bp_destroy(net);
}

static long peak_kib(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

/* One epoch of workload A over 60,000 samples: the data plus at most 16 MiB. */
static void training_a_stays_within_data_plus_16_mib(void) {
    enum { samples = 60000, batch = 128 };
    long before = peak_kib();
    float *x = malloc(sizeof(float) * samples * 784);
    float *y = malloc(sizeof(float) * samples * 10);
    CHECK(x && y, "data allocation");
    if (!x || !y) return;
    fill(x, y, samples, 784, 10);
    bp_network *net = workload_a(0);
    float loss = 0, first = 0;
    for (size_t start = 0; start + batch <= samples; start += batch) {
        bp_train_step(net, x + start * 784, y + start * 10, batch, 0.01f, &loss);
        if (start == 0) first = loss;
    }
    long data_kib = (long)(sizeof(float) * samples * (784 + 10) / 1024);
    long used_kib = peak_kib() - before;
    printf("peak memory: %ld KiB above start for %ld KiB of data (+%ld KiB)\n", used_kib, data_kib, used_kib - data_kib);
    CHECK(used_kib <= data_kib + 16 * 1024, "training A used %ld KiB for %ld KiB of data", used_kib, data_kib);
    CHECK(loss < first, "the loss went down (%f -> %f)", first, loss);
    bp_destroy(net);
    free(x);
    free(y);
}

int main(void) {
    steady_state_allocates_nothing(1);
    steady_state_allocates_nothing(2);
    small_predictions_allocate_nothing();
    training_a_stays_within_data_plus_16_mib();
    return harness_finish();
}
