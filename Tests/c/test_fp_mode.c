/*
 * test_fp_mode.c — the library computes in its own floating-point mode (round to nearest,
 * no traps, subnormals flushed to zero) and hands the caller's back after every call:
 *  - fp_mode_restored: under each of several caller modes (another rounding, every
 *    status flag raised, FTZ/DAZ already set, traps unmasked), every computing entry
 *    point, those that fail included, leaves the caller's environment exactly as it was,
 *    and bp_fit's progress callback runs in the caller's mode;
 *  - fp_mode_results_independent: training (tiny, general and threaded paths) and a
 *    model file give the same bits under every caller mode;
 *  - subnormals_flushed: a product whose exact value is subnormal comes out as 0, and a
 *    subnormal input is read as 0, as the header documents.
 *
 * A program of its own, run without a memory checker: valgrind ignores FTZ and DAZ and
 * cannot unmask SSE exceptions, so under it these cases would test valgrind.
 */
#define _GNU_SOURCE /* feenableexcept */
#include "harness.h"

#include <fenv.h>
#include <float.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

/*-************************************************************************
 *  Caller modes
 **************************************************************************/
typedef struct {
    const char *name;
    int rounding;       /* FE_* */
    int raise_flags;    /* raise every status flag before the call */
    int flush_to_zero;  /* FTZ/DAZ (x86-64) or FZ (AArch64) already set */
    int traps;          /* unmask invalid, divide-by-zero and overflow */
} caller_mode;

static const caller_mode MODES[] = {
    {"default", FE_TONEAREST, 0, 0, 0},
    {"toward zero, flags raised", FE_TOWARDZERO, 1, 0, 0},
    {"upward", FE_UPWARD, 0, 0, 0},
    {"downward, FTZ set", FE_DOWNWARD, 0, 1, 0},
    {"traps unmasked", FE_TONEAREST, 0, 0, 1},
};
#define MODE_COUNT (sizeof MODES / sizeof MODES[0])

static void set_flush_to_zero(int on)
{
#if defined(__x86_64__)
    unsigned csr = _mm_getcsr() & ~0x8040u;
    _mm_setcsr(on ? csr | 0x8040u : csr);
#elif defined(__aarch64__)
    unsigned long fpcr;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
    fpcr = on ? fpcr | (1ul << 24) : fpcr & ~(1ul << 24);
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#else
    (void)on;
#endif
}

static void enter_mode(const caller_mode *mode)
{
    fesetenv(FE_DFL_ENV);
    fesetround(mode->rounding);
    set_flush_to_zero(mode->flush_to_zero);
    if (mode->raise_flags)
        feraiseexcept(FE_ALL_EXCEPT);
    if (mode->traps)
        feenableexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW);
}

/* The whole environment, x87 and SSE (or FPCR and FPSR), as fegetenv() sees it. */
typedef struct {
    fenv_t env;
#if defined(__x86_64__)
    unsigned csr;
#endif
} fp_snapshot;

static fp_snapshot snapshot(void)
{
    fp_snapshot s;
    memset(&s, 0, sizeof s);
    fegetenv(&s.env);
#if defined(__x86_64__)
    s.csr = _mm_getcsr();
#endif
    return s;
}

static int same_snapshot(const fp_snapshot *a, const fp_snapshot *b)
{
    return memcmp(a, b, sizeof *a) == 0;
}

/* Leaves the default environment, so the checks themselves run normally. */
static void leave_mode(void)
{
    fedisableexcept(FE_ALL_EXCEPT);
    fesetenv(FE_DFL_ENV);
    set_flush_to_zero(0);
}

/*-************************************************************************
 *  fp_mode_restored
 **************************************************************************/
static const net_desc RELU_NET = {4, {6, 32, 32, 3}, {BP_RELU, BP_GELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};

typedef struct {
    fp_snapshot expected;
    int calls, matched;
} callback_probe;

static int probe_progress(const bp_epoch_report *report, void *user_data)
{
    callback_probe *probe = user_data;
    fp_snapshot now = snapshot();
    probe->calls++;
    probe->matched += same_snapshot(&now, &probe->expected);
    (void)report;
    return 1;
}

/* Runs `call` under `mode` and checks the environment after it is the one before. */
#define AFTER_CALL_IN(mode, call, expected_status)                                                          \
    do {                                                                                                   \
        enter_mode(mode);                                                                                  \
        fp_snapshot before_ = snapshot();                                                                  \
        bp_status status_ = (call);                                                                        \
        fp_snapshot after_ = snapshot();                                                                   \
        leave_mode();                                                                                      \
        CHECK(status_ == (expected_status), "%s under \"%s\": %s (%s)", #call, (mode)->name,               \
              bp_status_string(status_), bp_last_error());                                                  \
        CHECK(same_snapshot(&before_, &after_), "%s under \"%s\" changed the caller's floating-point state", \
              #call, (mode)->name);                                                                        \
    } while (0)

static void check_entry_points(const caller_mode *mode)
{
    const net_desc *d = &RELU_NET;
    size_t batch = 16, n_in = d->sizes[0], n_out = desc_output_size(d);
    float *x = random_floats(batch * n_in, -1, 1), *y = random_floats(batch * n_out, 0, 0);
    float *out = random_floats(batch * n_out, 0, 0);
    for (size_t s = 0; s < batch; s++)
        y[s * n_out + s % n_out] = 1;
    float loss = 0, accuracy = 0, huge = 1e30f, nan_target[3] = {NAN, 0, 1};
    bp_network *net = NULL, *copy = NULL;
    size_t sizes[4] = {6, 32, 32, 3}, written = 0;
    int32_t acts[3] = {BP_RELU, BP_GELU, BP_SOFTMAX};

    AFTER_CALL_IN(mode, bp_create(sizes, 4, acts, d->loss, 5, &net), BP_OK);
    if (net == NULL)
        goto done;
    AFTER_CALL_IN(mode, bp_forward(net, x, batch, out), BP_OK);
    AFTER_CALL_IN(mode, bp_backward(net, y, batch, &loss), BP_OK);
    AFTER_CALL_IN(mode, bp_update(net, 0.1f), BP_OK);
    AFTER_CALL_IN(mode, bp_train_step(net, x, y, batch, 0.1f, &loss), BP_OK);
    AFTER_CALL_IN(mode, bp_train_step(net, x, y, 1, 0.1f, &loss), BP_OK);
    AFTER_CALL_IN(mode, bp_predict(net, x, batch, out), BP_OK);
    AFTER_CALL_IN(mode, bp_evaluate(net, x, y, batch, &loss, &accuracy), BP_OK);
    AFTER_CALL_IN(mode, bp_set_option(net, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM), BP_OK);
    AFTER_CALL_IN(mode, bp_train_step(net, x, y, batch, 1e-3f, &loss), BP_OK);
    AFTER_CALL_IN(mode, bp_set_threads(net, 2), BP_OK);
    AFTER_CALL_IN(mode, bp_train_step(net, x, y, batch, 1e-3f, &loss), BP_OK);

    /* Failures: refused arguments, and a failure found in the middle of the arithmetic. */
    AFTER_CALL_IN(mode, bp_forward(net, NULL, batch, out), BP_ERROR_NULL_ARGUMENT);
    AFTER_CALL_IN(mode, bp_train_step(net, x, nan_target, 1, 0.1f, &loss), BP_ERROR_NON_FINITE);

    /* bp_fit, whose callback is the caller's code and must see the caller's mode. */
    bp_fit_options options;
    bp_fit_options_init(&options);
    options.epochs = 3;
    options.batch_size = 4;
    options.learning_rate = 0.01f;
    options.progress = probe_progress;
    callback_probe probe = {snapshot(), 0, 0};
    enter_mode(mode);
    probe.expected = snapshot();
    leave_mode();
    options.user_data = &probe;
    AFTER_CALL_IN(mode, bp_set_parameters(net, NULL, 0), BP_ERROR_NULL_ARGUMENT);
    AFTER_CALL_IN(mode, bp_fit(net, x, y, batch, &options, NULL, 0, NULL), BP_OK);
    CHECK(probe.calls == 3 && probe.matched == 3, "under \"%s\": %d of %d progress callbacks ran in the caller's mode",
          mode->name, probe.matched, probe.calls);

    /* Model files. */
    size_t size = 0;
    AFTER_CALL_IN(mode, bp_save_to_buffer(net, NULL, 0, &size), BP_OK);
    unsigned char *buffer = xmalloc(size);
    AFTER_CALL_IN(mode, bp_save_to_buffer(net, buffer, size, &written), BP_OK);
    AFTER_CALL_IN(mode, bp_load_from_buffer(buffer, written, &copy), BP_OK);
    buffer[written / 2] ^= 1;
    AFTER_CALL_IN(mode, bp_load_from_buffer(buffer, written, &copy), BP_ERROR_CHECKSUM_MISMATCH);
    free(buffer);
    bp_destroy(copy);

    /* Divergence, found in the middle of the arithmetic (overflow, with traps unmasked in
     * one of the modes): steps with a huge rate until one is refused. */
    bp_status status = BP_OK;
    int diverged_cleanly = 1;
    for (int step = 0; step < 8 && status == BP_OK; step++) {
        enter_mode(mode);
        fp_snapshot before = snapshot();
        status = bp_train_step(net, x, y, batch, huge, &loss);
        fp_snapshot after = snapshot();
        leave_mode();
        diverged_cleanly &= same_snapshot(&before, &after);
    }
    CHECK(status == BP_ERROR_DIVERGED, "under \"%s\": a learning rate of 1e30 gave %s, expected BP_ERROR_DIVERGED",
          mode->name, bp_status_string(status));
    CHECK(diverged_cleanly, "under \"%s\": a diverging step changed the caller's floating-point state", mode->name);
done:
    bp_destroy(net);
    free(x);
    free(y);
    free(out);
}

static void case_fp_mode_restored(void)
{
    for (size_t m = 0; m < MODE_COUNT; m++)
        check_entry_points(&MODES[m]);
}

/*-************************************************************************
 *  fp_mode_results_independent
 **************************************************************************/
/* Parameters and model bytes after a fixed run, computed under `mode`. */
static uint64_t training_digest(const caller_mode *mode, const net_desc *d, size_t batch, int threads, int32_t optimizer)
{
    rng_seed(77);
    size_t n_in = d->sizes[0], n_out = desc_output_size(d);
    float *x = random_floats(batch * n_in, -1, 1), *y = random_floats(batch * n_out, 0, 1);
    bp_network *net = CREATE_DESC(d, 9);
    uint64_t digest = 0;
    if (net == NULL)
        return 0;
    EXPECT_OK(bp_set_threads(net, threads));
    EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, optimizer));
    enter_mode(mode);
    int ok = 1;
    for (int step = 0; step < 30 && ok; step++)
        ok = bp_train_step(net, x, y, batch, 0.01f, NULL) == BP_OK;
    size_t size = 0, written = 0;
    ok = ok && bp_save_to_buffer(net, NULL, 0, &size) == BP_OK;
    unsigned char *bytes = xmalloc(size);
    ok = ok && bp_save_to_buffer(net, bytes, size, &written) == BP_OK;
    leave_mode();
    CHECK(ok, "training under \"%s\" failed: %s", mode->name, bp_last_error());
    /* FNV-1a, not CRC-32: a CRC over a model, whose last four bytes are its own CRC, is
     * the same constant for every model. */
    digest = UINT64_C(0xCBF29CE484222325);
    for (size_t i = 0; i < written; i++)
        digest = (digest ^ bytes[i]) * UINT64_C(0x100000001B3);
    free(bytes);
    bp_destroy(net);
    free(x);
    free(y);
    return digest;
}

static void case_fp_mode_results_independent(void)
{
    static const net_desc tiny = {3, {2, 8, 1}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE};
    static const net_desc wide = {4, {64, 256, 128, 10}, {BP_RELU, BP_SILU, BP_LINEAR}, BP_LOSS_MSE};
    /* Not Adam, whose first steps are ±η whatever the rounding. */
    struct { const net_desc *d; size_t batch; int threads; int32_t optimizer; const char *what; } runs[] = {
        {&tiny, 1, 1, BP_OPTIMIZER_SGD, "2-8-1, batch 1, SGD (tiny path)"},
        {&tiny, 4, 1, BP_OPTIMIZER_NESTEROV, "2-8-1, batch 4, Nesterov"},
        {&wide, 32, 1, BP_OPTIMIZER_MOMENTUM, "64-256-128-10, batch 32, momentum"},
        {&wide, 64, 2, BP_OPTIMIZER_SGD, "64-256-128-10, batch 64, SGD, 2 threads"},
    };
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        uint64_t reference = training_digest(&MODES[0], runs[r].d, runs[r].batch, runs[r].threads, runs[r].optimizer);
        for (size_t m = 1; m < MODE_COUNT; m++) {
            uint64_t digest = training_digest(&MODES[m], runs[r].d, runs[r].batch, runs[r].threads, runs[r].optimizer);
            CHECK(digest == reference, "%s: the model trained under \"%s\" differs from the default mode's",
                  runs[r].what, MODES[m].name);
        }
    }
}

/*-************************************************************************
 *  subnormals_flushed
 **************************************************************************/
static void case_subnormals_flushed(void)
{
    size_t sizes[2] = {1, 1};
    int32_t linear = BP_LINEAR;
    bp_network *net = NULL;
    EXPECT_OK(bp_create(sizes, 2, &linear, BP_LOSS_MSE, 1, &net));
    if (net == NULL)
        return;
    float tiny_weight[2] = {1e-20f, 0}, unit_weight[2] = {1, 0};
    float tiny_input = 1e-20f, subnormal_input = 1e-40f, out = -1;
    CHECK(subnormal_input != 0 && subnormal_input < FLT_MIN, "1e-40f is subnormal here");

    EXPECT_OK(bp_set_parameters(net, tiny_weight, 2));
    EXPECT_OK(bp_forward(net, &tiny_input, 1, &out));
    CHECK(out == 0, "z = 1e-20 · 1e-20 is %g; the library flushes subnormal results to 0", (double)out);
    EXPECT_OK(bp_predict(net, &tiny_input, 1, &out));
    CHECK(out == 0, "bp_predict: z = 1e-20 · 1e-20 is %g; expected 0", (double)out);

    EXPECT_OK(bp_set_parameters(net, unit_weight, 2));
    EXPECT_OK(bp_forward(net, &subnormal_input, 1, &out));
    CHECK(out == 0, "z = 1 · 1e-40 is %g; the library reads subnormal inputs as 0", (double)out);

    /* The caller's own arithmetic keeps its subnormals after the call. */
    volatile float a = 1e-20f, b = 1e-20f;
    CHECK(a * b != 0, "the caller's 1e-20f · 1e-20f is %g after a library call; expected the subnormal 1e-40",
          (double)(a * b));
    bp_destroy(net);
}

/*-************************************************************************
 *  main
 **************************************************************************/
static const test_case CASES[] = {
    {"fp_mode_restored", case_fp_mode_restored},
    {"fp_mode_results_independent", case_fp_mode_results_independent},
    {"subnormals_flushed", case_subnormals_flushed},
};

int main(int argc, char **argv)
{
    static const harness_suite suite = {"test_fp_mode", CASES, sizeof CASES / sizeof CASES[0], 28, 300, 0, NULL};
    return harness_main(&suite, argc, argv);
}
