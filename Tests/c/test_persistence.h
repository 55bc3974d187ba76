/*
 * test_persistence.h — what the files of the test_persistence program share: the list of
 * its cases, and the helpers that cases in more than one topic file use (test networks,
 * parameters and model bytes of a live network, loading from an exact-size copy, temporary
 * directories, the offsets of docs/format.md, networks in a given gradient state).
 * test_persistence tests model files, hostile inputs, failing disks, divergence and
 * absurd sizes against include/backprop.h only; Tests/c/harness.h is the harness.
 *
 * The program is test_persistence_main.c (the suite table and main()) and one file per
 * topic, test_persistence_<topic>.c; each case is a function case_NAME() of a topic file,
 * run by name. Every file defines _GNU_SOURCE (RTLD_NEXT, mkdtemp) and includes this
 * header first; the helpers are static (and marked unused), like the harness's.
 */
#ifndef BACKPROP_TESTS_TEST_PERSISTENCE_H
#define BACKPROP_TESTS_TEST_PERSISTENCE_H

#if !defined(_GNU_SOURCE)
#error "define _GNU_SOURCE before including test_persistence.h (as every file of test_persistence does)"
#endif

#include <float.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/types.h>

/* test_persistence_faults.c defines write(), fsync() and rename() for the whole program,
 * so that a case can make the library's calls fail. The harness reports each check to the
 * parent with the real write(), never through them (a case may have armed them to fail):
 * report_write() is libc's write(); resolve_real() looks libc's functions up. */
ssize_t report_write(int fd, const void *buf, size_t count);
void resolve_real(void);
#define HARNESS_REPORT_WRITE(fd, buf, n) report_write((fd), (buf), (n))

#define HARNESS_MULTI_FILE /* one program of several files: see Tests/c/harness.h */
#include "harness.h"

/*-************************************************************************
 *  The cases, in the order they run, with the file that holds each group.
 *  X(name): the case "name" is the function case_name(void).
 **************************************************************************/
#define TEST_PERSISTENCE_CASES(X)                                                                              \
    /* test_persistence_round_trips.c */                                                                       \
    X(round_trip_buffer) X(round_trip_file) X(relative_and_odd_paths) X(pending_gradients)                     \
    X(round_trip_optimizers)                                                                                   \
    /* test_persistence_divergence.c */                                                                        \
    X(fit_checkpoint_and_divergence)                                                                           \
    /* test_persistence_round_trips.c */                                                                       \
    X(save_to_buffer)                                                                                          \
    /* test_persistence_malformed.c */                                                                         \
    X(load_arguments) X(load_magic) X(load_version) X(load_every_truncation) X(load_every_byte_flip)           \
    /* test_persistence_corrupt_fields.c */                                                                    \
    X(load_corrupt_fields) X(load_gradient_values) X(load_corrupt_optimizer) X(load_huge_declared_sizes)       \
    /* test_persistence_io_errors.c */                                                                         \
    X(load_io_errors) X(load_fifo)                                                                             \
    /* test_persistence_faults.c */                                                                            \
    X(interposition_works) X(atomic_save_faults) X(save_benign_syscalls) X(save_directory_fsync_fails)         \
    /* test_persistence_io_errors.c */                                                                         \
    X(save_io_errors)                                                                                          \
    /* test_persistence_divergence.c */                                                                        \
    X(diverged_overflowing_inputs) X(diverged_huge_learning_rate) X(diverged_softmax_extremes)                 \
    X(options_extreme_values)                                                                                  \
    /* test_persistence_sizes.c */                                                                             \
    X(absurd_create) X(absurd_create_rlimit) X(absurd_batches)

#define TEST_PERSISTENCE_DECLARE_CASE(name) void case_##name(void);
TEST_PERSISTENCE_CASES(TEST_PERSISTENCE_DECLARE_CASE)
#undef TEST_PERSISTENCE_DECLARE_CASE

/* EXPECT(call, status): the call returns that status (see expect_status_at in harness.h). */
#define EXPECT(call, want) expect_status_at((call), (want), NULL, __FILE__, __LINE__, #call)

/*-************************************************************************
 *  Networks and models
 **************************************************************************/
HARNESS_UNUSED static const net_desc NET_SIGMOID = {3, {4, 8, 3}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE};
HARNESS_UNUSED static const net_desc NET_SOFTMAX = {4, {5, 16, 12, 4}, {BP_TANH, BP_RELU, BP_SOFTMAX},
                                                    BP_LOSS_CROSS_ENTROPY};
HARNESS_UNUSED static const net_desc NET_MIXED = {5, {3, 40, 33, 20, 2},
                                                  {BP_LEAKY_RELU, BP_LINEAR, BP_TANH, BP_SIGMOID}, BP_LOSS_MSE};
HARNESS_UNUSED static const net_desc NET_LINEAR = {2, {2, 1}, {BP_LINEAR}, BP_LOSS_MSE};
/* Wide enough that a batch of 64 takes the packed GEMM path. */
HARNESS_UNUSED static const net_desc NET_WIDE = {3, {64, 96, 10}, {BP_RELU, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};

HARNESS_UNUSED static size_t in_size(const net_desc *d)
{
    return d->sizes[0];
}

/* Targets the loss accepts: one-hot rows for softmax + cross-entropy, [0,1] otherwise. */
HARNESS_UNUSED static float *make_targets(const net_desc *d, size_t batch)
{
    size_t n = desc_output_size(d);
    float *y = xmalloc(batch * n * sizeof *y);
    for (size_t s = 0; s < batch; s++) {
        size_t hot = (size_t)(rng_unit() * (double)n);
        for (size_t j = 0; j < n; j++)
            y[s * n + j] = d->acts[d->layers - 2] == BP_SOFTMAX ? (j == hot ? 1.0f : 0.0f) : (float)rng_unit();
    }
    return y;
}

HARNESS_UNUSED static float *get_params(const bp_network *net, size_t *count)
{
    size_t n = bp_parameter_count(net);
    float *p = xmalloc(n * sizeof *p);
    if (bp_get_parameters(net, p, n) != BP_OK)
        memset(p, 0xEE, n * sizeof *p);
    if (count != NULL)
        *count = n;
    return p;
}

HARNESS_UNUSED static int same_params(const bp_network *a, const bp_network *b)
{
    size_t na = 0, nb = 0;
    float *pa, *pb;
    int same;
    if (a == NULL || b == NULL)
        return 0;
    pa = get_params(a, &na);
    pb = get_params(b, &nb);
    same = na == nb && memcmp(pa, pb, na * sizeof *pa) == 0;
    free(pa);
    free(pb);
    return same;
}

HARNESS_UNUSED static int params_equal_to(const bp_network *net, const float *expected, size_t count)
{
    size_t n = 0;
    float *p = get_params(net, &n);
    int same = n == count && memcmp(p, expected, n * sizeof *p) == 0;
    free(p);
    return same;
}

/* The model's bytes (malloc'd), through bp_save_to_buffer(). */
HARNESS_UNUSED static unsigned char *model_bytes_at(const bp_network *net, size_t *size, const char *file, int line)
{
    size_t need = 0, written = 0;
    unsigned char *buf;
    expect_status_at(bp_save_to_buffer(net, NULL, 0, &need), BP_OK, NULL, file, line,
                     "bp_save_to_buffer(size query)");
    buf = xmalloc(need);
    expect_status_at(bp_save_to_buffer(net, buf, need, &written), BP_OK, NULL, file, line, "bp_save_to_buffer");
    check_at(written == need, file, line, "bp_save_to_buffer wrote %zu bytes; the size query said %zu", written, need);
    *size = need;
    return buf;
}
#define MODEL_BYTES(net, size) model_bytes_at((net), (size), __FILE__, __LINE__)

/* bp_load_from_buffer() from an exact-size heap copy (so a read past the end is caught by
 * the memory checkers); checks the documented failure behaviour. */
HARNESS_UNUSED static bp_status load_buffer(const unsigned char *bytes, size_t size, bp_network **out)
{
    unsigned char *copy = xmalloc(size);
    bp_network *net = (bp_network *)&g_rng; /* a non-NULL sentinel: must be replaced */
    bp_status s;
    if (size > 0)
        memcpy(copy, bytes, size);
    s = bp_load_from_buffer(copy, size, &net);
    free(copy);
    if (s != BP_OK) {
        const char *e = bp_last_error();
        CHECK(net == NULL, "bp_load_from_buffer failed (%s) but did not set *out to NULL", status_name(s));
        CHECK(e != NULL && e[0] != '\0', "bp_load_from_buffer failed (%s) with an empty bp_last_error()",
              status_name(s));
        net = NULL;
    }
    if (out != NULL)
        *out = net;
    else
        bp_destroy(net);
    return s;
}

HARNESS_UNUSED static int read_file(const char *path, unsigned char **bytes, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long n;
    if (f == NULL)
        return 0;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return 0;
    }
    *bytes = xmalloc((size_t)n);
    *size = (size_t)n;
    if (n > 0 && fread(*bytes, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(*bytes);
        return 0;
    }
    fclose(f);
    return 1;
}

/* A fresh directory under $TMPDIR (or /tmp); removed with remove_tree(). */
HARNESS_UNUSED static char *make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = xmalloc(PATH_MAX);
    snprintf(path, PATH_MAX, "%s/bp-persist-XXXXXX", base != NULL && base[0] != '\0' ? base : "/tmp");
    if (mkdtemp(path) == NULL) {
        printf("test harness: mkdtemp(%s) failed: %s\n", path, strerror(errno));
        exit(2);
    }
    return path;
}

HARNESS_UNUSED static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

HARNESS_UNUSED static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d != NULL) {
        while ((e = readdir(d)) != NULL) {
            char *p;
            struct stat st;
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            p = join(dir, e->d_name);
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p);
            else
                unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* Offsets of the fixed fields of docs/format.md for a model of `layers` layers. */
HARNESS_UNUSED static size_t off_sizes(void)
{
    return 20;
}
HARNESS_UNUSED static size_t off_acts(size_t layers)
{
    return 20 + 8 * layers;
}
HARNESS_UNUSED static size_t off_state(size_t layers)
{
    return 20 + 8 * layers + 4 * (layers - 1);
}
HARNESS_UNUSED static size_t off_count(size_t layers)
{
    return off_state(layers) + 4;
}
HARNESS_UNUSED static size_t off_params(size_t layers)
{
    return off_count(layers) + 8;
}

/* The optimizer section follows the parameters (and the gradients, when the gradient
 * state is not 0): u32 optimizer, u32 K, K x (u32 key, f64 value), u64 step, u32 S, S x P f32. */
HARNESS_UNUSED static size_t off_optimizer(const unsigned char *model, size_t layers, size_t pcount)
{
    uint32_t state = get_u32(model + off_state(layers));
    return off_params(layers) + 4 * pcount * (state != 0 ? 2 : 1);
}

/*-************************************************************************
 *  The magic, networks in a given gradient state, optimizers with every option set
 **************************************************************************/
HARNESS_UNUSED static const unsigned char MAGIC[8] = {0x89, 0x42, 0x50, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A};

typedef enum { STATE_FRESH, STATE_PENDING, STATE_APPLIED } grad_state;
HARNESS_UNUSED static const char *state_name(grad_state s)
{
    return s == STATE_FRESH ? "no gradients" : s == STATE_PENDING ? "gradients pending" : "gradients applied";
}

/* A network in the given gradient state, trained a few steps first. */
HARNESS_UNUSED static bp_network *trained(const net_desc *d, uint64_t seed, grad_state state)
{
    bp_network *net = CREATE_DESC(d, seed);
    size_t batch = 6;
    float *x = random_floats(batch * in_size(d), -1.0, 1.0), *y = make_targets(d, batch);
    if (net == NULL)
        return NULL;
    if (state != STATE_FRESH) {
        for (int i = 0; i < 3; i++)
            EXPECT_OK(bp_train_step(net, x, y, batch, 0.1f, NULL));
        EXPECT_OK(bp_forward(net, x, batch, NULL));
        EXPECT_OK(bp_backward(net, y, batch, NULL));
        if (state == STATE_APPLIED)
            EXPECT_OK(bp_update(net, 0.1f));
    }
    free(x);
    free(y);
    return net;
}

/* Every option of every optimizer, set to a non-default value. */
HARNESS_UNUSED static void set_optimizer(bp_network *net, int32_t optimizer)
{
    EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, optimizer));
    EXPECT_OK(bp_set_option(net, BP_OPTION_MOMENTUM, 0.8));
    EXPECT_OK(bp_set_option(net, BP_OPTION_BETA1, 0.85));
    EXPECT_OK(bp_set_option(net, BP_OPTION_BETA2, 0.99));
    EXPECT_OK(bp_set_option(net, BP_OPTION_EPSILON, 1e-7));
    EXPECT_OK(bp_set_option(net, BP_OPTION_WEIGHT_DECAY, 1e-3));
    EXPECT_OK(bp_set_option(net, BP_OPTION_CLIP_NORM, 5.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_INCREASE, 1.3));
    EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_DECREASE, 0.4));
    EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_MIN_STEP, 1e-5));
    EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_MAX_STEP, 20.0));
    EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, 0.05));
}

#endif /* BACKPROP_TESTS_TEST_PERSISTENCE_H */
