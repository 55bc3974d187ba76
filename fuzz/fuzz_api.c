/*
 * fuzz_api.c — libFuzzer target that runs the input bytes as a program of C API calls.
 *
 * The bytes are read as a sequence of operations (create, destroy, forward, backward,
 * update, train_step, predict, evaluate, fit, get/set parameters, get gradients, options,
 * threads, save/load through buffers, re-initialisation, the learning-rate schedule,
 * the weighted variants of backward, train_step and evaluate, the metrics, dropout)
 * with arguments also taken from the bytes, against
 * four network slots: random sizes and enums (invalid ones included), NULL pointers,
 * NaN / infinite values, mismatched batches, wrong counts, absurd sizes.
 *
 * The library cannot check the length of a buffer it is given, so the harness keeps its
 * own calls memory-correct: every buffer it passes really holds the number of elements the
 * call says (a wrong count comes with a buffer of that wrong count), and sizes that would
 * legitimately allocate much memory are skipped, except absurd ones that the library must
 * refuse before allocating (larger than the machine's memory).
 *
 * Invariants (abort() on violation, which libFuzzer reports as a crash):
 *  - no crash, hang or sanitizer report;
 *  - every status is a BP_* value, and every failure leaves a non-empty bp_last_error();
 *  - a failed bp_create / bp_load_from_buffer leaves *out NULL;
 *  - a failed call on a network leaves its parameters unchanged (the header: "on failure
 *    nothing observable has changed"; bp_fit is exempt: it stops after successful steps);
 *  - bp_initialize draws finite parameters;
 *  - a network saved to a buffer loads back with the same parameters and re-saves to the
 *    same bytes.
 * With BP_FUZZ_STRICT=1 in the environment also: a call that returns BP_OK never leaves
 * NaN or infinite parameters, and so every saved model loads back (without it, models with
 * non-finite parameters are exempt from the round trip: a known finding of
 * Tests/c/test_persistence_*.c, diverged_huge_learning_rate and options_extreme_values).
 */
#include "backprop.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REQUIRE(cond, ...)                                                                                             \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "fuzz_api: invariant violated at %s:%d (op %d): ", __FILE__, __LINE__, g_op);             \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, " (bp_last_error: \"%s\")\n", bp_last_error());                                           \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static int g_op;
static int g_strict = -1;
static size_t g_physical = 0;

#define SLOTS 4
#define MAX_OPS 48
/* Elements the harness is willing to allocate for one buffer (16 MiB of floats). */
#define MAX_ELEMENTS ((size_t)1 << 22)

typedef struct {
    const uint8_t *p;
    size_t n;
} reader;

static unsigned u8(reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

static uint32_t u32(reader *r)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)u8(r) << (8 * i);
    return v;
}

static uint64_t u64(reader *r)
{
    return (uint64_t)u32(r) | (uint64_t)u32(r) << 32;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

static float pick_float(reader *r)
{
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e-3f, 1e30f, -1e30f, FLT_MAX, FLT_MIN,
                                    1e-45f, 3.0f, 100.0f, 1e10f, 0.01f, 0.1f};
    unsigned k = u8(r);
    if (k < 160)
        return (float)((int)u8(r) - 128) / 32.0f;
    if (k < 240)
        return special[k % (sizeof special / sizeof special[0])];
    if (k < 248)
        return NAN;
    return k & 1 ? INFINITY : -INFINITY;
}

static double pick_double(reader *r)
{
    static const double special[] = {0.0, 0.5, 0.9, 0.999, 1.0, -1.0, 1e-8, 1e-300, 1e300, 2.0, 1.2, 50.0,
                                     1e-6, 0.1, 3.0, 5.0, 6.0, 2.5, 1e39, -0.0};
    unsigned k = u8(r);
    if (k < 200)
        return special[k % (sizeof special / sizeof special[0])];
    if (k < 230) {
        uint64_t bits = u64(r);
        double d;
        memcpy(&d, &bits, sizeof d);
        return d;
    }
    if (k < 245)
        return NAN;
    return k & 1 ? INFINITY : -INFINITY;
}

static size_t pick_batch(reader *r)
{
    unsigned k = u8(r);
    if (k < 200)
        return 1 + k % 9;
    switch (k % 8) {
    case 0: return 0;
    case 1: return 64;
    case 2: return 300;
    case 3: return SIZE_MAX;
    case 4: return SIZE_MAX / 2 + 1;
    case 5: return (size_t)1 << 62;
    case 6: return 33;
    default: return 2;
    }
}

/* Whether a batch x width product overflows size_t or is more than the harness can give. */
static int too_big(size_t batch, size_t width)
{
    return width != 0 && (batch > SIZE_MAX / width || batch * width > MAX_ELEMENTS);
}

/* Batches whose element counts overflow for every array of the call are refused before
 * anything is read: a 1-element buffer suffices for them. Other batches get real buffers,
 * if they are small enough. */
static int overflows(size_t batch, size_t n_in, size_t n_out)
{
    size_t width = n_in < n_out ? n_in : n_out;
    return width != 0 && batch > SIZE_MAX / width;
}

static float *make_floats(reader *r, size_t n)
{
    float *p = xmalloc(n * sizeof *p);
    unsigned mode = u8(r);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)((int)((i * 37 + mode) % 256) - 128) / 64.0f;
    /* Occasionally poke in values from the input (NaN and infinities among them). */
    if (n > 0 && mode >= 192) {
        unsigned pokes = 1 + mode % 4;
        for (unsigned k = 0; k < pokes; k++)
            p[u32(r) % n] = pick_float(r);
    }
    return p;
}

static void check_status(bp_status s)
{
    REQUIRE(s >= BP_OK && s <= BP_ERROR_PEER_FAILED, "status %d is not a bp_status", (int)s);
    if (s != BP_OK) {
        const char *e = bp_last_error();
        REQUIRE(e != NULL && e[0] != '\0', "status %d with an empty bp_last_error()", (int)s);
    }
}

typedef struct {
    float *p;
    size_t n;
} snapshot;

static snapshot take(const bp_network *net)
{
    snapshot s = {NULL, 0};
    if (net == NULL)
        return s;
    s.n = bp_parameter_count(net);
    s.p = xmalloc(s.n * sizeof *s.p);
    REQUIRE(bp_get_parameters(net, s.p, s.n) == BP_OK, "bp_get_parameters failed");
    return s;
}

static int finite_all(const float *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            return 0;
    return 1;
}

/* After a call on `net` that returned `s`: parameters unchanged on failure; in strict mode
 * finite on success. Frees the snapshot. */
static void after_call(const bp_network *net, snapshot before, bp_status s, int training)
{
    check_status(s);
    if (net != NULL && before.p != NULL) {
        snapshot now = take(net);
        REQUIRE(now.n == before.n, "the parameter count changed");
        if (s != BP_OK)
            REQUIRE(memcmp(now.p, before.p, now.n * sizeof *now.p) == 0,
                    "a call that failed with status %d changed the parameters", (int)s);
        else if (training && g_strict)
            REQUIRE(finite_all(now.p, now.n), "a training call returned BP_OK with non-finite parameters");
        free(now.p);
    }
    free(before.p);
}

/* Parameter count of an architecture, saturating at SIZE_MAX. */
static size_t param_count(const size_t *sizes, size_t layers)
{
    size_t total = 0;
    for (size_t l = 1; l < layers; l++) {
        size_t w;
        if (sizes[l] != 0 && sizes[l - 1] > SIZE_MAX / sizes[l])
            return SIZE_MAX;
        w = sizes[l] * sizes[l - 1];
        if (w > SIZE_MAX - sizes[l] || total > SIZE_MAX - w - sizes[l])
            return SIZE_MAX;
        total += w + sizes[l];
    }
    return total;
}

typedef struct {
    bp_network *net;
    int calls;
} progress_ctx;

static int on_epoch(const bp_epoch_report *report, void *user)
{
    progress_ctx *ctx = user;
    REQUIRE(report != NULL && report->epoch >= 1, "a progress report without an epoch");
    ctx->calls++;
    /* Reading the network from the callback is allowed (same thread, between steps). */
    if (ctx->net != NULL) {
        size_t n = bp_input_size(ctx->net), m = bp_output_size(ctx->net);
        if (n <= 4096 && m <= 4096) {
            float *x = xmalloc(n * sizeof *x), *o = xmalloc(m * sizeof *o);
            memset(x, 0, n * sizeof *x);
            check_status(bp_predict(ctx->net, x, 1, o));
            free(x);
            free(o);
        }
    }
    return ctx->calls < 3;
}

enum {
    OP_CREATE, OP_DESTROY, OP_FORWARD, OP_BACKWARD, OP_UPDATE, OP_TRAIN, OP_PREDICT, OP_EVALUATE, OP_GET_PARAMS,
    OP_SET_PARAMS, OP_GET_GRADS, OP_SET_OPTION, OP_GET_OPTION, OP_THREADS, OP_SAVE, OP_LOAD, OP_FIT, OP_QUERY,
    OP_INITIALIZE, OP_SCHEDULE, OP_DROPOUT, OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size};
    bp_network *slot[SLOTS] = {NULL, NULL, NULL, NULL};
    uint8_t *blob = NULL; /* the last saved model */
    size_t blob_size = 0;

    if (g_strict < 0) {
        const char *v = getenv("BP_FUZZ_STRICT");
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        g_strict = v != NULL && v[0] == '1';
        g_physical = pages > 0 && page > 0 ? (size_t)pages * (size_t)page : (size_t)1 << 40;
    }

    for (g_op = 0; g_op < MAX_OPS && r.n > 0; g_op++) {
        unsigned op = u8(&r) % OP_COUNT;
        unsigned si = u8(&r) % SLOTS;
        bp_network *net = slot[si];
        /* With a small chance, call with a NULL network whatever the slot holds. */
        bp_network *target = (u8(&r) < 8) ? NULL : net;
        size_t n_in = net ? bp_input_size(net) : 1, n_out = net ? bp_output_size(net) : 1;
        size_t widest = 1;
        bp_status s;
        if (net != NULL)
            for (size_t l = 0; l < bp_layer_count(net); l++)
                if (bp_layer_size(net, l) > widest)
                    widest = bp_layer_size(net, l);

        switch (op) {
        case OP_CREATE: {
            size_t layers, sizes[8], params;
            int32_t acts[8];
            unsigned shape = u8(&r);
            int32_t loss = (int32_t)(u8(&r) % 5); /* BP_LOSS_L1 + 1 is unknown */
            uint64_t seed = u64(&r);
            bp_network *out = (bp_network *)(uintptr_t)1;
            int absurd = 0, invalid = 0;
            if (shape < 240) {
                layers = 2 + shape % 5; /* 2 .. 6 */
            } else {
                static const size_t odd[] = {0, 1, 1025, SIZE_MAX, (size_t)1 << 63, 1024, 7, 8};
                layers = odd[shape % 8];
            }
            for (size_t l = 0; l < 8; l++) {
                unsigned k = u8(&r);
                if (k < 230)
                    sizes[l] = 1 + k % 12;
                else {
                    static const size_t big[] = {0, (size_t)1 << 24, ((size_t)1 << 24) + 1, SIZE_MAX,
                                                 (size_t)1 << 20, 4096, (size_t)1 << 63, 65};
                    sizes[l] = big[k % 8];
                }
                acts[l] = (int32_t)(u8(&r) % 12); /* BP_ELU + 1 and + 2 are unknown */
                if (u8(&r) == 255)
                    acts[l] -= 1000;
            }
            if (layers < 2 || layers > 8) {
                /* Counts the library must refuse before reading the arrays (< 2, > 1024), or
                 * that need arrays the harness does not have: only the former are called. */
                if (layers >= 2 && layers <= BP_MAX_LAYER_COUNT)
                    break;
            } else {
                for (size_t l = 0; l < layers; l++)
                    if (sizes[l] == 0 || sizes[l] > BP_MAX_LAYER_SIZE)
                        invalid = 1;
                params = param_count(sizes, layers);
                /* The library refuses a buffer larger than the machine's memory before
                 * allocating it; anything between 2^20 parameters and that would be a real,
                 * large allocation: skipped. */
                absurd = !invalid && (params == SIZE_MAX || params > g_physical / 4);
                if (!invalid && !absurd && params > ((size_t)1 << 20))
                    break;
            }
            switch (u8(&r) % 16) {
            case 0: s = bp_create(NULL, layers, acts, loss, seed, &out); break;
            case 1: s = bp_create(sizes, layers, NULL, loss, seed, &out); break;
            case 2: s = bp_create(sizes, layers, acts, loss, seed, NULL); out = NULL; break;
            default: s = bp_create(sizes, layers, acts, loss, seed, &out); break;
            }
            check_status(s);
            if (s == BP_OK) {
                REQUIRE(out != NULL, "BP_OK without a handle");
                REQUIRE(!absurd, "an absurd network was created");
                REQUIRE(bp_layer_count(out) == layers, "layer count");
                bp_destroy(slot[si]);
                slot[si] = out;
            } else {
                REQUIRE(out == NULL, "*out is not NULL after a failed bp_create");
            }
            break;
        }
        case OP_DESTROY:
            bp_destroy(net);
            slot[si] = NULL;
            break;
        case OP_FORWARD:
        case OP_PREDICT: {
            size_t batch = pick_batch(&r);
            int null_in = u8(&r) < 6, null_out = u8(&r) < 40;
            float *x, *o;
            snapshot before;
            if (overflows(batch, n_in, n_out)) {
                x = xmalloc(sizeof *x);
                o = xmalloc(sizeof *o);
                x[0] = 0.0f;
            } else {
                if (too_big(batch, n_in) || too_big(batch, n_out) || too_big(batch, widest))
                    break;
                x = make_floats(&r, batch * n_in);
                o = xmalloc((batch * n_out ? batch * n_out : 1) * sizeof *o);
            }
            before = take(target);
            if (op == OP_FORWARD)
                s = (u8(&r) & 1 ? bp_forward_train : bp_forward)(target, null_in ? NULL : x, batch, null_out ? NULL : o);
            else
                s = bp_predict(target, null_in ? NULL : x, batch, null_out ? NULL : o);
            after_call(target, before, s, 0);
            if (op == OP_PREDICT && null_out)
                REQUIRE(s != BP_OK, "bp_predict accepted NULL outputs");
            free(x);
            free(o);
            break;
        }
        case OP_BACKWARD:
        case OP_TRAIN:
        case OP_EVALUATE: {
            size_t batch = pick_batch(&r);
            int null_y = u8(&r) < 6;
            int weighted = u8(&r) < 64; /* the _weighted variant, with weights from the bytes */
            float lr = pick_float(&r), loss = 0.0f, accuracy = 0.0f;
            float *x, *y, *w;
            snapshot before;
            if (overflows(batch, n_in, n_out)) {
                x = xmalloc(sizeof *x);
                y = xmalloc(sizeof *y);
                w = xmalloc(sizeof *w);
                x[0] = y[0] = w[0] = 0.0f;
            } else {
                if (too_big(batch, n_in) || too_big(batch, n_out) || too_big(batch, widest))
                    break;
                x = make_floats(&r, batch * n_in);
                y = make_floats(&r, batch * n_out);
                w = make_floats(&r, batch);
            }
            before = take(target);
            if (weighted && u8(&r) < 6) {
                free(w);
                w = NULL;
            }
            if (op == OP_BACKWARD && weighted)
                s = bp_backward_weighted(target, null_y ? NULL : y, w, batch, u8(&r) & 1 ? &loss : NULL);
            else if (op == OP_BACKWARD)
                s = bp_backward(target, null_y ? NULL : y, batch, u8(&r) & 1 ? &loss : NULL);
            else if (op == OP_TRAIN && weighted)
                s = bp_train_step_weighted(target, x, null_y ? NULL : y, w, batch, lr, u8(&r) & 1 ? &loss : NULL);
            else if (op == OP_TRAIN)
                s = bp_train_step(target, x, null_y ? NULL : y, batch, lr, u8(&r) & 1 ? &loss : NULL);
            else if (u8(&r) < 64) { /* the metrics, with a confusion matrix of some size */
                bp_metrics m = {u8(&r) < 250 ? sizeof m : 7, 0, 0, 0, 0, 0};
                size_t cells = (size_t)(u8(&r) % 40);
                double *confusion = xmalloc((cells ? cells : 1) * sizeof *confusion);
                s = bp_evaluate_metrics(target, x, null_y ? NULL : y, weighted ? w : NULL, batch, &m,
                                        u8(&r) & 1 ? confusion : NULL, cells);
                free(confusion);
            } else if (weighted)
                s = bp_evaluate_weighted(target, x, null_y ? NULL : y, w, batch, &loss, u8(&r) & 1 ? &accuracy : NULL);
            else
                s = bp_evaluate(target, x, null_y ? NULL : y, batch, &loss, u8(&r) & 1 ? &accuracy : NULL);
            after_call(target, before, s, op == OP_TRAIN);
            free(x);
            free(y);
            free(w);
            break;
        }
        case OP_UPDATE: {
            float lr = pick_float(&r);
            snapshot before = take(target);
            s = bp_update(target, lr);
            after_call(target, before, s, 1);
            break;
        }
        case OP_GET_PARAMS:
        case OP_SET_PARAMS:
        case OP_GET_GRADS: {
            size_t n = net ? bp_parameter_count(net) : 4, count;
            unsigned k = u8(&r);
            float *buf;
            snapshot before;
            if (k < 200)
                count = n;
            else if (k < 250)
                count = n + (size_t)(k % 5) - 2; /* n-2 .. n+2 (wraps for tiny n: skipped below) */
            else
                count = k & 1 ? SIZE_MAX : 0;
            if (count == SIZE_MAX) {
                buf = xmalloc(sizeof *buf); /* refused before any access */
                buf[0] = 0.0f;
            } else {
                if (count > MAX_ELEMENTS)
                    break;
                buf = make_floats(&r, count);
            }
            before = take(target);
            if (op == OP_GET_PARAMS)
                s = bp_get_parameters(target, u8(&r) < 6 ? NULL : buf, count);
            else if (op == OP_SET_PARAMS)
                s = bp_set_parameters(target, u8(&r) < 6 ? NULL : buf, count);
            else
                s = bp_get_gradients(target, u8(&r) < 6 ? NULL : buf, count);
            after_call(target, before, s, 0);
            if (op == OP_SET_PARAMS && s == BP_OK) {
                snapshot now = take(target);
                REQUIRE(now.n == count && memcmp(now.p, buf, count * sizeof *buf) == 0,
                        "bp_set_parameters did not store the values");
                free(now.p);
            }
            free(buf);
            break;
        }
        case OP_SET_OPTION:
        case OP_GET_OPTION: {
            int32_t key = (int32_t)(u8(&r) % 26) - 1; /* -1 .. 24: 1 .. 23 are keys */
            double value = pick_double(&r), got = 0.0;
            snapshot before = take(target);
            if (op == OP_SET_OPTION) {
                s = bp_set_option(target, key, value);
                if (s == BP_OK && target != NULL) {
                    check_status(bp_get_option(target, key, &got));
                    REQUIRE(got == value, "bp_get_option(%d) = %g after setting %g", (int)key, got, value);
                }
            } else {
                s = bp_get_option(target, key, u8(&r) < 6 ? NULL : &got);
            }
            after_call(target, before, s, 0);
            break;
        }
        case OP_THREADS: {
            static const size_t counts[] = {0, 1, 2, 3, 257, SIZE_MAX, 256, 1};
            s = bp_set_threads(target, counts[u8(&r) % 8]);
            check_status(s);
            if (s == BP_OK && target != NULL)
                REQUIRE(bp_thread_count(target) >= 1, "bp_thread_count is 0 after bp_set_threads");
            break;
        }
        case OP_SAVE: {
            size_t need = 0, written = 0, capacity;
            unsigned k = u8(&r);
            uint8_t *buf;
            s = bp_save_to_buffer(target, NULL, 0, k < 4 ? NULL : &need);
            check_status(s);
            if (s != BP_OK || target == NULL)
                break;
            if (need > MAX_ELEMENTS * 4)
                break;
            capacity = k < 200 ? need : k < 230 ? need / 2 : need + 7;
            buf = xmalloc(capacity);
            s = bp_save_to_buffer(target, buf, capacity, &written);
            check_status(s);
            REQUIRE(written == need, "*written = %zu, the model needs %zu", written, need);
            REQUIRE((s == BP_OK) == (capacity >= need), "capacity %zu for %zu bytes: status %d", capacity, need,
                    (int)s);
            if (s == BP_OK) {
                bp_network *back = NULL;
                snapshot mine = take(target);
                int finite = finite_all(mine.p, mine.n);
                free(mine.p);
                s = bp_load_from_buffer(buf, need, &back);
                if (!finite && !g_strict) {
                    /* Known finding: training can return BP_OK with infinite parameters,
                     * which the loader then refuses. Checked with BP_FUZZ_STRICT=1. */
                    check_status(s);
                    bp_destroy(back);
                    free(buf);
                    break;
                }
                REQUIRE(s == BP_OK, "a saved model does not load: %d", (int)s);
                {
                    snapshot a = take(target), b = take(back);
                    size_t again = 0;
                    uint8_t *buf2 = xmalloc(need);
                    REQUIRE(a.n == b.n && memcmp(a.p, b.p, a.n * sizeof *a.p) == 0, "the loaded parameters differ");
                    REQUIRE(bp_save_to_buffer(back, buf2, need, &again) == BP_OK && again == need &&
                                memcmp(buf, buf2, need) == 0,
                            "the loaded model saves to other bytes");
                    free(buf2);
                    free(a.p);
                    free(b.p);
                }
                bp_destroy(back);
                free(blob);
                blob = buf;
                blob_size = need;
            } else {
                free(buf);
            }
            break;
        }
        case OP_LOAD: {
            bp_network *out = (bp_network *)(uintptr_t)1;
            uint8_t *copy;
            size_t len;
            unsigned k = u8(&r);
            if (blob == NULL)
                break;
            len = k < 200 ? blob_size : (size_t)u32(&r) % (blob_size + 1);
            copy = xmalloc(len);
            memcpy(copy, blob, len);
            if (len > 0 && (k & 3) == 1) {
                /* Damage a few bytes, and half of the time fix the CRC afterwards. */
                unsigned pokes = 1 + u8(&r) % 4;
                for (unsigned i = 0; i < pokes; i++)
                    copy[u32(&r) % len] = (uint8_t)u8(&r);
                if (len >= 12 && (u8(&r) & 1)) {
                    uint32_t crc = 0xFFFFFFFFu;
                    for (size_t i = 0; i < len - 4; i++) {
                        crc ^= copy[i];
                        for (int b = 0; b < 8; b++)
                            crc = (crc & 1u) ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
                    }
                    crc ^= 0xFFFFFFFFu;
                    for (int i = 0; i < 4; i++)
                        copy[len - 4 + (size_t)i] = (uint8_t)(crc >> (8 * i));
                }
            }
            s = bp_load_from_buffer(k == 7 ? NULL : copy, len, k == 9 ? NULL : &out);
            check_status(s);
            if (s == BP_OK) {
                REQUIRE(out != NULL, "BP_OK without a handle");
                bp_destroy(slot[si]);
                slot[si] = out;
            } else if (k != 9) {
                REQUIRE(out == NULL, "*out is not NULL after a failed load");
            }
            free(copy);
            break;
        }
        case OP_FIT: {
            size_t count = 1 + u8(&r) % 20, vcount = u8(&r) % 4;
            bp_fit_options o;
            progress_ctx ctx = {target, 0};
            bp_epoch_report history[4];
            size_t epochs_run = 99;
            float *x, *y, *vx = NULL, *vy = NULL, *w = NULL, *vw = NULL;
            unsigned k = u8(&r);
            if (too_big(count, n_in) || too_big(count, n_out) || too_big(count, widest))
                break;
            x = make_floats(&r, count * n_in);
            y = make_floats(&r, count * n_out);
            bp_fit_options_init(&o);
            o.epochs = 1 + u8(&r) % 3;
            o.batch_size = (size_t[]){0, 1, 3, 8, 100, SIZE_MAX, 2, 5}[u8(&r) % 8];
            o.learning_rate = pick_float(&r);
            o.shuffle = (int32_t)(u8(&r) & 1);
            o.seed = u64(&r);
            o.patience = u8(&r) % 3;
            o.min_delta = pick_float(&r);
            o.restore_best = (int32_t)(u8(&r) & 1);
            o.target_loss = pick_float(&r);
            if (k & 1) {
                o.progress = on_epoch;
                o.user_data = &ctx;
            }
            if (vcount > 0 && !too_big(vcount, n_in) && !too_big(vcount, n_out)) {
                vx = make_floats(&r, vcount * n_in);
                vy = make_floats(&r, vcount * n_out);
                o.validation_inputs = vx;
                o.validation_targets = vy;
                o.validation_count = vcount;
                if (k & 16) {
                    vw = make_floats(&r, vcount);
                    o.validation_weights = vw;
                }
            }
            if (k & 8) {
                w = make_floats(&r, count);
                o.sample_weights = w;
            }
            if (k == 204)
                o.struct_size = offsetof(bp_fit_options, sample_weights); /* the first layout: weights unread */
            if (k == 200)
                o.struct_size = 3;
            if (k == 201)
                o.validation_inputs = NULL;
            s = bp_fit(target, x, k == 202 ? NULL : y, count, k == 203 ? NULL : &o, (k & 2) ? history : NULL,
                       (k & 2) ? 4 : 0, (k & 4) ? &epochs_run : NULL);
            check_status(s);
            if (s == BP_OK && (k & 4))
                REQUIRE(epochs_run >= 1 && epochs_run <= o.epochs, "epochs_run = %zu of %zu", epochs_run, o.epochs);
            if (s == BP_OK && g_strict && target != NULL) {
                snapshot now = take(target);
                REQUIRE(finite_all(now.p, now.n), "bp_fit returned BP_OK with non-finite parameters");
                free(now.p);
            }
            free(x);
            free(y);
            free(vx);
            free(vy);
            free(w);
            free(vw);
            break;
        }
        case OP_QUERY: {
            size_t index = (size_t)u8(&r) % 10;
            if (u8(&r) == 255)
                index = SIZE_MAX;
            (void)bp_input_size(target);
            (void)bp_output_size(target);
            (void)bp_parameter_count(target);
            (void)bp_thread_count(target);
            REQUIRE(target != NULL || bp_layer_size(target, index) == 0, "bp_layer_size(NULL) is not 0");
            if (target != NULL && index >= bp_layer_count(target))
                REQUIRE(bp_layer_size(target, index) == 0, "bp_layer_size past the end is not 0");
            {
                int32_t act = bp_layer_activation(target, index), loss = bp_loss_function(target);
                if (target == NULL || index == 0 || index >= bp_layer_count(target))
                    REQUIRE(act == -1, "bp_layer_activation(%zu) = %d out of range", index, (int)act);
                else
                    REQUIRE(act >= BP_SIGMOID && act <= BP_ELU, "bp_layer_activation = %d", (int)act);
                REQUIRE(target == NULL ? loss == -1 : (loss >= BP_LOSS_MSE && loss <= BP_LOSS_L1),
                        "bp_loss_function = %d", (int)loss);
            }
            REQUIRE(bp_status_string((bp_status)(int32_t)u32(&r)) != NULL, "bp_status_string returned NULL");
            break;
        }
        case OP_INITIALIZE: {
            int32_t scheme = (int32_t)(u8(&r) % 11) - 1; /* -1 .. 9: 0 .. 7 are BP_INIT_* */
            uint64_t seed = u64(&r);
            snapshot before = take(target);
            s = bp_initialize(target, scheme, seed);
            after_call(target, before, s, 0);
            if (s == BP_OK && target != NULL) {
                snapshot now = take(target);
                REQUIRE(finite_all(now.p, now.n), "bp_initialize drew a non-finite parameter");
                free(now.p);
            }
            break;
        }
        case OP_SCHEDULE: {
            float rate = -1.0f;
            snapshot before = take(target);
            if (u8(&r) & 1) {
                s = bp_scheduled_learning_rate(target, pick_float(&r), u8(&r) < 6 ? NULL : &rate);
                REQUIRE(s != BP_OK || (isfinite(rate) && rate >= 0.0f), "a scheduled learning rate of %g", rate);
            } else {
                uint8_t how = u8(&r);
                size_t samples = how == 255 ? SIZE_MAX : how == 254 ? (size_t)PTRDIFF_MAX : (size_t)u32(&r);
                s = bp_end_epoch(target, samples, pick_float(&r));
            }
            after_call(target, before, s, 0);
            break;
        }
        case OP_DROPOUT: {
            size_t hidden = target == NULL ? 0 : bp_layer_count(target) - 2;
            size_t count = u8(&r) < 200 ? hidden : (size_t)(u8(&r) % 6);
            float *rates = make_floats(&r, count ? count : 1);
            int null_rates = u8(&r) < 10;
            snapshot before = take(target);
            if (u8(&r) & 1) {
                if (u8(&r) & 1) /* rates in range, so that dropout is on more often than not */
                    for (size_t i = 0; i < count; i++)
                        rates[i] = isfinite(rates[i]) ? fabsf(fmodf(rates[i], 1.0f)) : 0.5f;
                s = bp_set_dropout(target, null_rates ? NULL : rates, count, u64(&r));
            } else {
                s = bp_get_dropout(target, null_rates ? NULL : rates, count);
                REQUIRE(s != BP_OK || count == 0 || (rates[0] >= 0.0f && rates[0] < 1.0f), "a dropout rate of %g",
                        rates[0]);
            }
            after_call(target, before, s, 0);
            free(rates);
            break;
        }
        default:
            break;
        }
    }
    for (int i = 0; i < SLOTS; i++)
        bp_destroy(slot[i]);
    free(blob);
    return 0;
}
