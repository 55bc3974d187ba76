/*
 * test_api_numerics.c — test_api cases on the numbers: forward outputs and the loss of
 * networks with every activation, MSE and both cross-entropies (softmax with MSE too),
 * against the double-precision reference model of test_api.h; gradients against central
 * finite differences of it; bp_update's rule p - lr * g; bp_forward on batches of any size
 * (rows independent, outputs may be NULL); softmax rows as probability vectors and the
 * stability of softmax and sigmoid cross-entropy with saturated outputs.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

/*-************************************************************************
 *  Cases: numerics against the reference model
 **************************************************************************/
static void describe(const net_desc *d, char *buf, size_t cap)
{
    static const char *names[] = {"sigmoid", "tanh", "relu", "leaky", "linear", "softmax", "gelu", "silu",
                                  "softplus", "elu"};
    static const char *losses[] = {"MSE", "CE", "Huber", "L1"};
    size_t used = 0;
    for (size_t l = 0; l < d->layers && used < cap; l++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%zu", l ? "-" : "", d->sizes[l]);
    for (size_t l = 0; l + 1 < d->layers && used < cap; l++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", l ? "/" : " ", names[d->acts[l]]);
    if (used < cap)
        snprintf(buf + used, cap - used, " %s", losses[d->loss]);
}

/* Forward outputs, loss and gradients of `d` against the reference; then bp_update. */
static void check_network_math(const net_desc *d, size_t batch, uint64_t data_seed)
{
    char label[128];
    bp_network *net = CREATE_DESC(d, data_seed);
    size_t P = desc_param_count(d), n_in = d->sizes[0], n_out = desc_output_size(d);
    float *pf, *x, *y, *out, *g, *g2, *after;
    double *pd, *ref = xmalloc(batch * n_out * sizeof *ref);
    double worst = 0.0, ref_loss;
    size_t worst_i = 0;
    float loss = -1.0f, loss2 = -2.0f;
    const float lr = 0.25f;
    const double h = 1e-5;

    describe(d, label, sizeof label);
    if (net == NULL) {
        free(ref);
        return;
    }
    CHECK(bp_parameter_count(net) == P, "%s: bp_parameter_count = %zu, expected %zu", label,
          bp_parameter_count(net), P);
    if (bp_parameter_count(net) != P) {
        bp_destroy(net);
        free(ref);
        return;
    }

    rng_seed(data_seed * 7919u + 1u);
    pf = alloc_floats(P, 0.0f);
    pd = xmalloc(P * sizeof *pd);
    for (size_t i = 0; i < P; i++) {
        pf[i] = rng_range(-1.0, 1.0);
        pd[i] = pf[i];
    }
    x = alloc_floats(batch * n_in, 0.0f);
    for (size_t i = 0; i < batch * n_in; i++)
        x[i] = rng_range(-1.0, 1.0);
    y = alloc_floats(batch * n_out, 0.0f);
    fill_targets(d, y, batch);
    out = alloc_floats(batch * n_out + 4, 999.0f);
    EXPECT_OK(bp_set_parameters(net, pf, P));

    /* Forward against the reference, and nothing written past the outputs. */
    EXPECT_OK(bp_forward(net, x, batch, out));
    for (size_t s = 0; s < batch; s++)
        ref_forward_sample(d, pd, x + s * n_in, ref + s * n_out);
    for (size_t i = 0; i < batch * n_out; i++) {
        double err = fabs((double)out[i] - ref[i]) / (1e-5 + 1e-4 * fabs(ref[i]));
        if (!(err <= worst)) {
            worst = err;
            worst_i = i;
        }
    }
    CHECK(worst <= 1.0, "%s: forward output[%zu] = %.9g, reference %.9g", label, worst_i, (double)out[worst_i],
          ref[worst_i]);
    CHECK(out[batch * n_out] == 999.0f && out[batch * n_out + 3] == 999.0f, "%s: bp_forward wrote past the outputs",
          label);

    /* Loss: mean over the batch of the header's C. */
    EXPECT_OK(bp_backward(net, y, batch, &loss));
    ref_loss = ref_mean_loss(d, pd, x, y, batch);
    CHECK(fabs((double)loss - ref_loss) <= 1e-5 + 1e-4 * fabs(ref_loss), "%s: loss %.9g, reference %.9g", label,
          (double)loss, ref_loss);

    /* Gradients against central differences of the reference loss. */
    g = alloc_floats(P + 4, 999.0f);
    EXPECT_OK(bp_get_gradients(net, g, P));
    CHECK(g[P] == 999.0f && g[P + 3] == 999.0f, "%s: bp_get_gradients wrote past count", label);
    worst = 0.0;
    worst_i = 0;
    {
        double worst_num = 0.0;
        for (size_t i = 0; i < P; i++) {
            double keep = pd[i], lp, lm, num, err;
            pd[i] = keep + h;
            lp = ref_mean_loss(d, pd, x, y, batch);
            pd[i] = keep - h;
            lm = ref_mean_loss(d, pd, x, y, batch);
            pd[i] = keep;
            num = (lp - lm) / (2.0 * h);
            err = fabs((double)g[i] - num) / (1e-4 + 1e-3 * fabs(num));
            if (!(err <= worst)) {
                worst = err;
                worst_i = i;
                worst_num = num;
            }
        }
        CHECK(worst <= 1.0, "%s: gradient[%zu] = %.9g, finite difference %.9g (of %zu)", label, worst_i,
              (double)g[worst_i], worst_num, P);
    }

    /* A second bp_backward on the same forward gives the same bits (nothing was consumed). */
    EXPECT_OK(bp_backward(net, y, batch, &loss2));
    g2 = alloc_floats(P, 0.0f);
    EXPECT_OK(bp_get_gradients(net, g2, P));
    CHECK(memcmp(&loss, &loss2, sizeof loss) == 0 && memcmp(g, g2, P * sizeof *g) == 0,
          "%s: a second bp_backward after one bp_forward gave different loss/gradients", label);

    /* bp_update: p - lr * g; the gradients stay available afterwards. */
    EXPECT_OK(bp_update(net, lr));
    after = GET_PARAMS(net, NULL);
    worst = 0.0;
    for (size_t i = 0; i < P; i++) {
        double expect = (double)pf[i] - (double)lr * (double)g[i];
        double err = fabs((double)after[i] - expect) / (1e-6 + 1e-6 * fabs(expect));
        if (!(err <= worst)) {
            worst = err;
            worst_i = i;
        }
    }
    CHECK(worst <= 1.0, "%s: after bp_update(%g) parameter[%zu] = %.9g, expected %.9g", label, (double)lr, worst_i,
          (double)after[worst_i], (double)pf[worst_i] - (double)lr * (double)g[worst_i]);
    memset(g2, 0, P * sizeof *g2);
    EXPECT_OK(bp_get_gradients(net, g2, P));
    CHECK(memcmp(g, g2, P * sizeof *g) == 0, "%s: gradients changed by bp_update", label);

    free(pf);
    free(pd);
    free(x);
    free(y);
    free(out);
    free(g);
    free(g2);
    free(after);
    free(ref);
    bp_destroy(net);
}

void case_numerics(void)
{
    static const net_desc nets[] = {
        {3, {2, 4, 1}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE},
        {2, {5, 3}, {BP_TANH}, BP_LOSS_MSE},
        {4, {3, 6, 5, 4}, {BP_TANH, BP_LEAKY_RELU, BP_LINEAR}, BP_LOSS_MSE},
        {4, {3, 6, 5, 4}, {BP_TANH, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY},
        {3, {4, 3, 2}, {BP_LINEAR, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY},
        {3, {3, 4, 3}, {BP_SIGMOID, BP_SOFTMAX}, BP_LOSS_MSE},
        {5, {2, 7, 6, 5, 2}, {BP_LEAKY_RELU, BP_SIGMOID, BP_RELU, BP_TANH}, BP_LOSS_MSE},
        {3, {6, 9, 5}, {BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY},
        {4, {3, 6, 5, 2}, {BP_SOFTPLUS, BP_ELU, BP_LINEAR}, BP_LOSS_HUBER},
        {3, {4, 5, 3}, {BP_ELU, BP_TANH}, BP_LOSS_L1},
        {3, {3, 4, 3}, {BP_SOFTPLUS, BP_SOFTMAX}, BP_LOSS_HUBER},
    };
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        check_network_math(&nets[i], 5, 100 + i);
        check_network_math(&nets[i], 1, 200 + i);
    }
}

void case_forward(void)
{
    const net_desc d = {3, {3, 5, 2}, {BP_TANH, BP_SIGMOID}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&d, 21);
    float *x, *y, *all, *one, *small;
    float loss_a = -1.0f, loss_b = -2.0f;
    double worst = 0.0;
    if (net == NULL)
        return;
    rng_seed(77);
    x = alloc_floats(7 * 3, 0.0f);
    for (size_t i = 0; i < 7 * 3; i++)
        x[i] = rng_range(-2.0, 2.0);
    y = alloc_floats(7 * 2, 0.5f);
    all = alloc_floats(7 * 2, 0.0f);
    one = alloc_floats(2, 0.0f);
    small = alloc_floats(2 * 2, 0.0f);

    /* Batches of different sizes, growing and shrinking; each row is independent of the others. */
    EXPECT_OK(bp_forward(net, x, 2, small));
    EXPECT_OK(bp_forward(net, x, 7, all));
    for (size_t s = 0; s < 7; s++) {
        EXPECT_OK(bp_forward(net, x + s * 3, 1, one));
        for (size_t j = 0; j < 2; j++) {
            double e = fabs((double)one[j] - (double)all[s * 2 + j]);
            if (e > worst)
                worst = e;
        }
    }
    CHECK(worst <= 1e-6, "a row of a batch of 7 differs from the same row alone by %g", worst);
    for (size_t i = 0; i < 4; i++)
        CHECK(small[i] == all[i] || fabs((double)small[i] - (double)all[i]) <= 1e-6,
              "batch 2 vs batch 7 output[%zu]: %g vs %g", i, (double)small[i], (double)all[i]);

    /* outputs may be NULL; the kept activations are the same either way. */
    EXPECT_OK(bp_forward(net, x, 7, NULL));
    EXPECT_OK(bp_backward(net, y, 7, &loss_a));
    EXPECT_OK(bp_forward(net, x, 7, all));
    EXPECT_OK(bp_backward(net, y, 7, &loss_b));
    CHECK(loss_a == loss_b, "loss after a forward with outputs NULL (%g) differs from with outputs (%g)",
          (double)loss_a, (double)loss_b);
    /* loss may be NULL. */
    EXPECT_OK(bp_backward(net, y, 7, NULL));
    /* A later, smaller forward replaces the kept batch. */
    EXPECT_OK(bp_forward(net, x, 2, NULL));
    EXPECT_OK(bp_backward(net, y, 2, NULL));
    EXPECT_ERR(bp_backward(net, y, 7, NULL), BP_ERROR_STATE, NULL);

    free(x);
    free(y);
    free(all);
    free(one);
    free(small);
    bp_destroy(net);
}

/*-************************************************************************
 *  Cases: softmax and cross-entropy
 **************************************************************************/
void case_softmax_cross_entropy(void)
{
    const net_desc d = {3, {3, 8, 4}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    const net_desc ds = {2, {2, 3}, {BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&d, 31), *sig = CREATE_DESC(&ds, 31);
    float *x = alloc_floats(6 * 3, 0.0f), *y = alloc_floats(6 * 4, 0.0f), *out = alloc_floats(6 * 4, 0.0f);
    float *p, *g, loss = -1.0f;
    size_t n = 0;
    int rows_ok = 1, range_ok = 1;
    double worst = 0.0;
    if (net == NULL || sig == NULL) {
        bp_destroy(net);
        bp_destroy(sig);
        free(x);
        free(y);
        free(out);
        return;
    }
    rng_seed(5);
    for (size_t i = 0; i < 18; i++)
        x[i] = rng_range(-3.0, 3.0);

    /* Rows of a softmax output are probability vectors. */
    EXPECT_OK(bp_forward(net, x, 6, out));
    for (size_t s = 0; s < 6; s++) {
        double sum = 0.0;
        for (size_t j = 0; j < 4; j++) {
            sum += out[s * 4 + j];
            if (!(out[s * 4 + j] >= 0.0f && out[s * 4 + j] <= 1.0f))
                range_ok = 0;
        }
        if (fabs(sum - 1.0) > worst)
            worst = fabs(sum - 1.0);
    }
    CHECK(worst <= 1e-5, "a softmax row sums to 1 %+g", worst);
    CHECK(range_ok, "a softmax output is outside [0, 1]");

    /* Huge logits: still finite probability vectors. */
    p = GET_PARAMS(net, &n);
    for (size_t i = 0; i < n; i++)
        p[i] *= 300.0f;
    EXPECT_OK(bp_set_parameters(net, p, n));
    EXPECT_OK(bp_forward(net, x, 6, out));
    worst = 0.0;
    for (size_t s = 0; s < 6; s++) {
        double sum = 0.0;
        for (size_t j = 0; j < 4; j++) {
            if (!isfinite(out[s * 4 + j]))
                rows_ok = 0;
            sum += out[s * 4 + j];
        }
        if (fabs(sum - 1.0) > worst)
            worst = fabs(sum - 1.0);
    }
    CHECK(rows_ok && worst <= 1e-5, "softmax with logits in the thousands: finite %d, sum off by %g", rows_ok, worst);

    /* Saturated softmax: output weights 0, biases {+200, -200, -200, -200}, so a = (1, 0, 0, 0)
     * in float. With the target class 0 the true loss is ~1e-174: it must come out ~0, not NaN
     * (0 * ln 0) or inf; with class 1 the gradients must stay finite (delta = a - y). */
    for (size_t i = 8 * 3 + 8; i < n; i++) /* layer 2: W (4 x 8), then b (4) */
        p[i] = 0.0f;
    p[n - 4] = 200.0f;
    p[n - 3] = p[n - 2] = p[n - 1] = -200.0f;
    EXPECT_OK(bp_set_parameters(net, p, n));
    for (size_t s = 0; s < 6; s++)
        for (size_t j = 0; j < 4; j++)
            y[s * 4 + j] = j == 0 ? 1.0f : 0.0f;
    EXPECT_OK(bp_forward(net, x, 6, out));
    EXPECT_OK(bp_backward(net, y, 6, &loss));
    CHECK(isfinite(loss) && loss >= 0.0f && loss <= 1e-6f, "saturated softmax, right class: loss %g, expected ~0",
          (double)loss);
    g = GET_GRADS(net);
    CHECK(all_finite(g, n), "saturated softmax, right class: non-finite gradients");
    free(g);
    for (size_t s = 0; s < 6; s++)
        for (size_t j = 0; j < 4; j++)
            y[s * 4 + j] = j == 1 ? 1.0f : 0.0f;
    EXPECT_OK(bp_backward(net, y, 6, &loss));
    /* The true loss is ~400; a clamped log gives less, which the header allows. */
    CHECK(!isnan(loss) && loss > 10.0f, "saturated softmax, wrong class: loss %g, expected large (~400)",
          (double)loss);
    g = GET_GRADS(net);
    CHECK(all_finite(g, n), "saturated softmax, wrong class: non-finite gradients");
    free(g);
    free(p);

    /* Saturated sigmoid cross-entropy: a = (1, ~2e-22, 1) with targets (1, 0, 1): loss ~0. */
    {
        float ps[2 * 3 + 3] = {0, 0, 0, 0, 0, 0, 50.0f, -50.0f, 50.0f};
        float ys[2 * 3] = {1, 0, 1, 1, 0, 1};
        float *pp = dup_floats(ps, 9), *yy = dup_floats(ys, 6), *gg;
        EXPECT_OK(bp_set_parameters(sig, pp, 9));
        EXPECT_OK(bp_forward(sig, x, 2, NULL));
        EXPECT_OK(bp_backward(sig, yy, 2, &loss));
        CHECK(isfinite(loss) && loss >= 0.0f && loss <= 1e-6f, "saturated sigmoid CE: loss %g, expected ~0",
              (double)loss);
        gg = GET_GRADS(sig);
        CHECK(all_finite(gg, 9), "saturated sigmoid CE: non-finite gradients");
        free(gg);
        free(pp);
        free(yy);
    }

    free(x);
    free(y);
    free(out);
    bp_destroy(net);
    bp_destroy(sig);
}
