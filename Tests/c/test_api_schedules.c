/*
 * test_api_schedules.c — learning-rate schedules: bp_fit's epoch reports against each
 * BP_SCHEDULE_*'s formula evaluated here in double precision, the plateau rule against the
 * losses bp_fit reported, stepping by hand (bp_scheduled_learning_rate, bp_end_epoch)
 * agreeing with bp_fit, training resuming on schedule from a model buffer, the format
 * version each model is written with, and the argument errors.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_api.h"

#define EPOCHS 9
#define SAMPLES 4 /* XOR */
#define BASE_RATE 0.5f

typedef struct {
    int32_t key;
    double value;
} option_value;

static bp_network *scheduled_net(int32_t schedule, const option_value *options, size_t count)
{
    bp_network *net = CREATE_DESC(&XOR_NET, XOR_SEED);
    if (net == NULL)
        return NULL;
    EXPECT_OK(bp_set_option(net, BP_OPTION_SCHEDULE, schedule));
    for (size_t i = 0; i < count; i++)
        EXPECT_OK(bp_set_option(net, options[i].key, options[i].value));
    return net;
}

/* bp_fit for `epochs` epochs on XOR, without shuffling; the reports into history. */
static void fit_xor(bp_network *net, size_t epochs, bp_epoch_report *history)
{
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4);
    bp_fit_options options;
    size_t run = 0;
    bp_fit_options_init(&options);
    options.epochs = epochs;
    options.batch_size = 2;
    options.learning_rate = BASE_RATE;
    options.shuffle = 0;
    EXPECT_OK(bp_fit(net, x, y, SAMPLES, &options, history, epochs, &run));
    CHECK(run == epochs, "bp_fit ran %zu epochs of %zu", run, epochs);
    free(x);
    free(y);
}

/* η of epoch e (0-based) by the header's formula for the schedules that need no losses. */
static double ref_rate(int32_t schedule, size_t e, double gamma, double s, double w, double t, double eta_min,
                       double p)
{
    double eta0 = BASE_RATE, epoch = (double)e;
    switch (schedule) {
    case BP_SCHEDULE_STEP: return eta0 * pow(gamma, floor(epoch / s));
    case BP_SCHEDULE_EXPONENTIAL: return eta0 * pow(gamma, epoch);
    case BP_SCHEDULE_COSINE:
        if (epoch < w)
            return eta0 * (epoch + 1) / w;
        if (epoch >= t)
            return eta_min;
        return eta_min + (eta0 - eta_min) * (1 + cos(acos(-1.0) * (epoch - w) / (t - w))) / 2;
    case BP_SCHEDULE_INVSCALING: return eta0 / pow((double)(SAMPLES * e) + 1, p);
    default: return eta0;
    }
}

static void check_rates(const char *name, const bp_epoch_report *history, int32_t schedule, double gamma, double s,
                        double w, double t, double eta_min, double p)
{
    for (size_t e = 0; e < EPOCHS; e++) {
        float want = (float)ref_rate(schedule, e, gamma, s, w, t, eta_min, p);
        CHECK(history[e].learning_rate == want, "%s, epoch %zu: learning rate %.9g, the formula gives %.9g", name,
              e + 1, history[e].learning_rate, want);
    }
}

static void check_closed_form_schedules(void)
{
    bp_epoch_report history[EPOCHS];
    const option_value step[] = {{BP_OPTION_GAMMA, 0.5}, {BP_OPTION_STEP_EPOCHS, 2}};
    const option_value exponential[] = {{BP_OPTION_GAMMA, 0.8}};
    const option_value cosine[] = {{BP_OPTION_WARMUP_EPOCHS, 3}, {BP_OPTION_CYCLE_EPOCHS, 7}, {BP_OPTION_MIN_LR, 0.05}};
    const option_value invscaling[] = {{BP_OPTION_POWER_T, 0.25}};
    struct {
        const char *name;
        int32_t schedule;
        const option_value *options;
        size_t count;
        double gamma, s, w, t, eta_min, p; /* what the formula reads */
    } cases[] = {
        {"constant", BP_SCHEDULE_CONSTANT, NULL, 0, 0, 0, 0, 0, 0, 0},
        {"step", BP_SCHEDULE_STEP, step, 2, 0.5, 2, 0, 0, 0, 0},
        {"exponential", BP_SCHEDULE_EXPONENTIAL, exponential, 1, 0.8, 0, 0, 0, 0, 0},
        {"cosine", BP_SCHEDULE_COSINE, cosine, 3, 0, 0, 3, 7, 0.05, 0},
        {"cosine over bp_fit's epochs", BP_SCHEDULE_COSINE, NULL, 0, 0, 0, 0, EPOCHS, 0, 0},
        {"invscaling", BP_SCHEDULE_INVSCALING, invscaling, 1, 0, 0, 0, 0, 0, 0.25},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bp_network *net = scheduled_net(cases[i].schedule, cases[i].options, cases[i].count);
        if (net == NULL)
            continue;
        fit_xor(net, EPOCHS, history);
        check_rates(cases[i].name, history, cases[i].schedule, cases[i].gamma, cases[i].s, cases[i].w, cases[i].t,
                    cases[i].eta_min, cases[i].p);
        bp_destroy(net);
    }
}

/* The plateau rule applied to the training losses bp_fit reported (its monitored loss). */
static void check_plateau(void)
{
    const option_value plateau[] = {{BP_OPTION_PLATEAU_FACTOR, 0.5},
                                    {BP_OPTION_PLATEAU_PATIENCE, 0},
                                    {BP_OPTION_PLATEAU_THRESHOLD, 0.05},
                                    {BP_OPTION_MIN_LR, 0.1}};
    bp_network *net = scheduled_net(BP_SCHEDULE_PLATEAU, plateau, 4);
    bp_epoch_report history[EPOCHS];
    double m = 1.0, best = INFINITY;
    int reductions = 0;
    if (net == NULL)
        return;
    fit_xor(net, EPOCHS, history);
    for (size_t e = 0; e < EPOCHS; e++) {
        float want = (float)fmax(BASE_RATE * m, fmin(BASE_RATE, 0.1));
        CHECK(history[e].learning_rate == want, "plateau, epoch %zu: %.9g, the rule gives %.9g", e + 1,
              history[e].learning_rate, want);
        if (history[e].train_loss < (float)(best - (double)(float)0.05)) {
            best = history[e].train_loss;
        } else {
            m *= 0.5; /* patience 0: the first epoch without improvement */
            reductions++;
        }
    }
    CHECK(reductions > 0, "the plateau case never reduced the rate: it tests nothing");
    bp_destroy(net);
}

static void check_by_hand_and_resuming(void)
{
    const option_value step[] = {{BP_OPTION_GAMMA, 0.5}, {BP_OPTION_STEP_EPOCHS, 2}};
    bp_network *fitted = scheduled_net(BP_SCHEDULE_STEP, step, 2), *by_hand = scheduled_net(BP_SCHEDULE_STEP, step, 2);
    bp_network *first = scheduled_net(BP_SCHEDULE_STEP, step, 2), *resumed = NULL;
    bp_epoch_report all[EPOCHS], part[EPOCHS];
    unsigned char *buf = NULL;
    size_t size = 0;
    float rate = 0.0f;
    if (fitted == NULL || by_hand == NULL || first == NULL)
        goto done;
    fit_xor(fitted, EPOCHS, all);
    for (size_t e = 0; e < EPOCHS; e++) {
        EXPECT_OK(bp_scheduled_learning_rate(by_hand, BASE_RATE, &rate));
        CHECK(rate == all[e].learning_rate, "by hand, epoch %zu: %.9g, bp_fit used %.9g", e + 1, rate,
              all[e].learning_rate);
        EXPECT_OK(bp_end_epoch(by_hand, SAMPLES, 1.0f));
    }

    fit_xor(first, 4, part);
    EXPECT_OK(bp_save_to_buffer(first, NULL, 0, &size));
    buf = xmalloc(size);
    EXPECT_OK(bp_save_to_buffer(first, buf, size, &size));
    CHECK(buf[8] == 2, "a model with a schedule is written as format version %u, expected 2", (unsigned)buf[8]);
    EXPECT_OK(bp_load_from_buffer(buf, size, &resumed));
    if (resumed != NULL) {
        float *want, *got;
        fit_xor(resumed, EPOCHS - 4, part + 4);
        for (size_t e = 0; e < EPOCHS; e++)
            CHECK(part[e].learning_rate == all[e].learning_rate, "resumed, epoch %zu: %.9g, in one run %.9g", e + 1,
                  part[e].learning_rate, all[e].learning_rate);
        want = GET_PARAMS(fitted, NULL);
        got = GET_PARAMS(resumed, NULL);
        CHECK(memcmp(want, got, 17 * sizeof *got) == 0, "training resumed from the buffer differs from one run");
        free(want);
        free(got);
    }
done:
    free(buf);
    bp_destroy(fitted);
    bp_destroy(by_hand);
    bp_destroy(first);
    bp_destroy(resumed);
}

static void check_versions_and_errors(void)
{
    bp_network *plain = CREATE_DESC(&XOR_NET, 1), *cosine = scheduled_net(BP_SCHEDULE_COSINE, NULL, 0);
    bp_epoch_report history[2];
    size_t size = 0;
    float rate = -1.0f;
    if (plain == NULL || cosine == NULL)
        goto done;
    CHECK(sizeof(bp_epoch_report) == 3 * sizeof(size_t), "sizeof(bp_epoch_report) is %zu, which it must never change",
          sizeof(bp_epoch_report));
    fit_xor(plain, 2, history);
    EXPECT_OK(bp_save_to_buffer(plain, NULL, 0, &size));
    EXPECT_OK(bp_end_epoch(plain, 4, 1.0f)); /* the constant schedule keeps nothing */
    {
        unsigned char *buf = xmalloc(size);
        EXPECT_OK(bp_save_to_buffer(plain, buf, size, &size));
        CHECK(buf[8] == 1, "a model without a schedule is written as version %u, expected 1", (unsigned)buf[8]);
        free(buf);
    }
    EXPECT_ERR(bp_scheduled_learning_rate(cosine, 0.1f, &rate), BP_ERROR_INVALID_ARGUMENT, "cycle epochs");
    EXPECT_ERR(bp_scheduled_learning_rate(NULL, 0.1f, &rate), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_scheduled_learning_rate(plain, 0.1f, NULL), BP_ERROR_NULL_ARGUMENT, "rate");
    EXPECT_ERR(bp_scheduled_learning_rate(plain, NAN, &rate), BP_ERROR_NON_FINITE, "base_rate");
    EXPECT_ERR(bp_scheduled_learning_rate(plain, -0.1f, &rate), BP_ERROR_INVALID_ARGUMENT, "base_rate");
    CHECK(rate == -1.0f, "a failed bp_scheduled_learning_rate wrote *rate (%g)", rate);
    EXPECT_ERR(bp_end_epoch(NULL, 4, 1.0f), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_end_epoch(cosine, SIZE_MAX, 1.0f), BP_ERROR_SIZE_OVERFLOW, "samples");
    EXPECT_OK(bp_end_epoch(cosine, 4, NAN)); /* NaN is a loss that did not improve */
    /* The counts saturate rather than overflow (an overflow would trap inside the library). */
    EXPECT_OK(bp_end_epoch(cosine, PTRDIFF_MAX, 1.0f));
    EXPECT_OK(bp_end_epoch(cosine, PTRDIFF_MAX, 1.0f));
    {
        bp_network *copy = NULL;
        unsigned char *buf = SAVE_MODEL(cosine, &size);
        EXPECT_OK(bp_load_from_buffer(buf, size, &copy)); /* a saturated count is a valid file */
        bp_destroy(copy);
        free(buf);
    }
done:
    bp_destroy(plain);
    bp_destroy(cosine);
}

void case_schedules(void)
{
    check_closed_form_schedules();
    check_plateau();
    check_by_hand_and_resuming();
    check_versions_and_errors();
}
