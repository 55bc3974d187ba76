/*
 * test_api_initialize.c — bp_initialize(): every BP_INIT_* scheme against a reference drawn
 * here from the header's description alone (SplitMix64, the uniform and polar-method
 * draws, each scheme's range), BP_INIT_HE_GLOROT_UNIFORM against bp_create(), training
 * starting over, and the argument errors.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_api.h"

/*-************************************************************************
 *  A reference of the draws, from the header's description
 **************************************************************************/
typedef struct {
    uint64_t state;
} ref_splitmix64;

static uint64_t ref_next(ref_splitmix64 *g)
{
    uint64_t z = (g->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double ref_unit(ref_splitmix64 *g)
{
    return (double)(ref_next(g) >> 11) * 0x1p-53;
}

/* Marsaglia's polar method, one normal per accepted pair, with libm's log. */
static double ref_gaussian(ref_splitmix64 *g)
{
    for (;;) {
        double u = 2.0 * ref_unit(g) - 1.0, v = 2.0 * ref_unit(g) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0)
            return u * sqrt(-2.0 * log(s) / s);
    }
}

/* The scheme's distribution for one layer: uniform half-width or normal deviation. */
static int ref_draw(int32_t scheme, size_t fan_in, size_t fan_out, int32_t act, double *scale, int *normal,
                    int *biases)
{
    double in = (double)fan_in, sum = (double)(fan_in + fan_out);
    int rectifier = act == BP_RELU || act == BP_LEAKY_RELU || act == BP_GELU || act == BP_SILU || act == BP_SOFTPLUS ||
                    act == BP_ELU;
    *normal = scheme == BP_INIT_HE_NORMAL || scheme == BP_INIT_GLOROT_NORMAL || scheme == BP_INIT_LECUN_NORMAL;
    *biases = scheme == BP_INIT_PYTORCH || scheme == BP_INIT_SKLEARN;
    switch (scheme) {
    case BP_INIT_HE_GLOROT_UNIFORM: *scale = sqrt(6.0 / (rectifier ? in : sum)); return 1;
    case BP_INIT_HE_UNIFORM: *scale = sqrt(6.0 / in); return 1;
    case BP_INIT_HE_NORMAL: *scale = sqrt(2.0 / in); return 1;
    case BP_INIT_GLOROT_UNIFORM: *scale = sqrt(6.0 / sum); return 1;
    case BP_INIT_GLOROT_NORMAL: *scale = sqrt(2.0 / sum); return 1;
    case BP_INIT_LECUN_NORMAL: *scale = sqrt(1.0 / in); return 1;
    case BP_INIT_PYTORCH: *scale = 1.0 / sqrt(in); return 1;
    case BP_INIT_SKLEARN: *scale = sqrt((act == BP_SIGMOID ? 2.0 : 6.0) / sum); return 1;
    default: return 0;
    }
}

static float ref_value(ref_splitmix64 *g, double scale, int normal)
{
    return normal ? (float)(ref_gaussian(g) * scale) : (float)((2.0 * ref_unit(g) - 1.0) * scale);
}

/* θ in the flat layout as `scheme` draws it from `seed`: W^l row-major, then b^l. */
static void ref_parameters(const net_desc *d, int32_t scheme, uint64_t seed, float *out)
{
    ref_splitmix64 g = {seed};
    size_t off = 0;
    for (size_t l = 1; l < d->layers; l++) {
        size_t n_in = d->sizes[l - 1], n_out = d->sizes[l];
        double scale = 0.0;
        int normal = 0, biases = 0;
        ref_draw(scheme, n_in, n_out, d->acts[l - 1], &scale, &normal, &biases);
        for (size_t i = 0; i < n_out * n_in; i++)
            out[off++] = ref_value(&g, scale, normal);
        for (size_t j = 0; j < n_out; j++)
            out[off++] = biases ? ref_value(&g, scale, normal) : 0.0f;
    }
}

/* The distance in units in the last place between two finite floats of the same sign. */
static uint32_t ulps_apart(float a, float b)
{
    uint32_t ua, ub;
    memcpy(&ua, &a, sizeof ua);
    memcpy(&ub, &b, sizeof ub);
    if ((ua ^ ub) >> 31)
        return a == b ? 0u : UINT32_MAX;
    return ua > ub ? ua - ub : ub - ua;
}

/*-************************************************************************
 *  The case
 **************************************************************************/
#define INIT_SCHEME_COUNT 8 /* BP_INIT_* are 0..7 */

/* Every layer kind the schemes tell apart: rectifier, sigmoid (sklearn's gain), others. */
static const net_desc INIT_NET = {4, {7, 6, 5, 3}, {BP_RELU, BP_SIGMOID, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};

static void check_every_scheme_matches_the_reference(void)
{
    size_t n = desc_param_count(&INIT_NET);
    float *want = alloc_floats(n, 0.0f);
    bp_network *net = CREATE_DESC(&INIT_NET, 1);
    if (net == NULL) {
        free(want);
        return;
    }
    for (int32_t scheme = 0; scheme < INIT_SCHEME_COUNT; scheme++) {
        for (uint64_t seed = 0; seed < 3; seed++) {
            float *got;
            uint32_t worst = 0;
            EXPECT_OK(bp_initialize(net, scheme, seed));
            got = GET_PARAMS(net, NULL);
            ref_parameters(&INIT_NET, scheme, seed, want);
            for (size_t i = 0; i < n; i++) {
                uint32_t apart = ulps_apart(got[i], want[i]);
                worst = apart > worst ? apart : worst;
            }
            /* Uniform draws use no libm: exact. Normal ones: libm's log may differ by an ulp. */
            CHECK(worst <= 1u, "scheme %d seed %llu: a parameter is %u ulps from the reference", (int)scheme,
                  (unsigned long long)seed, (unsigned)worst);
            free(got);
        }
    }
    bp_destroy(net);
    free(want);
}

static void check_default_scheme_is_bp_create(void)
{
    bp_network *created = CREATE_DESC(&INIT_NET, 42), *other = CREATE_DESC(&INIT_NET, 7);
    size_t n = 0;
    float *want;
    if (created == NULL || other == NULL) {
        bp_destroy(created);
        bp_destroy(other);
        return;
    }
    want = GET_PARAMS(created, &n);
    EXPECT_OK(bp_initialize(other, BP_INIT_HE_GLOROT_UNIFORM, 42));
    CHECK(params_equal(other, want, n), "BP_INIT_HE_GLOROT_UNIFORM from seed 42 differs from bp_create(seed 42)");
    free(want);
    bp_destroy(created);
    bp_destroy(other);
}

static void check_pytorch_bounds_and_normal_spread(void)
{
    static const net_desc wide = {3, {400, 300, 10}, {BP_RELU, BP_LINEAR}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&wide, 3);
    size_t weights = 300 * 400;
    double sum = 0.0, squares = 0.0, bound = 1.0 / sqrt(400.0);
    float *p;
    int nonzero_bias = 0, inside = 1;
    if (net == NULL)
        return;
    EXPECT_OK(bp_initialize(net, BP_INIT_PYTORCH, 3));
    p = GET_PARAMS(net, NULL);
    for (size_t i = 0; i < weights + 300; i++)
        inside &= fabs((double)p[i]) <= bound;
    for (size_t j = 0; j < 300; j++)
        nonzero_bias |= p[weights + j] != 0.0f;
    CHECK(inside, "a BP_INIT_PYTORCH parameter of layer 1 lies outside ±1/sqrt(400)");
    CHECK(nonzero_bias, "BP_INIT_PYTORCH left the biases 0");
    free(p);

    EXPECT_OK(bp_initialize(net, BP_INIT_HE_NORMAL, 3));
    p = GET_PARAMS(net, NULL);
    for (size_t i = 0; i < weights; i++) {
        sum += p[i];
        squares += (double)p[i] * p[i];
    }
    /* N(0, 2/400): over 120,000 draws the sample variance is within 2% of it. */
    CHECK(fabs(sum / (double)weights) < 0.002, "BP_INIT_HE_NORMAL mean %g", sum / (double)weights);
    CHECK(fabs(squares / (double)weights / (2.0 / 400.0) - 1.0) < 0.02, "BP_INIT_HE_NORMAL variance %g, want %g",
          squares / (double)weights, 2.0 / 400.0);
    CHECK(p[weights] == 0.0f && p[weights + 299] == 0.0f, "BP_INIT_HE_NORMAL drew biases");
    free(p);
    bp_destroy(net);
}

/* Adam steps on a trained network after bp_initialize equal those of a fresh one. */
static void check_training_starts_over(void)
{
    bp_network *used = CREATE_DESC(&XOR_NET, 5), *fresh = CREATE_DESC(&XOR_NET, 9);
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), loss = 0.0f, *g = alloc_floats(17, 0.0f), *want;
    if (used == NULL || fresh == NULL)
        goto done;
    EXPECT_OK(bp_set_option(used, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
    EXPECT_OK(bp_set_option(fresh, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
    for (int i = 0; i < 30; i++)
        EXPECT_OK(bp_train_step(used, x, y, 4, 0.05f, &loss));
    EXPECT_OK(bp_forward(used, x, 4, NULL));
    EXPECT_OK(bp_backward(used, y, 4, NULL));

    EXPECT_OK(bp_initialize(used, BP_INIT_SKLEARN, 11));
    EXPECT_ERR(bp_get_gradients(used, g, 17), BP_ERROR_STATE, NULL);
    EXPECT_ERR(bp_backward(used, y, 4, NULL), BP_ERROR_STATE, NULL);
    CHECK(GET_OPTION(used, BP_OPTION_OPTIMIZER) == BP_OPTIMIZER_ADAM, "bp_initialize changed the optimizer");

    EXPECT_OK(bp_initialize(fresh, BP_INIT_SKLEARN, 11));
    for (int i = 0; i < 30; i++) {
        EXPECT_OK(bp_train_step(used, x, y, 4, 0.05f, &loss));
        EXPECT_OK(bp_train_step(fresh, x, y, 4, 0.05f, &loss));
    }
    want = GET_PARAMS(fresh, NULL);
    CHECK(params_equal(used, want, 17), "training after bp_initialize kept state from before it (Adam's moments)");
    free(want);
done:
    bp_destroy(used);
    bp_destroy(fresh);
    free(x);
    free(y);
    free(g);
}

static void check_errors_change_nothing(void)
{
    bp_network *net = CREATE_DESC(&XOR_NET, 5);
    size_t n = 0;
    float *before;
    if (net == NULL)
        return;
    before = GET_PARAMS(net, &n);
    EXPECT_ERR(bp_initialize(NULL, BP_INIT_PYTORCH, 1), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_initialize(net, -1, 1), BP_ERROR_UNKNOWN_ENUM, "scheme");
    EXPECT_ERR(bp_initialize(net, INIT_SCHEME_COUNT, 1), BP_ERROR_UNKNOWN_ENUM, "scheme");
    EXPECT_ERR(bp_initialize(net, INT32_MIN, 1), BP_ERROR_UNKNOWN_ENUM, "scheme");
    CHECK(params_equal(net, before, n), "a refused bp_initialize changed the parameters");
    EXPECT_OK(bp_initialize(net, BP_INIT_RECOMMENDED, 1)); /* an alias of a scheme, usable as one */
    free(before);
    bp_destroy(net);
}

void case_initialize(void)
{
    check_every_scheme_matches_the_reference();
    check_default_scheme_is_bp_create();
    check_pytorch_bounds_and_normal_spread();
    check_training_starts_over();
    check_errors_change_nothing();
}
