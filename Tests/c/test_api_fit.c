/*
 * test_api_fit.c — test_api cases on bp_fit, bp_evaluate and divergence: bp_fit_options
 * defaults, XOR through bp_fit (history, determinism, shuffling by seed), the progress
 * callback and stopping from it, history capacity, target loss, validation set and early
 * stopping, every argument error; bp_evaluate (loss against the reference model, the
 * accuracy rules for softmax, several and one sigmoid unit, NaN for a non-classifier,
 * read-only, errors); a loss that overflows (BP_ERROR_DIVERGED, parameters unchanged) and
 * steps that overflow the parameters (still finite, still saved and loaded).
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

/*-************************************************************************
 *  Cases: bp_fit, bp_evaluate, divergence
 **************************************************************************/
typedef struct {
    int calls;
    size_t epochs[16];
    int stop_after;
} progress_log;

static int progress_callback(const bp_epoch_report *report, void *user_data)
{
    progress_log *log = user_data;
    if (log->calls < 16)
        log->epochs[log->calls] = report->epoch;
    log->calls++;
    return log->stop_after > 0 && log->calls >= log->stop_after ? 0 : 1;
}

void case_fit(void)
{
    bp_fit_options o, bad;
    bp_epoch_report *hist = xmalloc((XOR_STEPS + 1) * sizeof *hist), small[3];
    progress_log log;
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *bx = dup_floats(XOR_X, 8), *by = dup_floats(XOR_Y, 4);
    float loss = -1.0f, acc = -1.0f, *pa, *pb, *p0;
    bp_network *a, *b, *c;
    size_t runs = 0, n = 0;
    int epochs_ok = 1;

    /* Defaults. */
    bp_fit_options_init(NULL);
    memset(&o, 0xAB, sizeof o);
    bp_fit_options_init(&o);
    CHECK(o.struct_size == sizeof(bp_fit_options), "struct_size %zu, sizeof %zu", o.struct_size,
          sizeof(bp_fit_options));
    CHECK(o.epochs == 10 && o.batch_size == 32 && o.learning_rate == 0.01f && o.shuffle == 1 && o.seed == 0,
          "defaults: epochs %zu, batch_size %zu, learning_rate %g, shuffle %d, seed %llu", o.epochs, o.batch_size,
          (double)o.learning_rate, (int)o.shuffle, (unsigned long long)o.seed);
    CHECK(o.validation_inputs == NULL && o.validation_targets == NULL && o.validation_count == 0,
          "default validation set is not empty");
    CHECK(o.patience == 0 && o.min_delta == 0.0f && o.restore_best == 1 && o.target_loss <= 0.0f,
          "defaults: patience %zu, min_delta %g, restore_best %d, target_loss %g", o.patience, (double)o.min_delta,
          (int)o.restore_best, (double)o.target_loss);
    CHECK(o.progress == NULL && o.user_data == NULL, "default progress callback or user_data is not NULL");

    /* XOR with bp_fit: full batches of 4, shuffled; the history has every epoch. */
    a = CREATE_DESC(&XOR_NET, XOR_SEED);
    b = CREATE_DESC(&XOR_NET, XOR_SEED);
    if (a == NULL || b == NULL) {
        bp_destroy(a);
        bp_destroy(b);
        free(hist);
        free(x);
        free(y);
        free(bx);
        free(by);
        return;
    }
    o.epochs = XOR_STEPS;
    o.batch_size = 4;
    o.learning_rate = XOR_LR;
    o.seed = 3;
    hist[XOR_STEPS].epoch = 12345;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, hist, XOR_STEPS, &runs));
    CHECK(runs == XOR_STEPS, "epochs_run %zu, expected %d", runs, XOR_STEPS);
    for (size_t i = 0; i < XOR_STEPS; i++)
        if (hist[i].epoch != i + 1 || !isfinite(hist[i].train_loss) || !isnan(hist[i].validation_loss) ||
            !isnan(hist[i].validation_accuracy))
            epochs_ok = 0;
    CHECK(epochs_ok, "history: epochs not 1..n, a non-finite training loss, or validation values not NaN");
    CHECK(hist[XOR_STEPS].epoch == 12345, "bp_fit wrote past history_capacity");
    EXPECT_OK(bp_evaluate(a, x, y, 4, &loss, &acc));
    CHECK(loss < 0.01f && acc == 1.0f, "after bp_fit on XOR: loss %g, accuracy %g", (double)loss, (double)acc);
    CHECK(hist[XOR_STEPS - 1].train_loss < 0.05f, "last epoch's training loss %g",
          (double)hist[XOR_STEPS - 1].train_loss);
    EXPECT_OK(bp_fit(b, x, y, 4, &o, NULL, 0, NULL));
    pa = GET_PARAMS(a, &n);
    pb = GET_PARAMS(b, NULL);
    CHECK(memcmp(pa, pb, n * sizeof *pa) == 0, "bp_fit twice with the same seeds: different networks");
    free(pa);
    free(pb);
    bp_destroy(a);
    bp_destroy(b);

    /* Batches of 1: the seed picks the order. */
    a = CREATE_DESC(&XOR_NET, 5);
    b = CREATE_DESC(&XOR_NET, 5);
    c = CREATE_DESC(&XOR_NET, 5);
    bp_fit_options_init(&o);
    o.epochs = 10;
    o.batch_size = 1;
    o.learning_rate = 0.5f;
    o.seed = 1;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, NULL, 0, NULL));
    EXPECT_OK(bp_fit(c, x, y, 4, &o, NULL, 0, NULL));
    o.seed = 2;
    EXPECT_OK(bp_fit(b, x, y, 4, &o, NULL, 0, NULL));
    if (a != NULL && b != NULL && c != NULL) {
        float *pc = GET_PARAMS(c, NULL);
        pa = GET_PARAMS(a, NULL);
        pb = GET_PARAMS(b, NULL);
        CHECK(memcmp(pa, pc, 17 * sizeof *pa) == 0, "batch 1, same seed: different networks");
        CHECK(memcmp(pa, pb, 17 * sizeof *pa) != 0, "batch 1, seeds 1 and 2: identical networks (no shuffling?)");
        free(pa);
        free(pb);
        free(pc);
    }
    bp_destroy(b);
    bp_destroy(c);

    /* The progress callback: every epoch, in order, with user_data; returning 0 stops. */
    memset(&log, 0, sizeof log);
    log.stop_after = 3;
    bp_fit_options_init(&o);
    o.batch_size = 4;
    o.progress = progress_callback;
    o.user_data = &log;
    runs = 0;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, NULL, 0, &runs));
    CHECK(runs == 3 && log.calls == 3 && log.epochs[0] == 1 && log.epochs[1] == 2 && log.epochs[2] == 3,
          "stopping from the callback after epoch 3: epochs_run %zu, %d calls", runs, log.calls);

    /* A history smaller than the epochs, the default batch size (32 > 4 samples). */
    bp_fit_options_init(&o);
    o.epochs = 5;
    small[2].epoch = 777;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, small, 2, &runs));
    CHECK(runs == 5 && small[0].epoch == 1 && small[1].epoch == 2 && small[2].epoch == 777,
          "history capacity 2 of 5 epochs: epochs_run %zu, history %zu %zu %zu", runs, small[0].epoch,
          small[1].epoch, small[2].epoch);
    bp_destroy(a);

    /* The target loss stops training once the (training) loss reaches it. */
    a = CREATE_DESC(&XOR_NET, XOR_SEED);
    bp_fit_options_init(&o);
    o.epochs = XOR_STEPS;
    o.batch_size = 4;
    o.learning_rate = XOR_LR;
    o.target_loss = 0.05f;
    runs = 0;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, hist, XOR_STEPS, &runs));
    CHECK(runs >= 1 && runs < XOR_STEPS && hist[runs - 1].train_loss <= 0.05f &&
              (runs == 1 || hist[runs - 2].train_loss > 0.05f),
          "target loss 0.05: stopped after %zu epochs", runs);

    /* A validation set: its loss and accuracy are reported, and early stopping watches it.
     * With learning rate 0 nothing improves after epoch 1: patience 5 stops after epoch 6. */
    bp_fit_options_init(&o);
    o.epochs = 100;
    o.batch_size = 4;
    o.learning_rate = 0.0f;
    o.validation_inputs = x;
    o.validation_targets = y;
    o.validation_count = 4;
    o.patience = 5;
    runs = 0;
    EXPECT_OK(bp_fit(a, x, y, 4, &o, hist, 100, &runs));
    CHECK(runs == 6, "patience 5 and no improvement: %zu epochs ran, expected 6", runs);
    EXPECT_OK(bp_evaluate(a, x, y, 4, &loss, &acc));
    CHECK(fabs((double)hist[0].validation_loss - (double)loss) <= 1e-6 &&
              fabs((double)hist[0].validation_accuracy - (double)acc) <= 1e-6,
          "validation loss/accuracy %g/%g, bp_evaluate gives %g/%g", (double)hist[0].validation_loss,
          (double)hist[0].validation_accuracy, (double)loss, (double)acc);

    /* Errors: nothing changes. */
    p0 = GET_PARAMS(a, &n);
    bp_fit_options_init(&o);
    o.epochs = 2;
    o.batch_size = 4;
    EXPECT_ERR(bp_fit(NULL, x, y, 4, &o, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_fit(a, NULL, y, 4, &o, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "inputs");
    EXPECT_ERR(bp_fit(a, x, NULL, 4, &o, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "targets");
    EXPECT_ERR(bp_fit(a, x, y, 4, NULL, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "options");
    EXPECT_ERR(bp_fit(a, x, y, 0, &o, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "count");
    EXPECT_ERR(bp_fit(a, x, y, SIZE_MAX / 2 + 1, &o, NULL, 0, NULL), BP_ERROR_SIZE_OVERFLOW, "count");
    bad = o;
    bad.epochs = 0;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->epochs");
    bad = o;
    bad.batch_size = 0;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->batch_size");
    bad = o;
    bad.learning_rate = -1.0f;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->learning_rate");
    bad.learning_rate = NAN;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NON_FINITE, "options->learning_rate");
    bad.learning_rate = INFINITY;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NON_FINITE, "options->learning_rate");
    bad = o;
    bad.struct_size = 0;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->struct_size");
    bad.struct_size = sizeof(bp_fit_options) + 8;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->struct_size");
    bad = o;
    bad.min_delta = -1.0f;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_INVALID_ARGUMENT, "options->min_delta");
    bad = o;
    bad.validation_count = 2;
    bad.validation_targets = y;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "options->validation_inputs");
    bad.validation_inputs = x;
    bad.validation_targets = NULL;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "options->validation_targets");
    bx[7] = NAN;
    EXPECT_ERR(bp_fit(a, bx, y, 4, &o, NULL, 0, NULL), BP_ERROR_NON_FINITE, "inputs");
    by[0] = INFINITY;
    EXPECT_ERR(bp_fit(a, x, by, 4, &o, NULL, 0, NULL), BP_ERROR_NON_FINITE, "targets");
    bad = o;
    bad.validation_inputs = bx;
    bad.validation_targets = y;
    bad.validation_count = 4;
    EXPECT_ERR(bp_fit(a, x, y, 4, &bad, NULL, 0, NULL), BP_ERROR_NON_FINITE, "options->validation_inputs");
    CHECK(params_equal(a, p0, n), "refused bp_fit calls changed the parameters");

    free(p0);
    free(hist);
    free(x);
    free(y);
    free(bx);
    free(by);
    bp_destroy(a);
}

static size_t argmax(const float *v, size_t n)
{
    size_t best = 0;
    for (size_t j = 1; j < n; j++)
        if (v[j] > v[best])
            best = j;
    return best;
}

void case_evaluate(void)
{
    const net_desc d = {3, {3, 6, 4}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const net_desc lin = {2, {3, 2}, {BP_LINEAR}, BP_LOSS_MSE};
    const net_desc msig = {2, {3, 3}, {BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&d, 61), *ln = CREATE_DESC(&lin, 61), *ms = CREATE_DESC(&msig, 61);
    bp_network *xr = CREATE_DESC(&XOR_NET, 61);
    size_t P = desc_param_count(&d), hits = 0, n = 0;
    float *pf, *x, *y, *bad, *out, loss = -1.0f, acc = -1.0f, untouched = -5.0f;
    double *pd, ref[4], ref_loss;
    if (net == NULL || ln == NULL || ms == NULL || xr == NULL) {
        bp_destroy(net);
        bp_destroy(ln);
        bp_destroy(ms);
        bp_destroy(xr);
        return;
    }
    rng_seed(62);
    pf = alloc_floats(P, 0.0f);
    pd = xmalloc(P * sizeof *pd);
    for (size_t i = 0; i < P; i++) {
        pf[i] = rng_range(-1.5, 1.5);
        pd[i] = pf[i];
    }
    EXPECT_OK(bp_set_parameters(net, pf, P));
    x = alloc_floats(9 * 3, 0.0f);
    y = alloc_floats(9 * 4, 0.0f);
    out = alloc_floats(9 * 4, 0.0f);
    for (size_t i = 0; i < 27; i++)
        x[i] = rng_range(-1.0, 1.0);
    fill_targets(&d, y, 9);
    bad = dup_floats(x, 27);

    /* Softmax: the mean loss, and the fraction whose largest output is the target's class. */
    EXPECT_OK(bp_evaluate(net, x, y, 9, &loss, &acc));
    ref_loss = ref_mean_loss(&d, pd, x, y, 9);
    for (size_t s = 0; s < 9; s++) {
        float rf[4];
        ref_forward_sample(&d, pd, x + s * 3, ref);
        for (size_t j = 0; j < 4; j++)
            rf[j] = (float)ref[j];
        if (argmax(rf, 4) == argmax(y + s * 4, 4))
            hits++;
    }
    CHECK(fabs((double)loss - ref_loss) <= 1e-5 + 1e-4 * fabs(ref_loss), "bp_evaluate loss %.9g, reference %.9g",
          (double)loss, ref_loss);
    CHECK(fabs((double)acc - (double)hits / 9.0) <= 1e-6, "bp_evaluate accuracy %g, expected %zu/9", (double)acc,
          hits);
    EXPECT_OK(bp_evaluate(net, x, y, 9, NULL, NULL));
    EXPECT_OK(bp_evaluate(net, x, y, 9, &loss, NULL));

    /* Several sigmoid units: argmax too (one-hot targets over 3 classes). */
    EXPECT_OK(bp_predict(ms, x, 9, out));
    {
        float *y3 = alloc_floats(9 * 3, 0.0f);
        for (size_t s = 0; s < 9; s++)
            y3[s * 3 + argmax(y + s * 4, 4) % 3] = 1.0f;
        hits = 0;
        for (size_t s = 0; s < 9; s++)
            if (argmax(out + s * 3, 3) == argmax(y3 + s * 3, 3))
                hits++;
        EXPECT_OK(bp_evaluate(ms, x, y3, 9, &loss, &acc));
        CHECK(fabs((double)acc - (double)hits / 9.0) <= 1e-6, "multi-unit sigmoid accuracy %g, expected %zu/9",
              (double)acc, hits);
        free(y3);
    }

    /* One sigmoid unit: the same side of 0.5 as the target. */
    {
        float *xx = dup_floats(XOR_X, 8), *yy = dup_floats(XOR_Y, 4), o4[4];
        EXPECT_OK(bp_predict(xr, xx, 4, o4));
        hits = 0;
        for (size_t s = 0; s < 4; s++)
            if ((o4[s] > 0.5f) == (yy[s] > 0.5f))
                hits++;
        EXPECT_OK(bp_evaluate(xr, xx, yy, 4, &loss, &acc));
        CHECK(fabs((double)acc - (double)hits / 4.0) <= 1e-6, "one sigmoid unit: accuracy %g, expected %zu/4",
              (double)acc, hits);
        /* It reads the network only: a network never run forward still has nothing kept. */
        EXPECT_ERR(bp_backward(xr, yy, 4, NULL), BP_ERROR_STATE, NULL);
        free(xx);
        free(yy);
    }

    /* Not a classifier: accuracy is NaN. */
    EXPECT_OK(bp_evaluate(ln, x, y, 9, &loss, &acc)); /* 2 outputs: y rows of 4 are read as 9 x 2 */
    CHECK(isnan(acc), "linear output: accuracy %g, expected NaN", (double)acc);

    /* Reads only: what bp_forward kept survives. */
    EXPECT_OK(bp_forward(net, x, 9, NULL));
    EXPECT_OK(bp_evaluate(net, x, y, 3, &loss, &acc));
    EXPECT_OK(bp_backward(net, y, 9, NULL));

    /* Errors. */
    free(pf);
    pf = GET_PARAMS(net, &n);
    EXPECT_ERR(bp_evaluate(NULL, x, y, 9, &untouched, NULL), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_evaluate(net, NULL, y, 9, &untouched, NULL), BP_ERROR_NULL_ARGUMENT, "inputs");
    EXPECT_ERR(bp_evaluate(net, x, NULL, 9, &untouched, NULL), BP_ERROR_NULL_ARGUMENT, "targets");
    EXPECT_ERR(bp_evaluate(net, x, y, 0, &untouched, NULL), BP_ERROR_INVALID_ARGUMENT, "count");
    EXPECT_ERR(bp_evaluate(net, x, y, SIZE_MAX / 2 + 1, &untouched, NULL), BP_ERROR_SIZE_OVERFLOW, "count");
    bad[26] = NAN;
    EXPECT_ERR(bp_evaluate(net, bad, y, 9, &untouched, NULL), BP_ERROR_NON_FINITE, "inputs");
    y[35] = -INFINITY;
    EXPECT_ERR(bp_evaluate(net, x, y, 9, &untouched, NULL), BP_ERROR_NON_FINITE, "targets");
    CHECK(untouched == -5.0f, "a failed bp_evaluate wrote *loss (%g)", (double)untouched);
    CHECK(params_equal(net, pf, n), "bp_evaluate changed the parameters");

    free(pf);
    free(pd);
    free(x);
    free(y);
    free(bad);
    free(out);
    bp_destroy(net);
    bp_destroy(ln);
    bp_destroy(ms);
    bp_destroy(xr);
}

/* Saves to a buffer and loads it back; 1 if that works and the parameters survive. */
static int buffer_round_trip(const bp_network *net)
{
    size_t size = 0, n = bp_parameter_count(net);
    void *buf;
    bp_network *copy = NULL;
    float *a, *b;
    int ok;
    if (bp_save_to_buffer(net, NULL, 0, &size) != BP_OK || size == 0)
        return 0;
    buf = xmalloc(size);
    ok = bp_save_to_buffer(net, buf, size, &size) == BP_OK && bp_load_from_buffer(buf, size, &copy) == BP_OK;
    if (ok) {
        a = alloc_floats(n, 0.0f);
        b = alloc_floats(n, 1.0f);
        ok = bp_get_parameters(net, a, n) == BP_OK && bp_get_parameters(copy, b, n) == BP_OK &&
             memcmp(a, b, n * sizeof *a) == 0;
        free(a);
        free(b);
    }
    bp_destroy(copy);
    free(buf);
    return ok;
}

void case_diverged(void)
{
    const net_desc d = {2, {1, 1}, {BP_LINEAR}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&d, 1);
    float huge[2] = {1e30f, 0.0f}, one[2] = {1.0f, 0.0f}, xv = 1e10f, yv = 0.0f, loss = 0.0f, *p;
    float *x = dup_floats(&xv, 1), *y = dup_floats(&yv, 1);
    bp_fit_options o;
    bp_status s;
    int round_trip;
    if (net == NULL) {
        free(x);
        free(y);
        return;
    }

    /* The loss overflows to inf: bp_update, bp_train_step and bp_fit refuse to apply it. */
    EXPECT_OK(bp_set_parameters(net, huge, 2));
    EXPECT_OK(bp_forward(net, x, 1, NULL));
    EXPECT_OK(bp_backward(net, y, 1, &loss));
    CHECK(!isfinite(loss), "premise: the loss should overflow, it is %g", (double)loss);
    EXPECT_ERR(bp_update(net, 0.1f), BP_ERROR_DIVERGED, NULL);
    CHECK(params_equal(net, huge, 2), "a diverged bp_update changed the parameters");
    EXPECT_ERR(bp_train_step(net, x, y, 1, 0.1f, NULL), BP_ERROR_DIVERGED, NULL);
    CHECK(params_equal(net, huge, 2), "a diverged bp_train_step changed the parameters");
    bp_fit_options_init(&o);
    o.epochs = 3;
    o.batch_size = 1;
    EXPECT_ERR(bp_fit(net, x, y, 1, &o, NULL, 0, NULL), BP_ERROR_DIVERGED, NULL);
    CHECK(params_equal(net, huge, 2), "a diverged bp_fit changed the parameters");

    /* A step that overflows the parameters although the loss and gradients are finite
     * (loss 5e19, learning rate 1e30). Whatever status bp_update returns, the network must
     * stay one the header can represent: bp_set_parameters refuses non-finite values and a
     * model file with them is corrupt, while "a loaded network is bit-identical to the
     * saved one". */
    EXPECT_OK(bp_set_parameters(net, one, 2));
    EXPECT_OK(bp_forward(net, x, 1, NULL));
    EXPECT_OK(bp_backward(net, y, 1, &loss));
    CHECK(isfinite(loss), "premise: the loss should be finite, it is %g", (double)loss);
    s = bp_update(net, 1e30f);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_update(1e30) returned %s", status_name(s));
    p = GET_PARAMS(net, NULL);
    CHECK(all_finite(p, 2), "bp_update(1e30) returned %s and left parameters %g, %g", status_name(s), (double)p[0],
          (double)p[1]);
    free(p);
    round_trip = buffer_round_trip(net);
    CHECK(round_trip, "after bp_update(1e30), save + load fails: %s", last_error());

    EXPECT_OK(bp_set_parameters(net, one, 2));
    o.learning_rate = 1e30f;
    s = bp_fit(net, x, y, 1, &o, NULL, 0, NULL);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_fit with learning rate 1e30 returned %s", status_name(s));
    p = GET_PARAMS(net, NULL);
    CHECK(all_finite(p, 2), "bp_fit (learning rate 1e30) returned %s and left parameters %g, %g", status_name(s),
          (double)p[0], (double)p[1]);
    free(p);
    round_trip = buffer_round_trip(net);
    CHECK(round_trip, "after bp_fit with learning rate 1e30, save + load fails: %s", last_error());

    free(x);
    free(y);
    bp_destroy(net);
}
