/*
 * test_api_optimizers.c — test_api cases on options and optimizers: bp_get_option /
 * bp_set_option (the header's defaults, every optimizer, set-then-get, the ends of each
 * range, every key and value error, refusals changing nothing), and every optimizer (SGD,
 * momentum, Nesterov, Adam, AdamW, Rprop, with weight decay and gradient clipping) step
 * by step against a double-precision reference of its rule; changing the optimizer resets
 * its state, changing a hyperparameter keeps it; bp_train_step uses the optimizer too.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

/*-************************************************************************
 *  Cases: options and optimizers
 **************************************************************************/
/* The defaults the header documents, by option key. */
static const double OPTION_DEFAULTS[OPTION_COUNT + 1] = {
    0.0,                          /* (no key 0) */
    BP_OPTIMIZER_SGD, 0.9, 0.9, 0.999, 1e-8, 0.0, 0.0, 1.2, 0.5, 1e-6, 50.0, 0.1,
    BP_SCHEDULE_CONSTANT, 0.1, 10.0, 0.0, 0.0, 0.0, 0.5, 0.1, 10.0, 1e-4, 1.0,
};

static int near_rel(double got, double want, double tol)
{
    return got == want || fabs(got - want) <= tol * fabs(want);
}

void case_options(void)
{
    /* Values exactly representable in float as well as double. */
    static const double valid[OPTION_COUNT + 1] = {
        0.0, BP_OPTIMIZER_ADAM, 0.5, 0.75, 0.875, 0.0078125, 0.25, 2.0, 1.5, 0.25, 0.03125, 8.0, 0.5,
        BP_SCHEDULE_COSINE, 0.5, 4.0, 2.0, 6.0, 0.0625, 0.25, 0.5, 3.0, 0.125, 0.375,
    };
    bp_network *net = CREATE_DESC(&XOR_NET, 1);
    double snapshot[OPTION_COUNT + 1], v = -1.0;
    int unchanged = 1;
    if (net == NULL)
        return;

    for (int32_t k = 1; k <= OPTION_COUNT; k++) {
        double got = GET_OPTION(net, k);
        CHECK(near_rel(got, OPTION_DEFAULTS[k], 1e-6), "option %d defaults to %.9g, the header says %.9g", (int)k,
              got, OPTION_DEFAULTS[k]);
    }
    /* Every optimizer and schedule value can be chosen. */
    for (int opt = BP_OPTIMIZER_SGD; opt <= BP_OPTIMIZER_RPROP; opt++) {
        EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, opt));
        CHECK(GET_OPTION(net, BP_OPTION_OPTIMIZER) == opt, "optimizer %d does not read back", opt);
    }
    for (int schedule = BP_SCHEDULE_CONSTANT; schedule <= BP_SCHEDULE_PLATEAU; schedule++) {
        EXPECT_OK(bp_set_option(net, BP_OPTION_SCHEDULE, schedule));
        CHECK(GET_OPTION(net, BP_OPTION_SCHEDULE) == schedule, "schedule %d does not read back", schedule);
    }
    /* Set then get, in an order where each value is valid when it is set. */
    for (int32_t k = 1; k <= OPTION_COUNT; k++) {
        EXPECT_OK(bp_set_option(net, k, valid[k]));
        CHECK(GET_OPTION(net, k) == valid[k], "option %d set to %.9g reads back as %.9g", (int)k, valid[k],
              GET_OPTION(net, k));
    }
    /* The ends of the ranges that are allowed. */
    EXPECT_OK(bp_set_option(net, BP_OPTION_MOMENTUM, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_BETA1, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_WEIGHT_DECAY, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_CLIP_NORM, 0.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, valid[BP_OPTION_RPROP_MAX_STEP]));
    for (int32_t k = 1; k <= OPTION_COUNT; k++)
        snapshot[k] = GET_OPTION(net, k);

    /* Errors; none of them changes anything. */
    EXPECT_ERR(bp_set_option(NULL, BP_OPTION_MOMENTUM, 0.5), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_get_option(NULL, BP_OPTION_MOMENTUM, &v), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_get_option(net, BP_OPTION_MOMENTUM, NULL), BP_ERROR_NULL_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, 0, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, OPTION_COUNT + 1, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, -1, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, INT32_MAX, 0.5), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_get_option(net, 0, &v), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_get_option(net, OPTION_COUNT + 1, &v), BP_ERROR_UNKNOWN_ENUM, "key");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_RPROP + 1), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, -1), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, 2.5), BP_ERROR_UNKNOWN_ENUM, "value");
    /* Subnormals are read by their bits, not as the 0 that denormals-are-zero makes them. */
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, 1e-309), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_OPTIMIZER, -4.9e-324), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_MOMENTUM, NAN), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA2, INFINITY), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_EPSILON, -INFINITY), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_CLIP_NORM, NAN), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_MOMENTUM, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_MOMENTUM, -0.1), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA1, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA1, -0.5), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_BETA2, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_EPSILON, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_EPSILON, -1e-8), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_EPSILON, FLT_MIN / 2), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_MIN_STEP, FLT_MIN / 2), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_WEIGHT_DECAY, -0.1), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_CLIP_NORM, -1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INCREASE, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INCREASE, 0.5), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_DECREASE, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_DECREASE, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_MIN_STEP, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_MIN_STEP, -1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_MAX_STEP, valid[BP_OPTION_RPROP_MIN_STEP] / 2),
               BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, 100.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, valid[BP_OPTION_RPROP_MIN_STEP] / 2),
               BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_SCHEDULE, BP_SCHEDULE_PLATEAU + 1), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_SCHEDULE, -1), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_SCHEDULE, 1.5), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_SCHEDULE, 1e-309), BP_ERROR_UNKNOWN_ENUM, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_GAMMA, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_GAMMA, 1.5), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_STEP_EPOCHS, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_STEP_EPOCHS, 2.5), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_STEP_EPOCHS, 1e7), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_WARMUP_EPOCHS, valid[BP_OPTION_CYCLE_EPOCHS]), BP_ERROR_INVALID_ARGUMENT,
               "value"); /* W < T */
    EXPECT_ERR(bp_set_option(net, BP_OPTION_CYCLE_EPOCHS, valid[BP_OPTION_WARMUP_EPOCHS]), BP_ERROR_INVALID_ARGUMENT,
               "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_MIN_LR, -1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_POWER_T, -0.5), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_PLATEAU_FACTOR, 1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_PLATEAU_PATIENCE, -1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_PLATEAU_THRESHOLD, -1e-4), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_GAMMA, NAN), BP_ERROR_NON_FINITE, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_HUBER_DELTA, 0.0), BP_ERROR_INVALID_ARGUMENT, "value");
    EXPECT_ERR(bp_set_option(net, BP_OPTION_HUBER_DELTA, -1.0), BP_ERROR_INVALID_ARGUMENT, "value");
    for (int32_t k = 1; k <= OPTION_COUNT; k++)
        if (GET_OPTION(net, k) != snapshot[k])
            unchanged = 0;
    CHECK(unchanged, "a refused bp_set_option changed an option");
    CHECK(v == -1.0, "a failed bp_get_option wrote *value (%g)", v);
    EXPECT_OK(bp_set_option(net, BP_OPTION_EPSILON, FLT_MIN)); /* the smallest normal float is fine */
    CHECK(GET_OPTION(net, BP_OPTION_EPSILON) == FLT_MIN, "epsilon FLT_MIN does not read back");
    bp_destroy(net);
}

/* The optimizers of the header's table, in double precision, PyTorch's conventions. */
typedef struct {
    int32_t optimizer;
    double lr, mu, beta1, beta2, eps, decay, clip, inc, dec, min_step, max_step, step0;
    size_t n, t;
    double *v, *m, *prev, *step;
} ref_optimizer;

static void ref_optimizer_init(ref_optimizer *o, size_t n)
{
    memset(o, 0, sizeof *o);
    o->optimizer = BP_OPTIMIZER_SGD;
    o->mu = OPTION_DEFAULTS[BP_OPTION_MOMENTUM];
    o->beta1 = OPTION_DEFAULTS[BP_OPTION_BETA1];
    o->beta2 = OPTION_DEFAULTS[BP_OPTION_BETA2];
    o->eps = OPTION_DEFAULTS[BP_OPTION_EPSILON];
    o->inc = OPTION_DEFAULTS[BP_OPTION_RPROP_INCREASE];
    o->dec = OPTION_DEFAULTS[BP_OPTION_RPROP_DECREASE];
    o->min_step = OPTION_DEFAULTS[BP_OPTION_RPROP_MIN_STEP];
    o->max_step = OPTION_DEFAULTS[BP_OPTION_RPROP_MAX_STEP];
    o->step0 = OPTION_DEFAULTS[BP_OPTION_RPROP_INITIAL_STEP];
    o->n = n;
    o->v = xmalloc(n * sizeof *o->v);
    o->m = xmalloc(n * sizeof *o->m);
    o->prev = xmalloc(n * sizeof *o->prev);
    o->step = xmalloc(n * sizeof *o->step);
}

static void ref_optimizer_reset(ref_optimizer *o)
{
    o->t = 0;
    for (size_t i = 0; i < o->n; i++) {
        o->v[i] = o->m[i] = o->prev[i] = 0.0;
        o->step[i] = o->step0;
    }
}

static void ref_optimizer_free(ref_optimizer *o)
{
    free(o->v);
    free(o->m);
    free(o->prev);
    free(o->step);
}

/* Sets an option on both the network and the reference. */
static void set_both_at(bp_network *net, ref_optimizer *o, int32_t key, double value, const char *file, int line)
{
    expect_status_at(bp_set_option(net, key, value), BP_OK, NULL, file, line, "bp_set_option(...)");
    switch (key) {
    case BP_OPTION_OPTIMIZER:
        if ((int32_t)value != o->optimizer) {
            o->optimizer = (int32_t)value;
            ref_optimizer_reset(o);
        }
        break;
    case BP_OPTION_MOMENTUM: o->mu = value; break;
    case BP_OPTION_BETA1: o->beta1 = value; break;
    case BP_OPTION_BETA2: o->beta2 = value; break;
    case BP_OPTION_EPSILON: o->eps = value; break;
    case BP_OPTION_WEIGHT_DECAY: o->decay = value; break;
    case BP_OPTION_CLIP_NORM: o->clip = value; break;
    case BP_OPTION_RPROP_INCREASE: o->inc = value; break;
    case BP_OPTION_RPROP_DECREASE: o->dec = value; break;
    case BP_OPTION_RPROP_MIN_STEP: o->min_step = value; break;
    case BP_OPTION_RPROP_MAX_STEP: o->max_step = value; break;
    case BP_OPTION_RPROP_INITIAL_STEP: o->step0 = value; break;
    default: break;
    }
}
#define SET_BOTH(net, o, key, value) set_both_at((net), (o), (key), (value), __FILE__, __LINE__)

static void ref_optimizer_step(ref_optimizer *o, double *theta, const float *grad)
{
    size_t n = o->n;
    double *g = xmalloc(n * sizeof *g), norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        g[i] = grad[i];
        norm += g[i] * g[i];
    }
    norm = sqrt(norm);
    if (o->clip > 0.0 && norm > o->clip) /* clipping first, then weight decay */
        for (size_t i = 0; i < n; i++)
            g[i] *= o->clip / norm;
    if (o->decay > 0.0 && o->optimizer != BP_OPTIMIZER_ADAMW)
        for (size_t i = 0; i < n; i++)
            g[i] += o->decay * theta[i];
    if (o->optimizer == BP_OPTIMIZER_ADAM || o->optimizer == BP_OPTIMIZER_ADAMW)
        o->t++;
    for (size_t i = 0; i < n; i++) {
        switch (o->optimizer) {
        case BP_OPTIMIZER_SGD:
            theta[i] -= o->lr * g[i];
            break;
        case BP_OPTIMIZER_MOMENTUM:
            o->v[i] = o->mu * o->v[i] + g[i];
            theta[i] -= o->lr * o->v[i];
            break;
        case BP_OPTIMIZER_NESTEROV:
            o->v[i] = o->mu * o->v[i] + g[i];
            theta[i] -= o->lr * (g[i] + o->mu * o->v[i]);
            break;
        case BP_OPTIMIZER_ADAM:
        case BP_OPTIMIZER_ADAMW: {
            double mhat, vhat, decayed = 0.0;
            if (o->optimizer == BP_OPTIMIZER_ADAMW)
                decayed = o->lr * o->decay * theta[i];
            o->m[i] = o->beta1 * o->m[i] + (1.0 - o->beta1) * g[i];
            o->v[i] = o->beta2 * o->v[i] + (1.0 - o->beta2) * g[i] * g[i];
            mhat = o->m[i] / (1.0 - pow(o->beta1, (double)o->t));
            vhat = o->v[i] / (1.0 - pow(o->beta2, (double)o->t));
            theta[i] -= decayed + o->lr * mhat / (sqrt(vhat) + o->eps);
            break;
        }
        case BP_OPTIMIZER_RPROP: { /* iRprop-: on a sign change, shrink the step and skip */
            double s = g[i] * o->prev[i];
            if (s > 0.0) {
                o->step[i] = fmin(o->step[i] * o->inc, o->max_step);
            } else if (s < 0.0) {
                o->step[i] = fmax(o->step[i] * o->dec, o->min_step);
                g[i] = 0.0;
            }
            theta[i] -= (g[i] > 0.0 ? 1.0 : g[i] < 0.0 ? -1.0 : 0.0) * o->step[i];
            o->prev[i] = g[i];
            break;
        }
        default:
            break;
        }
    }
    free(g);
}

/* One bp_forward/bp_backward/bp_update on XOR, checked against the reference. */
static void optimizer_step_at(bp_network *net, ref_optimizer *o, const char *label, int step, const char *file,
                              int line)
{
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *before, *g, *after;
    double *theta = xmalloc(o->n * sizeof *theta), worst = 0.0;
    size_t worst_i = 0;
    expect_status_at(bp_forward(net, x, 4, NULL), BP_OK, NULL, file, line, "bp_forward(...)");
    expect_status_at(bp_backward(net, y, 4, NULL), BP_OK, NULL, file, line, "bp_backward(...)");
    before = get_params_at(net, NULL, file, line);
    g = get_grads_at(net, file, line);
    expect_status_at(bp_update(net, (float)o->lr), BP_OK, NULL, file, line, "bp_update(...)");
    after = get_params_at(net, NULL, file, line);
    for (size_t i = 0; i < o->n; i++)
        theta[i] = before[i];
    ref_optimizer_step(o, theta, g);
    for (size_t i = 0; i < o->n; i++) {
        double err = fabs((double)after[i] - theta[i]) / (2e-6 + 1e-5 * fabs(theta[i]));
        if (!(err <= worst)) {
            worst = err;
            worst_i = i;
        }
    }
    check_at(worst <= 1.0, file, line, "%s, step %d: parameter[%zu] = %.9g, the rule gives %.9g (was %.9g, g %.9g)",
             label, step, worst_i, (double)after[worst_i], theta[worst_i], (double)before[worst_i],
             (double)g[worst_i]);
    free(x);
    free(y);
    free(before);
    free(g);
    free(after);
    free(theta);
}
#define OPTIMIZER_STEP(net, o, label, step) optimizer_step_at((net), (o), (label), (step), __FILE__, __LINE__)

/* A network with random parameters, and its reference optimizer with learning rate lr. */
static bp_network *optimizer_net(ref_optimizer *o, double lr, uint64_t seed)
{
    bp_network *net = CREATE_DESC(&XOR_NET, seed);
    float p[17];
    ref_optimizer_init(o, 17);
    ref_optimizer_reset(o);
    o->lr = lr;
    rng_seed(seed);
    for (size_t i = 0; i < 17; i++)
        p[i] = rng_range(-1.0, 1.0);
    if (net != NULL)
        EXPECT_OK(bp_set_parameters(net, p, 17));
    return net;
}

void case_optimizers(void)
{
    static const struct {
        const char *label;
        int32_t optimizer;
        double lr;
        int32_t keys[3];
        double values[3];
        int steps;
    } configs[] = {
        {"SGD", BP_OPTIMIZER_SGD, 0.5, {0}, {0}, 3},
        {"SGD + weight decay", BP_OPTIMIZER_SGD, 0.5, {BP_OPTION_WEIGHT_DECAY}, {0.1}, 3},
        {"SGD + clipping", BP_OPTIMIZER_SGD, 0.5, {BP_OPTION_CLIP_NORM}, {0.01}, 3},
        {"momentum", BP_OPTIMIZER_MOMENTUM, 0.3, {0}, {0}, 4},
        {"momentum 0.5 + clipping + decay", BP_OPTIMIZER_MOMENTUM, 0.3,
         {BP_OPTION_MOMENTUM, BP_OPTION_CLIP_NORM, BP_OPTION_WEIGHT_DECAY}, {0.5, 0.02, 0.01}, 4},
        {"Nesterov", BP_OPTIMIZER_NESTEROV, 0.3, {BP_OPTION_MOMENTUM}, {0.8}, 4},
        {"Adam", BP_OPTIMIZER_ADAM, 0.01, {0}, {0}, 4},
        {"Adam + L2 decay, betas", BP_OPTIMIZER_ADAM, 0.01, {BP_OPTION_WEIGHT_DECAY, BP_OPTION_BETA1, BP_OPTION_BETA2},
         {0.05, 0.8, 0.99}, 4},
        {"AdamW", BP_OPTIMIZER_ADAMW, 0.01, {BP_OPTION_WEIGHT_DECAY, BP_OPTION_EPSILON}, {0.1, 1e-6}, 4},
        {"Rprop (learning rate 0: ignored)", BP_OPTIMIZER_RPROP, 0.0, {0}, {0}, 6},
        {"Rprop, custom steps", BP_OPTIMIZER_RPROP, 0.0,
         {BP_OPTION_RPROP_INITIAL_STEP, BP_OPTION_RPROP_INCREASE, BP_OPTION_RPROP_DECREASE}, {0.3, 1.5, 0.25}, 6},
    };
    ref_optimizer o;
    bp_network *net;

    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) {
        net = optimizer_net(&o, configs[c].lr, 300 + c);
        if (net != NULL) {
            /* Hyperparameters first: choosing the optimizer then starts its state (Rprop's
             * step sizes) from them. */
            for (int k = 0; k < 3 && configs[c].keys[k] != 0; k++)
                SET_BOTH(net, &o, configs[c].keys[k], configs[c].values[k]);
            SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, configs[c].optimizer);
            for (int step = 1; step <= configs[c].steps; step++)
                OPTIMIZER_STEP(net, &o, configs[c].label, step);
        }
        ref_optimizer_free(&o);
        bp_destroy(net);
    }

    /* Choosing another optimizer resets the state; changing a hyperparameter keeps it. */
    net = optimizer_net(&o, 0.3, 400);
    if (net != NULL) {
        SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_MOMENTUM);
        OPTIMIZER_STEP(net, &o, "momentum", 1);
        OPTIMIZER_STEP(net, &o, "momentum", 2);
        SET_BOTH(net, &o, BP_OPTION_MOMENTUM, 0.5); /* keeps v */
        OPTIMIZER_STEP(net, &o, "momentum after changing mu", 3);
        SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM);
        OPTIMIZER_STEP(net, &o, "Adam after momentum", 1);
        SET_BOTH(net, &o, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_MOMENTUM); /* v starts again from 0 */
        OPTIMIZER_STEP(net, &o, "momentum after Adam", 1);
        OPTIMIZER_STEP(net, &o, "momentum after Adam", 2);
    }
    ref_optimizer_free(&o);
    bp_destroy(net);

    /* bp_train_step uses the optimizer too: same result as forward/backward/update. */
    {
        bp_network *a = CREATE_DESC(&XOR_NET, 9), *b = CREATE_DESC(&XOR_NET, 9);
        float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *pa, *pb;
        double worst = 0.0;
        if (a != NULL && b != NULL) {
            EXPECT_OK(bp_set_option(a, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
            EXPECT_OK(bp_set_option(b, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
            for (int i = 0; i < 3; i++) {
                EXPECT_OK(bp_forward(a, x, 4, NULL));
                EXPECT_OK(bp_backward(a, y, 4, NULL));
                EXPECT_OK(bp_update(a, 0.01f));
                EXPECT_OK(bp_train_step(b, x, y, 4, 0.01f, NULL));
            }
            pa = GET_PARAMS(a, NULL);
            pb = GET_PARAMS(b, NULL);
            for (size_t i = 0; i < 17; i++)
                if (fabs((double)pa[i] - (double)pb[i]) > worst)
                    worst = fabs((double)pa[i] - (double)pb[i]);
            CHECK(worst <= 1e-6, "Adam through bp_train_step differs from bp_update by %g", worst);
            free(pa);
            free(pb);
        }
        free(x);
        free(y);
        bp_destroy(a);
        bp_destroy(b);
    }
}
