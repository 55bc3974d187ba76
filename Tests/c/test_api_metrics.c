/*
 * test_api_metrics.c — bp_evaluate_metrics: a classifier's confusion matrix and accuracy
 * against counts made here from bp_predict's outputs, a regressor's mean absolute error,
 * root-mean-square error and R² against a double-precision reference from the same
 * outputs (weighted too), and the argument errors, after which nothing is written.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_api.h"

#define N 12

static int predicted_class(const float *row, size_t width)
{
    size_t best = 0;
    if (width == 1)
        return row[0] >= 0.5f;
    for (size_t j = 1; j < width; j++)
        if (row[j] > row[best])
            best = j;
    return (int)best;
}

static void check_classifier(void)
{
    static const net_desc d = {3, {2, 6, 3}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&d, 5);
    float x[N * 2], y[N * 3], out[N * 3], w[N], loss = 0, accuracy = 0;
    double confusion[9], want[9] = {0}, correct = 0, total = 0;
    bp_metrics m = {sizeof m, 0, 0, 0, 0, 0};
    if (net == NULL)
        return;
    for (size_t s = 0; s < N; s++) {
        x[2 * s] = (float)s / 4.0f - 1.5f;
        x[2 * s + 1] = (float)((s * 5) % 7) / 3.0f - 1.0f;
        for (size_t j = 0; j < 3; j++)
            y[3 * s + j] = j == s % 3 ? 1.0f : 0.0f;
        w[s] = (float)(s % 4);
    }
    EXPECT_OK(bp_predict(net, x, N, out));
    for (size_t s = 0; s < N; s++) {
        int actual = predicted_class(y + 3 * s, 3), predicted = predicted_class(out + 3 * s, 3);
        want[actual * 3 + predicted] += w[s];
        correct += actual == predicted ? w[s] : 0;
        total += w[s];
    }
    EXPECT_OK(bp_evaluate_metrics(net, x, y, w, N, &m, confusion, 9));
    CHECK(memcmp(confusion, want, sizeof want) == 0, "the weighted confusion matrix differs from the counts of bp_predict");
    EXPECT_OK(bp_evaluate_weighted(net, x, y, w, N, &loss, &accuracy));
    CHECK(m.loss == loss && m.accuracy == accuracy && fabs(accuracy - correct / total) < 1e-6,
          "metrics' loss/accuracy %g/%g, bp_evaluate_weighted's %g/%g", m.loss, m.accuracy, loss, accuracy);
    CHECK(isnan(m.mean_absolute_error) && isnan(m.root_mean_squared_error) && isnan(m.r2),
          "a classifier has regression metrics");
    EXPECT_OK(bp_evaluate_metrics(net, x, y, NULL, N, &m, NULL, 0)); /* no matrix asked for */
    EXPECT_ERR(bp_evaluate_metrics(net, x, y, NULL, N, &m, confusion, 4), BP_ERROR_SIZE_MISMATCH, "confusion_count");
    EXPECT_ERR(bp_evaluate_metrics(net, x, y, NULL, N, &m, confusion, 0), BP_ERROR_SIZE_MISMATCH, "confusion_count");
    EXPECT_OK(bp_evaluate_metrics(net, x, y, NULL, N, &m, NULL, SIZE_MAX)); /* the count of no matrix is not read */
    bp_destroy(net);
}

/* Whether two floats have the same bits (NaN accuracy equals itself). */
static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static void check_regressor(void)
{
    static const net_desc d = {3, {2, 5, 2}, {BP_RELU, BP_LINEAR}, BP_LOSS_HUBER};
    bp_network *net = CREATE_DESC(&d, 6);
    float x[N * 2], y[N * 2], out[N * 2], w[N];
    double absolute = 0, squared = 0, weight = 0, r2 = 0, confusion[4];
    bp_metrics m = {sizeof m, 0, 0, 0, 0, 0}, before;
    if (net == NULL)
        return;
    for (size_t s = 0; s < N; s++) {
        x[2 * s] = (float)s / 3.0f - 2.0f;
        x[2 * s + 1] = (float)((s * 3) % 5) - 2.0f;
        y[2 * s] = 100.0f + (float)s; /* far from 0: R² must not lose it to cancellation */
        y[2 * s + 1] = (float)((s * 7) % 4) / 2.0f;
        w[s] = 1.0f + (float)(s % 3);
    }
    EXPECT_OK(bp_predict(net, x, N, out));
    for (size_t j = 0; j < 2; j++) {
        double mean = 0, spread = 0, residual = 0, wsum = 0;
        for (size_t s = 0; s < N; s++) {
            mean += w[s] * y[2 * s + j];
            wsum += w[s];
        }
        mean /= wsum;
        for (size_t s = 0; s < N; s++) {
            double r = (double)out[2 * s + j] - y[2 * s + j];
            spread += w[s] * (y[2 * s + j] - mean) * (y[2 * s + j] - mean);
            residual += w[s] * r * r;
            absolute += w[s] * fabs(r);
            squared += w[s] * r * r;
        }
        weight += wsum;
        r2 += (1 - residual / spread) / 2;
    }
    EXPECT_OK(bp_evaluate_metrics(net, x, y, w, N, &m, NULL, 0));
    CHECK(fabs(m.mean_absolute_error - absolute / weight) <= 1e-6 * (absolute / weight), "MAE %.9g, reference %.9g",
          m.mean_absolute_error, absolute / weight);
    CHECK(fabs(m.root_mean_squared_error - sqrt(squared / weight)) <= 1e-6 * sqrt(squared / weight),
          "RMSE %.9g, reference %.9g", m.root_mean_squared_error, sqrt(squared / weight));
    CHECK(fabs(m.r2 - r2) <= 1e-6 * fabs(r2) + 1e-7, "R² %.9g, reference %.9g", m.r2, r2);
    CHECK(isnan(m.accuracy), "a regressor has an accuracy");
    before = m;
    EXPECT_ERR(bp_evaluate_metrics(net, x, y, w, N, &m, confusion, 4), BP_ERROR_INVALID_ARGUMENT, "confusion");
    m.struct_size = 8;
    EXPECT_ERR(bp_evaluate_metrics(net, x, y, w, N, &m, NULL, 0), BP_ERROR_INVALID_ARGUMENT, "struct_size");
    m.struct_size = sizeof m;
    EXPECT_ERR(bp_evaluate_metrics(net, x, y, w, N, NULL, NULL, 0), BP_ERROR_NULL_ARGUMENT, "metrics");
    EXPECT_ERR(bp_evaluate_metrics(net, x, y, w, 0, &m, NULL, 0), BP_ERROR_INVALID_ARGUMENT, "count");
    /* Field by field: the struct's tail padding is never written, so memcmp would read it uninitialised. */
    CHECK(m.struct_size == before.struct_size && same_bits(m.loss, before.loss) && same_bits(m.accuracy, before.accuracy)
              && same_bits(m.mean_absolute_error, before.mean_absolute_error)
              && same_bits(m.root_mean_squared_error, before.root_mean_squared_error) && same_bits(m.r2, before.r2),
          "a failed bp_evaluate_metrics wrote its metrics");
    bp_destroy(net);
}

void case_metrics(void)
{
    check_classifier();
    check_regressor();
}
