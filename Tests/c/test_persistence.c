/*
 * test_persistence.c — "nothing lost, nothing crashes": model files, hostile inputs,
 * failing disks, divergence and absurd sizes, against include/backprop.h only.
 *
 *  - Round trips through files (in a mkdtemp directory) and buffers are bit-identical:
 *    parameters, pending gradients, forward outputs, 20 further training steps, and
 *    bp_update() of gradients that were pending when the model was saved.
 *  - bp_save_to_buffer() size query and BP_ERROR_BUFFER_TOO_SMALL.
 *  - Every load error of docs/format.md: every truncation length, every single-byte
 *    corruption, fields made impossible under a recomputed (valid) CRC-32, and the I/O
 *    errors of bp_load().
 *  - Atomic saves: this executable defines write(), fsync() and rename(), which take the
 *    place of libc's for the library's calls (they forward to libc through
 *    dlsym(RTLD_NEXT) unless a failure is armed). The test first checks that the library's
 *    calls really arrive here; then a save that fails half-way (ENOSPC after a short
 *    write, EIO from fsync, a failing rename) must leave the previous file intact and no
 *    temporary file behind.
 *  - Divergence (BP_ERROR_DIVERGED, parameters unchanged) and sizes beyond the machine's
 *    memory (BP_ERROR_OUT_OF_MEMORY, never a crash or an OOM kill).
 *
 * Each case runs in a child process (fork), so a crash is a failed case and the other
 * cases still run. BP_TEST_NO_FORK=1 runs everything in one process (for a debugger).
 *
 * Build (scripts/test-reliability does this):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/c/test_persistence.c \
 *      -L.build/release -lbackprop -Wl,-rpath,<lib dir> -ldl -lm
 *
 * Output: "FAIL file:line [case]: message" per failed check, one line per case, and
 * finally "N passed, M failed". Exit status 0 only if M is 0.
 */
#define _GNU_SOURCE /* RTLD_NEXT, mkdtemp */

#include <dlfcn.h>
#include <fcntl.h>
#include <float.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The harness reports each check to the parent with the real write(), never through the
 * interposer below (which a case may have armed to fail). */
static ssize_t report_write(int fd, const void *buf, size_t count);
#define HARNESS_REPORT_WRITE(fd, buf, n) report_write((fd), (buf), (n))
#include "harness.h"

/*-************************************************************************
 *  Interposed system calls
 *
 *  An executable's definitions of write/fsync/rename come first in the global symbol
 *  lookup, so the library's calls through its PLT land here.
 **************************************************************************/
typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef int (*fsync_fn)(int);
typedef int (*rename_fn)(const char *, const char *);

static write_fn g_real_write;
static fsync_fn g_real_fsync;
static rename_fn g_real_rename;

enum write_mode { WRITE_REAL, WRITE_ENOSPC_AFTER_HALF, WRITE_EIO, WRITE_SHORT, WRITE_EINTR_ONCE };
enum fsync_mode { FSYNC_REAL, FSYNC_EIO_ALL, FSYNC_EIO_DIRECTORY };
enum rename_mode { RENAME_REAL, RENAME_EIO };

static enum write_mode g_write_mode;
static enum fsync_mode g_fsync_mode;
static enum rename_mode g_rename_mode;
static int g_write_half_done;
static long g_write_calls, g_write_failures, g_fsync_calls, g_fsync_failures, g_rename_calls;

static void *next_symbol(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    if (p == NULL) {
        static const char msg[] = "test_persistence: dlsym(RTLD_NEXT) failed\n";
        /* No write() of ours yet: use the raw system call's libc wrapper name. */
        fputs(msg, stderr);
        abort();
    }
    return p;
}

static void resolve_real(void)
{
    if (g_real_write == NULL) {
        void *p = next_symbol("write");
        memcpy(&g_real_write, &p, sizeof p); /* object -> function pointer, the POSIX way */
    }
    if (g_real_fsync == NULL) {
        void *p = next_symbol("fsync");
        memcpy(&g_real_fsync, &p, sizeof p);
    }
    if (g_real_rename == NULL) {
        void *p = next_symbol("rename");
        memcpy(&g_real_rename, &p, sizeof p);
    }
}

ssize_t write(int fd, const void *buf, size_t count)
{
    resolve_real();
    g_write_calls++;
    switch (g_write_mode) {
    case WRITE_REAL:
        break;
    case WRITE_ENOSPC_AFTER_HALF:
        /* The disk fills up: the first call writes half of what was asked, later calls fail. */
        if (!g_write_half_done && count > 1) {
            g_write_half_done = 1;
            return g_real_write(fd, buf, count / 2);
        }
        g_write_failures++;
        errno = ENOSPC;
        return -1;
    case WRITE_EIO:
        g_write_failures++;
        errno = EIO;
        return -1;
    case WRITE_SHORT: /* legal short writes: at most 7 bytes per call */
        return g_real_write(fd, buf, count < 7 ? count : 7);
    case WRITE_EINTR_ONCE:
        if (!g_write_half_done) {
            g_write_half_done = 1;
            errno = EINTR;
            return -1;
        }
        break;
    }
    return g_real_write(fd, buf, count);
}

int fsync(int fd)
{
    struct stat st;
    resolve_real();
    g_fsync_calls++;
    if (g_fsync_mode == FSYNC_EIO_ALL ||
        (g_fsync_mode == FSYNC_EIO_DIRECTORY && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))) {
        g_fsync_failures++;
        errno = EIO;
        return -1;
    }
    return g_real_fsync(fd);
}

int rename(const char *from, const char *to)
{
    resolve_real();
    g_rename_calls++;
    if (g_rename_mode == RENAME_EIO) {
        errno = EIO;
        return -1;
    }
    return g_real_rename(from, to);
}

static void disarm(void)
{
    g_write_mode = WRITE_REAL;
    g_fsync_mode = FSYNC_REAL;
    g_rename_mode = RENAME_REAL;
    g_write_half_done = 0;
}

static ssize_t report_write(int fd, const void *buf, size_t count)
{
    resolve_real();
    return g_real_write(fd, buf, count);
}

/* EXPECT(call, status): the call returns that status (see expect_status_at in harness.h). */
#define EXPECT(call, want) expect_status_at((call), (want), NULL, __FILE__, __LINE__, #call)

/*-************************************************************************
 *  Networks and models
 **************************************************************************/
static const net_desc NET_SIGMOID = {3, {4, 8, 3}, {BP_SIGMOID, BP_SIGMOID}, BP_LOSS_MSE};
static const net_desc NET_SOFTMAX = {4, {5, 16, 12, 4}, {BP_TANH, BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
static const net_desc NET_MIXED = {5, {3, 40, 33, 20, 2}, {BP_LEAKY_RELU, BP_LINEAR, BP_TANH, BP_SIGMOID}, BP_LOSS_MSE};
static const net_desc NET_LINEAR = {2, {2, 1}, {BP_LINEAR}, BP_LOSS_MSE};
/* Wide enough that a batch of 64 takes the packed GEMM path. */
static const net_desc NET_WIDE = {3, {64, 96, 10}, {BP_RELU, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY};

static size_t in_size(const net_desc *d)
{
    return d->sizes[0];
}

/* Targets the loss accepts: one-hot rows for softmax + cross-entropy, [0,1] otherwise. */
static float *make_targets(const net_desc *d, size_t batch)
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

static float *get_params(const bp_network *net, size_t *count)
{
    size_t n = bp_parameter_count(net);
    float *p = xmalloc(n * sizeof *p);
    if (bp_get_parameters(net, p, n) != BP_OK)
        memset(p, 0xEE, n * sizeof *p);
    if (count != NULL)
        *count = n;
    return p;
}

static int same_params(const bp_network *a, const bp_network *b)
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

static int params_equal_to(const bp_network *net, const float *expected, size_t count)
{
    size_t n = 0;
    float *p = get_params(net, &n);
    int same = n == count && memcmp(p, expected, n * sizeof *p) == 0;
    free(p);
    return same;
}

/* The model's bytes (malloc'd), through bp_save_to_buffer(). */
static unsigned char *model_bytes_at(const bp_network *net, size_t *size, const char *file, int line)
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
static bp_status load_buffer(const unsigned char *bytes, size_t size, bp_network **out)
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

static int read_file(const char *path, unsigned char **bytes, size_t *size)
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

static int write_file(const char *path, const void *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL)
        return 0;
    ok = fwrite(bytes, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

/* A fresh directory under $TMPDIR (or /tmp); removed with remove_tree(). */
static char *make_temp_dir(void)
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

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static void remove_tree(const char *dir)
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
static size_t off_sizes(void)
{
    return 20;
}
static size_t off_acts(size_t layers)
{
    return 20 + 8 * layers;
}
static size_t off_state(size_t layers)
{
    return 20 + 8 * layers + 4 * (layers - 1);
}
static size_t off_count(size_t layers)
{
    return off_state(layers) + 4;
}
static size_t off_params(size_t layers)
{
    return off_count(layers) + 8;
}

/* The optimizer section follows the parameters (and the gradients, when the gradient
 * state is not 0): u32 optimizer, u32 K, K x (u32 key, f64 value), u64 step, u32 S, S x P f32. */
static size_t off_optimizer(const unsigned char *model, size_t layers, size_t pcount)
{
    uint32_t state = get_u32(model + off_state(layers));
    return off_params(layers) + 4 * pcount * (state != 0 ? 2 : 1);
}

/*-************************************************************************
 *  Cases: round trips
 **************************************************************************/

/* Checks that `b` is `a` bit for bit: parameters, gradients (or the lack of them), forward
 * outputs, the re-saved bytes, and 20 more identical training steps. Destroys neither. */
static void check_identical(bp_network *a, bp_network *b, const net_desc *d, const char *how)
{
    size_t n = bp_parameter_count(a), batch = 9;
    float *ga = xmalloc(n * sizeof *ga), *gb = xmalloc(n * sizeof *gb);
    float *x, *y, *oa, *ob;
    bp_status sa, sb;
    unsigned char *ba, *bb;
    size_t za = 0, zb = 0;

    CHECK(b != NULL, "%s: no network", how);
    if (b == NULL) {
        free(ga);
        free(gb);
        return;
    }
    CHECK(bp_layer_count(b) == d->layers && bp_parameter_count(b) == n, "%s: the architecture differs", how);
    for (size_t l = 0; l < d->layers; l++)
        CHECK(bp_layer_size(b, l) == d->sizes[l], "%s: layer %zu has %zu units, expected %zu", how, l,
              bp_layer_size(b, l), d->sizes[l]);
    for (size_t l = 1; l < d->layers; l++)
        CHECK(bp_layer_activation(b, l) == d->acts[l - 1], "%s: layer %zu has activation %d, expected %d", how, l,
              (int)bp_layer_activation(b, l), (int)d->acts[l - 1]);
    CHECK(bp_loss_function(b) == d->loss, "%s: loss %d, expected %d", how, (int)bp_loss_function(b), (int)d->loss);
    CHECK(same_params(a, b), "%s: the parameters differ", how);

    sa = bp_get_gradients(a, ga, n);
    sb = bp_get_gradients(b, gb, n);
    CHECK(sa == sb, "%s: bp_get_gradients returns %s on the original, %s on the copy", how, status_name(sa),
          status_name(sb));
    if (sa == BP_OK && sb == BP_OK)
        CHECK(memcmp(ga, gb, n * sizeof *ga) == 0, "%s: the gradients differ", how);

    ba = MODEL_BYTES(a, &za);
    bb = MODEL_BYTES(b, &zb);
    CHECK(za == zb && memcmp(ba, bb, za) == 0, "%s: the copy saves to different bytes (%zu vs %zu bytes)", how, za,
          zb);
    free(ba);
    free(bb);

    /* Predictions (which leave the training state alone) must match. */
    x = random_floats(batch * in_size(d), -2.0, 2.0);
    oa = xmalloc(batch * desc_output_size(d) * sizeof *oa);
    ob = xmalloc(batch * desc_output_size(d) * sizeof *ob);
    EXPECT_OK(bp_predict(a, x, batch, oa));
    EXPECT_OK(bp_predict(b, x, batch, ob));
    CHECK(memcmp(oa, ob, batch * desc_output_size(d) * sizeof *oa) == 0, "%s: bp_predict outputs differ", how);

    /* Continued training: 20 steps with the same data must stay bit-identical. */
    free(x);
    x = random_floats(batch * in_size(d), -2.0, 2.0);
    y = make_targets(d, batch);
    for (int step = 0; step < 20; step++) {
        float la = -1.0f, lb = -2.0f;
        sa = bp_train_step(a, x, y, batch, 0.05f, &la);
        sb = bp_train_step(b, x, y, batch, 0.05f, &lb);
        CHECK(sa == BP_OK && sb == BP_OK, "%s: step %d: bp_train_step returned %s and %s", how, step,
              status_name(sa), status_name(sb));
        CHECK(memcmp(&la, &lb, sizeof la) == 0, "%s: step %d: losses differ (%.9g vs %.9g)", how, step, la, lb);
        if (step == 0 || step == 19)
            CHECK(same_params(a, b), "%s: parameters differ after %d further training steps", how, step + 1);
    }
    /* Forward outputs after training. */
    EXPECT_OK(bp_forward(a, x, batch, oa));
    EXPECT_OK(bp_forward(b, x, batch, ob));
    CHECK(memcmp(oa, ob, batch * desc_output_size(d) * sizeof *oa) == 0, "%s: bp_forward outputs differ", how);
    free(x);
    free(y);
    free(oa);
    free(ob);
    free(ga);
    free(gb);
}

typedef enum { STATE_FRESH, STATE_PENDING, STATE_APPLIED } grad_state;
static const char *state_name(grad_state s)
{
    return s == STATE_FRESH ? "no gradients" : s == STATE_PENDING ? "gradients pending" : "gradients applied";
}

/* A network in the given gradient state, trained a few steps first. */
static bp_network *trained(const net_desc *d, uint64_t seed, grad_state state)
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

static void case_round_trip_buffer(void)
{
    const net_desc *descs[] = {&NET_SIGMOID, &NET_SOFTMAX, &NET_MIXED, &NET_LINEAR, &NET_WIDE};
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
        for (int st = STATE_FRESH; st <= STATE_APPLIED; st++) {
            char how[96];
            bp_network *a, *b = NULL;
            unsigned char *bytes;
            size_t size = 0;
            rng_seed(100 + i * 7 + (size_t)st);
            a = trained(descs[i], 42 + i, (grad_state)st);
            bytes = MODEL_BYTES(a, &size);
            snprintf(how, sizeof how, "buffer, network %zu, %s", i, state_name((grad_state)st));
            EXPECT_OK(load_buffer(bytes, size, &b));
            check_identical(a, b, descs[i], how);
            free(bytes);
            bp_destroy(a);
            bp_destroy(b);
        }
    }
}

static void case_round_trip_file(void)
{
    char *dir = make_temp_dir();
    char *path = join(dir, "model.bpm");
    const net_desc *descs[] = {&NET_SIGMOID, &NET_SOFTMAX, &NET_MIXED, &NET_WIDE};
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
        for (int st = STATE_FRESH; st <= STATE_APPLIED; st++) {
            char how[96];
            bp_network *a, *b = (bp_network *)&g_rng;
            unsigned char *file = NULL, *buf;
            size_t fsize = 0, bsize = 0;
            char names[256];
            rng_seed(200 + i * 7 + (size_t)st);
            a = trained(descs[i], 7 + i, (grad_state)st);
            EXPECT_OK(bp_save(a, path));
            CHECK(read_file(path, &file, &fsize), "cannot read back %s", path);
            buf = MODEL_BYTES(a, &bsize);
            CHECK(file != NULL && fsize == bsize && memcmp(file, buf, bsize) == 0,
                  "the file holds other bytes than bp_save_to_buffer (%zu vs %zu bytes)", fsize, bsize);
            CHECK(list_dir(dir, names, sizeof names) == 1, "the directory holds \"%s\"; expected model.bpm only",
                  names);
            snprintf(how, sizeof how, "file, network %zu, %s", i, state_name((grad_state)st));
            EXPECT_OK(bp_load(path, &b));
            check_identical(a, b, descs[i], how);
            free(file);
            free(buf);
            bp_destroy(a);
            bp_destroy(b);
        }
    }
    /* Saving over an existing file replaces it. */
    {
        bp_network *a = CREATE_DESC(&NET_SIGMOID, 1), *c = CREATE_DESC(&NET_SOFTMAX, 2), *b = NULL;
        EXPECT_OK(bp_save(a, path));
        EXPECT_OK(bp_save(c, path));
        EXPECT_OK(bp_load(path, &b));
        CHECK(b != NULL && bp_layer_count(b) == NET_SOFTMAX.layers && same_params(b, c),
              "saving over an existing model did not replace it");
        bp_destroy(a);
        bp_destroy(b);
        bp_destroy(c);
    }
    free(path);
    remove_tree(dir);
    free(dir);
}

static void case_relative_and_odd_paths(void)
{
    char *dir = make_temp_dir();
    char cwd[PATH_MAX];
    bp_network *a = CREATE_DESC(&NET_SIGMOID, 3), *b = NULL;
    char names[512];
    CHECK(getcwd(cwd, sizeof cwd) != NULL, "getcwd");
    CHECK(chdir(dir) == 0, "chdir(%s)", dir);
    /* No directory part: the library must fsync "." */
    EXPECT_OK(bp_save(a, "plain.bpm"));
    EXPECT_OK(bp_load("plain.bpm", &b));
    CHECK(b != NULL && same_params(a, b), "a relative path round trip differs");
    bp_destroy(b);
    b = NULL;
    /* Spaces, UTF-8 and a leading dash. */
    EXPECT_OK(bp_save(a, "-odd name \xC3\xA9\xE2\x82\xAC.bpm"));
    EXPECT_OK(bp_load("./-odd name \xC3\xA9\xE2\x82\xAC.bpm", &b));
    CHECK(b != NULL && same_params(a, b), "an odd-name round trip differs");
    bp_destroy(b);
    b = NULL;
    CHECK(list_dir(".", names, sizeof names) == 2, "the directory holds \"%s\"; expected two models", names);
    CHECK(chdir(cwd) == 0, "chdir back");
    bp_destroy(a);
    remove_tree(dir);
    free(dir);
}

static void case_pending_gradients(void)
{
    /* Saved between bp_backward() and bp_update(): the copy applies the same update. */
    const net_desc *descs[] = {&NET_SIGMOID, &NET_SOFTMAX, &NET_WIDE};
    char *dir = make_temp_dir();
    char *path = join(dir, "pending.bpm");
    for (size_t i = 0; i < sizeof descs / sizeof descs[0]; i++) {
        const net_desc *d = descs[i];
        size_t batch = 64;
        float *x = random_floats(batch * in_size(d), -1.0, 1.0), *y = make_targets(d, batch);
        bp_network *a = CREATE_DESC(d, 99 + i), *b = NULL, *c = NULL;
        unsigned char *bytes;
        size_t size = 0;
        rng_seed(300 + i);
        EXPECT_OK(bp_train_step(a, x, y, batch, 0.2f, NULL));
        EXPECT_OK(bp_forward(a, x, batch, NULL));
        EXPECT_OK(bp_backward(a, y, batch, NULL));
        bytes = MODEL_BYTES(a, &size);
        EXPECT_OK(load_buffer(bytes, size, &b));
        EXPECT_OK(bp_save(a, path));
        EXPECT_OK(bp_load(path, &c));
        /* A loaded network has no kept activations: bp_backward needs a bp_forward first. */
        if (b != NULL)
            EXPECT(bp_backward(b, y, batch, NULL), BP_ERROR_STATE);
        EXPECT_OK(bp_update(a, 0.3f));
        EXPECT_OK(bp_update(b, 0.3f));
        EXPECT_OK(bp_update(c, 0.3f));
        CHECK(same_params(a, b), "network %zu: bp_update of the pending gradients differs after a buffer round trip",
              i);
        CHECK(same_params(a, c), "network %zu: bp_update of the pending gradients differs after a file round trip", i);
        /* Each gradient is applied once, on the copies too. */
        EXPECT(bp_update(b, 0.3f), BP_ERROR_STATE);
        /* A bp_forward() on the loaded copy keeps the pending gradients (the header). */
        bp_destroy(b);
        b = NULL;
        EXPECT_OK(load_buffer(bytes, size, &b));
        EXPECT_OK(bp_forward(b, x, 1, NULL));
        EXPECT_OK(bp_update(b, 0.3f));
        CHECK(same_params(a, b), "network %zu: a bp_forward() after loading discarded the pending gradients", i);
        free(bytes);
        free(x);
        free(y);
        bp_destroy(a);
        bp_destroy(b);
        bp_destroy(c);
    }
    free(path);
    remove_tree(dir);
    free(dir);
}

static void case_save_to_buffer(void)
{
    bp_network *net = CREATE_DESC(&NET_MIXED, 5);
    size_t need = 0, written = 0, again = 0;
    unsigned char *buf, *first;
    EXPECT_OK(bp_save_to_buffer(net, NULL, 0, &need));
    CHECK(need > 20, "the size query reported %zu bytes", need);
    EXPECT_OK(bp_save_to_buffer(net, NULL, 12345, &again));
    CHECK(again == need, "the size query with a NULL buffer and a capacity reported %zu, before %zu", again, need);
    buf = xmalloc(need + 64);
    first = MODEL_BYTES(net, &again);
    /* Too small, from 0 up to need - 1: BP_ERROR_BUFFER_TOO_SMALL, *written = the size, buffer untouched. */
    {
        size_t caps[] = {0, 1, 7, 8, 19, need / 2, need - 4, need - 1};
        for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
            memset(buf, 0x5A, need + 64);
            written = 0;
            EXPECT(bp_save_to_buffer(net, buf, caps[i], &written), BP_ERROR_BUFFER_TOO_SMALL);
            CHECK(written == need, "capacity %zu: *written = %zu, expected the required %zu", caps[i], written, need);
            {
                size_t touched = 0;
                for (size_t k = 0; k < need + 64; k++)
                    touched += buf[k] != 0x5A;
                CHECK(touched == 0, "capacity %zu: a failed save changed %zu bytes of the buffer", caps[i], touched);
            }
        }
    }
    /* Exact and larger capacities: exactly `need` bytes written, nothing past them. */
    memset(buf, 0x5A, need + 64);
    EXPECT_OK(bp_save_to_buffer(net, buf, need + 64, &written));
    CHECK(written == need, "*written = %zu for a larger buffer, expected %zu", written, need);
    CHECK(memcmp(buf, first, need) == 0, "two saves of the same network differ");
    {
        size_t touched = 0;
        for (size_t k = need; k < need + 64; k++)
            touched += buf[k] != 0x5A;
        CHECK(touched == 0, "bp_save_to_buffer wrote %zu bytes past the model", touched);
    }
    /* Arguments. */
    EXPECT(bp_save_to_buffer(NULL, buf, need, &written), BP_ERROR_NULL_ARGUMENT);
    EXPECT(bp_save_to_buffer(net, buf, need, NULL), BP_ERROR_NULL_ARGUMENT);
    EXPECT(bp_save_to_buffer(NULL, NULL, 0, &written), BP_ERROR_NULL_ARGUMENT);
    /* A capacity above SIZE_MAX/2 is not a buffer anybody has: no crash, no write past `need`. */
    {
        bp_status s = bp_save_to_buffer(net, buf, SIZE_MAX, &written);
        CHECK(s == BP_OK || s == BP_ERROR_SIZE_OVERFLOW || s == BP_ERROR_INVALID_ARGUMENT,
              "capacity SIZE_MAX: %s", status_name(s));
    }
    free(buf);
    free(first);
    bp_destroy(net);
}

/*-************************************************************************
 *  Cases: load errors
 **************************************************************************/
static const unsigned char MAGIC[8] = {0x89, 0x42, 0x50, 0x4D, 0x0D, 0x0A, 0x1A, 0x0A};

static void case_load_arguments(void)
{
    unsigned char byte = 0x89;
    bp_network *net = (bp_network *)&g_rng;
    EXPECT(bp_load_from_buffer(NULL, 10, &net), BP_ERROR_NULL_ARGUMENT);
    CHECK(net == NULL, "*out not NULL after a failure");
    EXPECT(bp_load_from_buffer(&byte, 1, NULL), BP_ERROR_NULL_ARGUMENT);
    EXPECT(bp_load(NULL, &net), BP_ERROR_NULL_ARGUMENT);
    EXPECT(bp_load("/nonexistent/x.bpm", NULL), BP_ERROR_NULL_ARGUMENT);
    EXPECT(bp_save(NULL, "/tmp/never-written.bpm"), BP_ERROR_NULL_ARGUMENT);
    {
        bp_network *a = CREATE_DESC(&NET_LINEAR, 1);
        EXPECT(bp_save(a, NULL), BP_ERROR_NULL_ARGUMENT);
        bp_destroy(a);
    }
    /* A size that no buffer can have (above SIZE_MAX/2) is refused before anything is read. */
    {
        bp_status s = bp_load_from_buffer(MAGIC, SIZE_MAX, &net);
        CHECK(s != BP_OK && net == NULL, "size SIZE_MAX: %s", status_name(s));
        s = bp_load_from_buffer(MAGIC, (size_t)1 << 63, &net);
        CHECK(s != BP_OK && net == NULL, "size 2^63: %s", status_name(s));
    }
}

static void case_load_magic(void)
{
    unsigned char buf[64];
    const char *text = "layers: 4 8 3\nweights: 0.1 0.2 0.3\n";
    static const unsigned char png[8] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    memcpy(buf, MAGIC, 8);
    EXPECT(load_buffer(buf, 0, NULL), BP_ERROR_TRUNCATED);  /* empty */
    EXPECT(load_buffer(buf, 3, NULL), BP_ERROR_TRUNCATED);  /* 3 bytes of the magic */
    EXPECT(load_buffer(buf, 8, NULL), BP_ERROR_TRUNCATED);  /* the magic alone */
    buf[0] = 0x88;
    EXPECT(load_buffer(buf, 8, NULL), BP_ERROR_NOT_A_MODEL);  /* wrong first byte */
    EXPECT(load_buffer(buf, 1, NULL), BP_ERROR_NOT_A_MODEL);
    EXPECT(load_buffer((const unsigned char *)text, strlen(text), NULL), BP_ERROR_NOT_A_MODEL);
    EXPECT(load_buffer(png, sizeof png, NULL), BP_ERROR_NOT_A_MODEL);
    memset(buf, 0, sizeof buf);
    EXPECT(load_buffer(buf, sizeof buf, NULL), BP_ERROR_NOT_A_MODEL);
    /* A prefix that differs at its last byte. */
    memcpy(buf, MAGIC, 8);
    buf[4] = 0x0A;
    EXPECT(load_buffer(buf, 5, NULL), BP_ERROR_NOT_A_MODEL);
}

static void case_load_version(void)
{
    bp_network *net = CREATE_DESC(&NET_SIGMOID, 1);
    size_t size = 0;
    unsigned char *model = MODEL_BYTES(net, &size);
    uint32_t current = get_u32(model + 8);
    uint32_t versions[] = {current + 1, 2, 0, 0xFFFFFFFFu, 0x01000000u};
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
        if (versions[i] == current)
            continue;
        bp_status s;
        put_u32(model + 8, versions[i]);
        fix_crc(model, size);
        s = load_buffer(model, size, NULL);
        CHECK(s == BP_ERROR_UNSUPPORTED_VERSION,
              "format version %u (this library writes %u): %s, expected BP_ERROR_UNSUPPORTED_VERSION; \"%s\"",
              (unsigned)versions[i], (unsigned)current, status_name(s), last_error());
        /* Just the version, without the rest. */
        s = load_buffer(model, 12, NULL);
        CHECK(s == BP_ERROR_UNSUPPORTED_VERSION, "a 12-byte model of version %u: %s", (unsigned)versions[i],
              status_name(s));
    }
    free(model);
    bp_destroy(net);
}

static void case_load_every_truncation(void)
{
    const net_desc *descs[] = {&NET_SIGMOID, &NET_SOFTMAX};
    for (size_t i = 0; i < 2; i++) {
        for (int st = STATE_FRESH; st <= STATE_APPLIED; st++) {
            bp_network *net;
            unsigned char *model;
            size_t size = 0, wrong = 0, first_wrong = 0;
            bp_status first_status = BP_OK;
            rng_seed(400 + i);
            net = trained(descs[i], 11, (grad_state)st);
            model = MODEL_BYTES(net, &size);
            for (size_t len = 0; len < size; len++) {
                bp_status s = load_buffer(model, len, NULL);
                /* Prefixes of the magic are truncated too (docs/format.md, rule 1). */
                if (s != BP_ERROR_TRUNCATED) {
                    if (wrong++ == 0) {
                        first_wrong = len;
                        first_status = s;
                    }
                }
            }
            CHECK(wrong == 0,
                  "network %zu (%s, %zu bytes): %zu of the truncated lengths do not give BP_ERROR_TRUNCATED; "
                  "the first is length %zu: %s",
                  i, state_name((grad_state)st), size, wrong, first_wrong, status_name(first_status));
            /* The last 1..3 bytes (inside the CRC) are the easy ones to get wrong. */
            for (size_t cut = 1; cut <= 4; cut++) {
                bp_status s = load_buffer(model, size - cut, NULL);
                CHECK(s == BP_ERROR_TRUNCATED, "network %zu (%s): cutting the last %zu bytes gives %s; \"%s\"", i,
                      state_name((grad_state)st), cut, status_name(s), last_error());
            }
            EXPECT_OK(load_buffer(model, size, NULL));
            free(model);
            bp_destroy(net);
        }
    }
}

static void case_load_every_byte_flip(void)
{
    const net_desc *d = &NET_SIGMOID;
    bp_network *net;
    unsigned char *model, *copy;
    size_t size = 0, params, data_end, counts[18] = {0};
    const unsigned char masks[] = {0x01, 0x80, 0xFF, 0x5A};
    size_t ok = 0, wrong_region = 0;
    rng_seed(500);
    net = trained(d, 13, STATE_PENDING);
    model = MODEL_BYTES(net, &size);
    copy = xmalloc(size);
    params = off_params(d->layers);
    data_end = params + 2 * 4 * bp_parameter_count(net); /* parameters, then the pending gradients */
    for (size_t pos = 0; pos < size; pos++) {
        for (size_t m = 0; m < sizeof masks; m++) {
            bp_status s;
            memcpy(copy, model, size);
            copy[pos] ^= masks[m];
            s = load_buffer(copy, size, NULL);
            if (s >= 0 && s < 18)
                counts[s]++;
            if (s == BP_OK) {
                if (ok++ < 5)
                    CHECK(0, "flipping byte %zu with 0x%02X still loads", pos, masks[m]);
                continue;
            }
            if (pos < 8) {
                if (s != BP_ERROR_NOT_A_MODEL && wrong_region++ < 5)
                    CHECK(0, "byte %zu (magic) ^ 0x%02X: %s, expected BP_ERROR_NOT_A_MODEL", pos, masks[m],
                          status_name(s));
            } else if (pos < 12) {
                if (s != BP_ERROR_UNSUPPORTED_VERSION && wrong_region++ < 5)
                    CHECK(0, "byte %zu (version) ^ 0x%02X: %s, expected BP_ERROR_UNSUPPORTED_VERSION", pos, masks[m],
                          status_name(s));
            } else if ((pos >= params && pos < data_end) || pos >= size - 4) {
                if (s != BP_ERROR_CHECKSUM_MISMATCH && wrong_region++ < 5)
                    CHECK(0, "byte %zu (%s) ^ 0x%02X: %s, expected BP_ERROR_CHECKSUM_MISMATCH", pos,
                          pos >= size - 4 ? "CRC" : "parameters/gradients", masks[m], status_name(s));
            }
        }
    }
    CHECK(ok == 0, "%zu single-byte corruptions loaded as valid models", ok);
    CHECK(wrong_region == 0, "%zu corruptions gave a status other than the one their region implies", wrong_region);
    printf("  info  byte flips of a %zu-byte model: %zu not-a-model, %zu unsupported-version, %zu truncated, "
           "%zu checksum, %zu corrupt\n",
           size, counts[BP_ERROR_NOT_A_MODEL], counts[BP_ERROR_UNSUPPORTED_VERSION], counts[BP_ERROR_TRUNCATED],
           counts[BP_ERROR_CHECKSUM_MISMATCH], counts[BP_ERROR_CORRUPT_MODEL]);
    free(copy);
    free(model);
    bp_destroy(net);
}

/* A copy of `model` with one u32/u64 field changed and the CRC recomputed. */
static bp_status load_patched(const unsigned char *model, size_t size, size_t offset, int width, uint64_t value)
{
    unsigned char *copy = xmalloc(size);
    bp_status s;
    memcpy(copy, model, size);
    if (width == 4)
        put_u32(copy + offset, (uint32_t)value);
    else
        put_u64(copy + offset, value);
    fix_crc(copy, size);
    s = load_buffer(copy, size, NULL);
    free(copy);
    return s;
}

#define EXPECT_PATCHED(model, size, off, width, value, want, what)                                                    \
    do {                                                                                                               \
        bp_status s_ = load_patched((model), (size), (off), (width), (value));                                        \
        CHECK(s_ == (want), "%s (CRC recomputed): %s, expected %s; \"%s\"", (what), status_name(s_),                  \
              status_name(want), last_error());                                                                       \
    } while (0)

static void case_load_corrupt_fields(void)
{
    const net_desc *d = &NET_SIGMOID; /* 4-8-3, sigmoid, sigmoid, MSE */
    size_t L = d->layers;
    bp_network *net;
    unsigned char *model, *copy;
    size_t size = 0, pcount;
    rng_seed(600);
    net = trained(d, 17, STATE_FRESH);
    pcount = bp_parameter_count(net);
    model = MODEL_BYTES(net, &size);
    CHECK(get_u32(model + 16) == L, "the layer count is not at offset 16 (docs/format.md)");

    EXPECT_PATCHED(model, size, off_acts(L), 4, 9, BP_ERROR_CORRUPT_MODEL, "activation code 9");
    EXPECT_PATCHED(model, size, off_acts(L) + 4, 4, 6, BP_ERROR_CORRUPT_MODEL, "activation code 6");
    EXPECT_PATCHED(model, size, off_acts(L), 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "activation code 2^32-1");
    EXPECT_PATCHED(model, size, off_acts(L), 4, BP_SOFTMAX, BP_ERROR_CORRUPT_MODEL, "softmax on the hidden layer");
    EXPECT_PATCHED(model, size, off_sizes(), 8, 0, BP_ERROR_CORRUPT_MODEL, "layer 0 with 0 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, 0, BP_ERROR_CORRUPT_MODEL, "layer 1 with 0 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, ((uint64_t)1 << 24) + 1, BP_ERROR_CORRUPT_MODEL,
                   "layer 1 with 2^24+1 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, UINT64_MAX, BP_ERROR_CORRUPT_MODEL, "layer 1 with 2^64-1 units");
    EXPECT_PATCHED(model, size, off_sizes() + 8, 8, 9, BP_ERROR_CORRUPT_MODEL,
                   "layer 1 with 9 units (parameter count mismatch)");
    EXPECT_PATCHED(model, size, 16, 4, 1, BP_ERROR_CORRUPT_MODEL, "layer count 1");
    EXPECT_PATCHED(model, size, 16, 4, 0, BP_ERROR_CORRUPT_MODEL, "layer count 0");
    EXPECT_PATCHED(model, size, 16, 4, 1025, BP_ERROR_CORRUPT_MODEL, "layer count 1025");
    EXPECT_PATCHED(model, size, 16, 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "layer count 2^32-1");
    EXPECT_PATCHED(model, size, off_state(L), 4, 4, BP_ERROR_CORRUPT_MODEL, "gradient state 4");
    EXPECT_PATCHED(model, size, off_count(L), 8, pcount + 1, BP_ERROR_CORRUPT_MODEL, "parameter count P+1");
    EXPECT_PATCHED(model, size, off_count(L), 8, UINT64_MAX, BP_ERROR_CORRUPT_MODEL, "parameter count 2^64-1");
    EXPECT_PATCHED(model, size, 12, 4, 7, BP_ERROR_CORRUPT_MODEL, "loss code 7");
    /* Gradient state 1 on a model without gradients: the gradients are missing. */
    EXPECT_PATCHED(model, size, off_state(L), 4, 1, BP_ERROR_TRUNCATED, "gradient state 1 without gradients");
    {
        /* A layer count in range that does not match the sizes that follow. */
        bp_status s = load_patched(model, size, 16, 4, 4);
        CHECK(s == BP_ERROR_CORRUPT_MODEL || s == BP_ERROR_TRUNCATED, "layer count 4 in a 3-layer model: %s",
              status_name(s));
    }

    /* NaN, infinities as parameters. */
    {
        const uint32_t bad[] = {0x7FC00000u, 0x7F800001u, 0xFFC00000u, 0x7F800000u, 0xFF800000u};
        const size_t where[] = {0, pcount / 2, pcount - 1};
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
            for (size_t w = 0; w < 3; w++) {
                char what[64];
                snprintf(what, sizeof what, "parameter %zu = 0x%08X", where[w], (unsigned)bad[b]);
                EXPECT_PATCHED(model, size, off_params(L) + 4 * where[w], 4, bad[b], BP_ERROR_CORRUPT_MODEL, what);
            }
        /* Values that are finite are fine: -0, subnormals, FLT_MAX. */
        EXPECT_PATCHED(model, size, off_params(L), 4, 0x80000000u, BP_OK, "parameter -0.0");
        EXPECT_PATCHED(model, size, off_params(L), 4, 0x00000001u, BP_OK, "a subnormal parameter");
        EXPECT_PATCHED(model, size, off_params(L), 4, 0x7F7FFFFFu, BP_OK, "parameter FLT_MAX");
    }

    /* One trailing byte, with a CRC computed over it (the CRC still closes the file). */
    copy = xmalloc(size + 1);
    memcpy(copy, model, size - 4);
    copy[size - 4] = 0x00;
    fix_crc(copy, size + 1);
    {
        bp_status s = load_buffer(copy, size + 1, NULL);
        CHECK(s == BP_ERROR_CORRUPT_MODEL, "a trailing byte before a valid CRC: %s, expected BP_ERROR_CORRUPT_MODEL",
              status_name(s));
    }
    /* One trailing byte after the CRC, and two models back to back. */
    memcpy(copy, model, size);
    copy[size] = 0x0A;
    EXPECT(load_buffer(copy, size + 1, NULL), BP_ERROR_CORRUPT_MODEL);
    free(copy);
    copy = xmalloc(2 * size);
    memcpy(copy, model, size);
    memcpy(copy + size, model, size);
    EXPECT(load_buffer(copy, 2 * size, NULL), BP_ERROR_CORRUPT_MODEL);
    free(copy);
    free(model);
    bp_destroy(net);

    /* Cross-entropy with a linear output layer (an architecture bp_create refuses). */
    {
        net_desc lin = {3, {2, 3, 2}, {BP_TANH, BP_LINEAR}, BP_LOSS_MSE};
        bp_network *n2 = CREATE_DESC(&lin, 3);
        model = MODEL_BYTES(n2, &size);
        EXPECT_PATCHED(model, size, 12, 4, BP_LOSS_CROSS_ENTROPY, BP_ERROR_CORRUPT_MODEL,
                       "cross-entropy with a linear output");
        free(model);
        bp_destroy(n2);
    }
}

static void case_load_gradient_values(void)
{
    /* Pending gradients that are NaN: either refused as corrupt, or loaded and then refused
     * by bp_update() with BP_ERROR_DIVERGED, parameters unchanged. */
    const net_desc *d = &NET_SIGMOID;
    bp_network *net, *b = NULL;
    unsigned char *model;
    size_t size = 0, n;
    bp_status s;
    rng_seed(650);
    net = trained(d, 19, STATE_PENDING);
    n = bp_parameter_count(net);
    model = MODEL_BYTES(net, &size);
    put_u32(model + off_params(d->layers) + 4 * n + 8, 0x7FC00000u);
    fix_crc(model, size);
    s = load_buffer(model, size, &b);
    CHECK(s == BP_OK || s == BP_ERROR_CORRUPT_MODEL, "a NaN pending gradient: %s", status_name(s));
    if (s == BP_OK) {
        float *before = get_params(b, NULL);
        EXPECT(bp_update(b, 0.1f), BP_ERROR_DIVERGED);
        CHECK(params_equal_to(b, before, n), "bp_update with a NaN gradient changed the parameters");
        free(before);
        printf("  info  a NaN pending gradient loads; bp_update then returns BP_ERROR_DIVERGED\n");
    }
    bp_destroy(b);
    free(model);
    bp_destroy(net);
}

static void case_load_huge_declared_sizes(void)
{
    /* Headers that declare enormous (but in-range) networks, followed by a few bytes: the
     * reader must answer BP_ERROR_TRUNCATED from the bytes present, without trying to
     * allocate what the header claims. */
    unsigned char hdr[20 + 8 * 2 + 4 + 4 + 8 + 64 + 4];
    size_t n = 0;
    uint64_t big = (uint64_t)1 << 24;
    memcpy(hdr, MAGIC, 8);
    put_u32(hdr + 8, 1);
    put_u32(hdr + 12, BP_LOSS_MSE);
    put_u32(hdr + 16, 2);
    put_u64(hdr + 20, big);
    put_u64(hdr + 28, big);
    put_u32(hdr + 36, BP_LINEAR);
    put_u32(hdr + 40, 1); /* gradients pending: twice the floats */
    put_u64(hdr + 44, big * big + big);
    memset(hdr + 52, 0x3F, 64);
    n = sizeof hdr;
    fix_crc(hdr, n);
    {
        bp_network *b = (bp_network *)&g_rng;
        unsigned char *copy = xmalloc(n);
        bp_status s;
        memcpy(copy, hdr, n);
        s = bp_load_from_buffer(copy, n, &b);
        CHECK(s == BP_ERROR_TRUNCATED, "a 2^24 x 2^24 network in %zu bytes: %s, expected BP_ERROR_TRUNCATED; \"%s\"",
              n, status_name(s), last_error());
        CHECK(b == NULL, "*out not NULL");
        free(copy);
    }
    /* 1024 layers of 2^24 units each: the parameter count computation must not overflow. */
    {
        size_t layers = 1024, total = 20 + 8 * layers + 4 * (layers - 1) + 4 + 8 + 16 + 4;
        unsigned char *m = xmalloc(total);
        uint64_t p = 0;
        bp_status s;
        memset(m, 0, total);
        memcpy(m, MAGIC, 8);
        put_u32(m + 8, 1);
        put_u32(m + 16, (uint32_t)layers);
        for (size_t l = 0; l < layers; l++)
            put_u64(m + 20 + 8 * l, big);
        for (size_t l = 1; l < layers; l++)
            p += big * big + big;
        put_u64(m + off_count(layers), p);
        fix_crc(m, total);
        s = load_buffer(m, total, NULL);
        CHECK(s == BP_ERROR_TRUNCATED || s == BP_ERROR_CORRUPT_MODEL,
              "1024 layers of 2^24 units in %zu bytes: %s, expected BP_ERROR_TRUNCATED", total, status_name(s));
        free(m);
    }
}

/* Every option of every optimizer, set to a non-default value. */
static void set_optimizer(bp_network *net, int32_t optimizer)
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

static void case_round_trip_optimizers(void)
{
    /* The optimizer, its options and its state (moments, step sizes, Adam's t) are saved:
     * the copy continues training bit for bit, through buffers and files. */
    static const char *names[] = {"SGD", "momentum", "Nesterov", "Adam", "AdamW", "RPROP"};
    char *dir = make_temp_dir();
    char *path = join(dir, "opt.bpm");
    for (int32_t opt = BP_OPTIMIZER_SGD; opt <= BP_OPTIMIZER_RPROP; opt++) {
        for (int st = STATE_FRESH; st <= STATE_APPLIED; st++) {
            const net_desc *d = opt % 2 ? &NET_SOFTMAX : &NET_WIDE;
            bp_network *a = CREATE_DESC(d, 31 + (uint64_t)opt), *b = NULL, *b2 = NULL, *c = NULL;
            size_t batch = 8, size = 0;
            float *x, *y;
            unsigned char *bytes;
            char how[96];
            rng_seed(1000 + (uint64_t)opt);
            x = random_floats(batch * in_size(d), -1.0, 1.0);
            y = make_targets(d, batch);
            set_optimizer(a, opt);
            if (st != STATE_FRESH) {
                for (int i = 0; i < 5; i++)
                    EXPECT_OK(bp_train_step(a, x, y, batch, 0.01f, NULL));
                EXPECT_OK(bp_forward(a, x, batch, NULL));
                EXPECT_OK(bp_backward(a, y, batch, NULL));
                if (st == STATE_APPLIED)
                    EXPECT_OK(bp_update(a, 0.01f));
            }
            bytes = MODEL_BYTES(a, &size);
            EXPECT_OK(load_buffer(bytes, size, &b));
            EXPECT_OK(load_buffer(bytes, size, &b2));
            EXPECT_OK(bp_save(a, path));
            EXPECT_OK(bp_load(path, &c));
            for (int32_t key = BP_OPTION_OPTIMIZER; key <= BP_OPTION_RPROP_INITIAL_STEP; key++) {
                double va = -1.0, vb = -2.0, vc = -3.0;
                EXPECT_OK(bp_get_option(a, key, &va));
                EXPECT_OK(bp_get_option(b, key, &vb));
                EXPECT_OK(bp_get_option(c, key, &vc));
                CHECK(memcmp(&va, &vb, sizeof va) == 0 && memcmp(&va, &vc, sizeof va) == 0,
                      "%s: option %d is %.17g, %.17g after a buffer and %.17g after a file round trip", names[opt],
                      (int)key, va, vb, vc);
            }
            if (st == STATE_PENDING) {
                /* The pending gradients go through the optimizer identically. */
                EXPECT_OK(bp_update(b, 0.01f));
                EXPECT_OK(bp_update(b2, 0.01f));
                EXPECT_OK(bp_update(c, 0.01f));
                EXPECT_OK(bp_update(a, 0.01f));
            }
            /* check_identical trains both networks it compares: pair them up. */
            snprintf(how, sizeof how, "%s, %s, buffer", names[opt], state_name((grad_state)st));
            check_identical(a, b, d, how);
            snprintf(how, sizeof how, "%s, %s, file", names[opt], state_name((grad_state)st));
            check_identical(b2, c, d, how);
            free(bytes);
            free(x);
            free(y);
            bp_destroy(a);
            bp_destroy(b);
            bp_destroy(b2);
            bp_destroy(c);
        }
    }
    free(path);
    remove_tree(dir);
    free(dir);
}

/* A loaded model must be usable: one training step either succeeds with finite
 * parameters or reports BP_ERROR_DIVERGED with the parameters unchanged; never a crash. */
static void check_trains_safely(bp_network *net, const char *what)
{
    size_t n = bp_parameter_count(net), in = bp_input_size(net), out = bp_output_size(net), batch = 3;
    float *x = random_floats(batch * in, -1.0, 1.0), *y = random_floats(batch * out, 0.0, 1.0);
    float *before = get_params(net, NULL), *after;
    bp_status s;
    for (size_t i = 0; i < batch; i++) { /* one-hot rows suit every loss */
        for (size_t j = 0; j < out; j++)
            y[i * out + j] = j == i % out ? 1.0f : 0.0f;
    }
    s = bp_train_step(net, x, y, batch, 0.01f, NULL);
    after = get_params(net, NULL);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "%s: a training step after loading returned %s", what,
          status_name(s));
    if (s == BP_OK)
        CHECK(all_finite(after, n), "%s: a training step after loading left non-finite parameters", what);
    else
        CHECK(memcmp(before, after, n * sizeof *after) == 0, "%s: diverged but changed the parameters", what);
    free(x);
    free(y);
    free(before);
    free(after);
}

static void case_load_corrupt_optimizer(void)
{
    const net_desc *d = &NET_SIGMOID;
    size_t L = d->layers;
    for (int32_t opt = BP_OPTIMIZER_SGD; opt <= BP_OPTIMIZER_RPROP; opt++) {
        bp_network *net = CREATE_DESC(d, 41), *back = NULL;
        size_t size = 0, pcount = bp_parameter_count(net), o, k, step_at, arrays_at;
        unsigned char *model;
        char what[128];
        float x[4] = {0.1f, 0.2f, 0.3f, 0.4f}, y[3] = {0.0f, 1.0f, 0.0f};
        set_optimizer(net, opt);
        EXPECT_OK(bp_train_step(net, x, y, 1, 0.01f, NULL));
        model = MODEL_BYTES(net, &size);
        o = off_optimizer(model, L, pcount);
        CHECK(get_u32(model + o) == (uint32_t)opt, "optimizer %d: the optimizer code is not where docs/format.md puts it",
              (int)opt);
        k = get_u32(model + o + 4);
        step_at = o + 8 + 12 * k;
        arrays_at = step_at + 8;
#define PATCH(off, w, v, want, text)                                                                                   \
    do {                                                                                                               \
        snprintf(what, sizeof what, "optimizer %d: %s", (int)opt, (text));                                            \
        EXPECT_PATCHED(model, size, (off), (w), (v), (want), what);                                                   \
    } while (0)
        PATCH(o, 4, 6, BP_ERROR_CORRUPT_MODEL, "optimizer code 6");
        PATCH(o, 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "optimizer code 2^32-1");
        PATCH(o + 4, 4, k + 1, BP_ERROR_CORRUPT_MODEL, "one option more than there are keys");
        PATCH(o + 4, 4, 0xFFFFFFFFu, BP_ERROR_CORRUPT_MODEL, "option count 2^32-1");
        if (k > 0) {
            uint64_t nan_bits = UINT64_C(0x7FF8000000000000), inf_bits = UINT64_C(0x7FF0000000000000);
            uint64_t one_bits = UINT64_C(0x3FF0000000000000), neg_bits = UINT64_C(0xBFF0000000000000);
            PATCH(o + 8, 4, 11, BP_ERROR_CORRUPT_MODEL, "option key 11");
            PATCH(o + 8, 4, 0x80000000u, BP_ERROR_CORRUPT_MODEL, "option key 2^31");
            /* The first key is the momentum (key 0), in [0, 1). */
            if (get_u32(model + o + 8) == 0) {
                PATCH(o + 12, 8, nan_bits, BP_ERROR_CORRUPT_MODEL, "momentum NaN");
                PATCH(o + 12, 8, inf_bits, BP_ERROR_CORRUPT_MODEL, "momentum +inf");
                PATCH(o + 12, 8, one_bits, BP_ERROR_CORRUPT_MODEL, "momentum 1.0");
                PATCH(o + 12, 8, neg_bits, BP_ERROR_CORRUPT_MODEL, "momentum -1.0");
            }
        }
        PATCH(arrays_at, 4, get_u32(model + arrays_at) + 1, BP_ERROR_CORRUPT_MODEL, "one state array too many");
        if (get_u32(model + arrays_at) > 0)
            PATCH(arrays_at, 4, get_u32(model + arrays_at) - 1, BP_ERROR_CORRUPT_MODEL, "one state array too few");
        PATCH(step_at, 8, UINT64_MAX, BP_ERROR_CORRUPT_MODEL, "step count 2^64-1");
        PATCH(step_at, 8, (uint64_t)1 << 63, BP_ERROR_CORRUPT_MODEL, "step count 2^63");
#undef PATCH
        /* NaN and infinite optimizer state (moments, RPROP steps). */
        if (get_u32(model + arrays_at) > 0) {
            const uint32_t bad[] = {0x7FC00000u, 0x7F800000u, 0xFF800000u};
            for (size_t b = 0; b < 3; b++) {
                unsigned char *copy = xmalloc(size);
                bp_status s;
                char label[96];
                memcpy(copy, model, size);
                put_u32(copy + arrays_at + 4, bad[b]);
                put_u32(copy + size - 8, bad[b]); /* the last value of the last array */
                fix_crc(copy, size);
                s = load_buffer(copy, size, &back);
                CHECK(s == BP_OK || s == BP_ERROR_CORRUPT_MODEL, "optimizer %d: state value 0x%08X: %s", (int)opt,
                      (unsigned)bad[b], status_name(s));
                snprintf(label, sizeof label, "optimizer %d, optimizer state 0x%08X", (int)opt, (unsigned)bad[b]);
                if (back != NULL)
                    check_trains_safely(back, label);
                bp_destroy(back);
                back = NULL;
                free(copy);
            }
        }
        /* Step counts the reader accepts must not break the next update (Adam's t + 1).
         * Last, because a trap here ends the case. */
        {
            const uint64_t steps[] = {UINT64_C(0x7FFFFFFFFFFFFFFF), UINT64_C(0x7FFFFFFFFFFFFFFE), 0,
                                      UINT64_C(1) << 40};
            for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
                unsigned char *copy = xmalloc(size);
                bp_status s;
                memcpy(copy, model, size);
                put_u64(copy + step_at, steps[i]);
                fix_crc(copy, size);
                s = load_buffer(copy, size, &back);
                CHECK(s == BP_OK || s == BP_ERROR_CORRUPT_MODEL, "optimizer %d: step count %llu: %s", (int)opt,
                      (unsigned long long)steps[i], status_name(s));
                if (back != NULL) {
                    char label[96];
                    snprintf(label, sizeof label, "optimizer %d, step count %llu", (int)opt,
                             (unsigned long long)steps[i]);
                    check_trains_safely(back, label);
                }
                bp_destroy(back);
                back = NULL;
                free(copy);
            }
        }
        free(model);
        bp_destroy(net);
    }
}

static void case_options_extreme_values(void)
{
    /* Option values that are valid doubles but not valid floats (the update runs in float):
     * values that become infinite as floats are refused (BP_ERROR_NON_FINITE), values that
     * become 0 where 0 is out of range are refused (BP_ERROR_INVALID_ARGUMENT); whatever is
     * accepted, training must leave finite parameters or report BP_ERROR_DIVERGED. */
    struct {
        int32_t optimizer, key;
        double value;
        const char *what;
    } cases[] = {
        {BP_OPTIMIZER_SGD, BP_OPTION_WEIGHT_DECAY, 1e300, "SGD, weight decay 1e300"},
        {BP_OPTIMIZER_MOMENTUM, BP_OPTION_WEIGHT_DECAY, 1e39, "momentum, weight decay 1e39"},
        {BP_OPTIMIZER_ADAMW, BP_OPTION_WEIGHT_DECAY, 1e300, "AdamW, weight decay 1e300"},
        {BP_OPTIMIZER_ADAM, BP_OPTION_EPSILON, 1e-300, "Adam, epsilon 1e-300 (0 in float)"},
        {BP_OPTIMIZER_ADAM, BP_OPTION_EPSILON, 1e300, "Adam, epsilon 1e300 (inf in float)"},
        {BP_OPTIMIZER_RPROP, BP_OPTION_RPROP_MAX_STEP, 1e300, "RPROP, max step 1e300"},
        {BP_OPTIMIZER_RPROP, BP_OPTION_RPROP_MIN_STEP, 1e-300, "RPROP, min step 1e-300"},
        {BP_OPTIMIZER_SGD, BP_OPTION_CLIP_NORM, 1e-300, "SGD, clip norm 1e-300"},
        {BP_OPTIMIZER_SGD, BP_OPTION_CLIP_NORM, 1e300, "SGD, clip norm 1e300"},
    };
    /* A ReLU layer with dead units gives exact zero gradients (Adam's 0 / (0 + ε)). */
    const net_desc d = {3, {3, 6, 2}, {BP_RELU, BP_LINEAR}, BP_LOSS_MSE};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bp_network *net = CREATE_DESC(&d, 51);
        size_t n = bp_parameter_count(net), batch = 4;
        float *x, *y;
        bp_status s;
        int bad = 0;
        rng_seed(1100 + i);
        x = random_floats(batch * 3, -1.0, 1.0);
        y = random_floats(batch * 2, -1.0, 1.0);
        EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, cases[i].optimizer));
        if (cases[i].key == BP_OPTION_RPROP_MIN_STEP)
            EXPECT_OK(bp_set_option(net, BP_OPTION_RPROP_INITIAL_STEP, 1e-3));
        s = bp_set_option(net, cases[i].key, cases[i].value);
        CHECK(cases[i].value > 3.4e38 ? s == BP_ERROR_NON_FINITE : (s == BP_OK || s == BP_ERROR_INVALID_ARGUMENT),
              "%s: bp_set_option: %s", cases[i].what, status_name(s));
        for (int step = 0; step < 30 && !bad; step++) {
            float *before = get_params(net, NULL), *after;
            bp_status t = bp_train_step(net, x, y, batch, 0.01f, NULL);
            after = get_params(net, NULL);
            if (t == BP_OK && !all_finite(after, n)) {
                bad = 1;
                CHECK(0, "%s: step %d returned BP_OK but left NaN or infinite parameters", cases[i].what, step);
            } else if (t == BP_ERROR_DIVERGED) {
                bad = 1;
                CHECK(memcmp(before, after, n * sizeof *after) == 0, "%s: diverged but changed the parameters",
                      cases[i].what);
            } else if (t != BP_OK) {
                bad = 1;
                CHECK(0, "%s: step %d: %s", cases[i].what, step, status_name(t));
            }
            free(before);
            free(after);
        }
        if (!bad)
            CHECK(1, "ok");
        free(x);
        free(y);
        bp_destroy(net);
    }
}

static bp_network *g_fit_net; /* the network bp_fit is training, for the callback */

typedef struct {
    const char *path;
    int saves;
    size_t count;
    float *params_at_save; /* the parameters when the callback saved */
    int save_status;
} checkpoint_ctx;

static int checkpoint_progress(const bp_epoch_report *report, void *user)
{
    /* A progress callback that checkpoints the network it reports on, as a user would. */
    checkpoint_ctx *ctx = user;
    if (report->epoch == 3) {
        ctx->save_status = bp_save(g_fit_net, ctx->path);
        ctx->saves++;
        ctx->params_at_save = xmalloc(ctx->count * sizeof(float));
        if (bp_get_parameters(g_fit_net, ctx->params_at_save, ctx->count) != BP_OK)
            memset(ctx->params_at_save, 0xEE, ctx->count * sizeof(float));
    }
    return 1;
}

static void case_fit_checkpoint_and_divergence(void)
{
    const net_desc *d = &NET_SOFTMAX;
    char *dir = make_temp_dir();
    char *path = join(dir, "checkpoint.bpm");
    bp_network *net = CREATE_DESC(d, 61), *back = NULL;
    size_t count = 50, n = bp_parameter_count(net), epochs_run = 0;
    float *x, *y;
    bp_fit_options options;
    checkpoint_ctx ctx;
    rng_seed(1200);
    x = random_floats(count * in_size(d), -1.0, 1.0);
    y = make_targets(d, count);
    memset(&ctx, 0, sizeof ctx);
    ctx.path = path;
    ctx.count = n;
    bp_fit_options_init(&options);
    options.epochs = 5;
    options.batch_size = 7;
    options.progress = checkpoint_progress;
    options.user_data = &ctx;
    EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_ADAM));
    g_fit_net = net;
    EXPECT_OK(bp_fit(net, x, y, count, &options, NULL, 0, &epochs_run));
    CHECK(epochs_run == 5, "epochs_run = %zu", epochs_run);
    CHECK(ctx.saves == 1 && ctx.save_status == BP_OK, "the checkpoint in the progress callback: %d saves, %s",
          ctx.saves, status_name(ctx.save_status));
    EXPECT_OK(bp_load(path, &back));
    CHECK(back != NULL && ctx.params_at_save != NULL && params_equal_to(back, ctx.params_at_save, n),
          "the checkpoint saved during bp_fit does not hold the parameters of that moment");
    /* Resuming from the checkpoint for the remaining 2 epochs gives what the uninterrupted
     * run gave? Not with shuffling (the order depends on the epoch); without shuffling yes. */
    bp_destroy(back);
    free(ctx.params_at_save);

    /* bp_fit with a learning rate that blows up: BP_ERROR_DIVERGED, parameters from before
     * the diverging step, never BP_OK with non-finite parameters. */
    {
        const net_desc lin = {3, {3, 5, 1}, {BP_LINEAR, BP_LINEAR}, BP_LOSS_MSE};
        bp_network *l = CREATE_DESC(&lin, 62);
        size_t ln = bp_parameter_count(l);
        float *lx = random_floats(20 * 3, 0.5, 2.0), *ly = random_floats(20, 3.0, 5.0), *p;
        bp_status s;
        bp_fit_options_init(&options);
        options.epochs = 20;
        options.batch_size = 4;
        options.learning_rate = 1e30f;
        s = bp_fit(l, lx, ly, 20, &options, NULL, 0, &epochs_run);
        p = get_params(l, NULL);
        CHECK(s == BP_ERROR_DIVERGED, "bp_fit with a learning rate of 1e30: %s after %zu epochs", status_name(s),
              epochs_run);
        CHECK(all_finite(p, ln), "bp_fit with a learning rate of 1e30 left non-finite parameters (%s)",
              status_name(s));
        free(p);
        free(lx);
        free(ly);
        bp_destroy(l);
    }
    free(x);
    free(y);
    bp_destroy(net);
    free(path);
    remove_tree(dir);
    free(dir);
}

static void case_load_io_errors(void)
{
    char *dir = make_temp_dir();
    char *missing = join(dir, "missing.bpm");
    char *text = join(dir, "notes.txt");
    char *empty = join(dir, "empty.bpm");
    char *sub = join(dir, "subdir");
    bp_network *net = (bp_network *)&g_rng;
    bp_status s;

    s = bp_load(missing, &net);
    CHECK(s == BP_ERROR_IO, "a missing file: %s, expected BP_ERROR_IO", status_name(s));
    CHECK(net == NULL, "*out not NULL after a failed bp_load");
    CHECK(strstr(last_error(), missing) != NULL, "the message \"%s\" does not name the path %s", last_error(), missing);
    CHECK(strstr(last_error(), strerror(ENOENT)) != NULL, "the message \"%s\" does not give the reason \"%s\"",
          last_error(), strerror(ENOENT));

    CHECK(mkdir(sub, 0755) == 0, "mkdir");
    net = (bp_network *)&g_rng;
    s = bp_load(sub, &net);
    CHECK(s == BP_ERROR_IO, "a directory: %s, expected BP_ERROR_IO", status_name(s));
    CHECK(net == NULL, "*out not NULL");
    CHECK(strstr(last_error(), sub) != NULL, "the message \"%s\" does not name the path", last_error());

    CHECK(write_file(text, "hello, this is not a model\n", 27), "write %s", text);
    EXPECT(bp_load(text, &net), BP_ERROR_NOT_A_MODEL);
    CHECK(write_file(empty, "", 0), "write %s", empty);
    EXPECT(bp_load(empty, &net), BP_ERROR_TRUNCATED);
    EXPECT(bp_load("", &net), BP_ERROR_IO);
    EXPECT(bp_load("/dev/null", &net), BP_ERROR_IO); /* not a regular file */
    {
        /* A path longer than PATH_MAX. */
        size_t n = PATH_MAX + 100;
        char *longp = xmalloc(n + 1);
        memset(longp, 'a', n);
        longp[0] = '/';
        longp[n] = '\0';
        EXPECT(bp_load(longp, &net), BP_ERROR_IO);
        free(longp);
    }
    {
        /* A model file that is a directory entry of the path: "file/x". */
        char *under = join(text, "x.bpm");
        EXPECT(bp_load(under, &net), BP_ERROR_IO);
        free(under);
    }
    free(missing);
    free(text);
    free(empty);
    free(sub);
    remove_tree(dir);
    free(dir);
}

static void case_load_fifo(void)
{
    /* A FIFO with no writer: open(O_RDONLY) blocks until a writer appears. The library
     * refuses non-regular files anyway, so it should answer BP_ERROR_IO, not hang.
     * Checked in a child process with a 5-second alarm. */
    char *dir = make_temp_dir();
    char *fifo = join(dir, "pipe.bpm");
    pid_t pid;
    int status = 0;
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        bp_network *net = NULL;
        bp_status s;
        alarm(5);
        s = bp_load(fifo, &net);
        _exit(s == BP_ERROR_IO ? 0 : 10 + (int)s);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "bp_load of a FIFO without a writer %s (expected BP_ERROR_IO without blocking, e.g. open with O_NONBLOCK)",
          WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? "blocked for more than 5 s"
          : WIFEXITED(status) ? "returned another status" : "crashed");
    unlink(fifo);
    free(fifo);
    remove_tree(dir);
    free(dir);
}

/*-************************************************************************
 *  Cases: atomic saves against failing system calls
 **************************************************************************/
static int g_interposed; /* whether the library's calls reach the definitions above */

static void case_interposition_works(void)
{
    char *dir = make_temp_dir();
    printf("  info  library %s, ABI %u\n", bp_version() ? bp_version() : "(NULL)", (unsigned)bp_abi_version());
    char *path = join(dir, "probe.bpm");
    bp_network *net = CREATE_DESC(&NET_SIGMOID, 1);
    long w0, f0, r0;
    disarm();
    w0 = g_write_calls;
    f0 = g_fsync_calls;
    r0 = g_rename_calls;
    EXPECT_OK(bp_save(net, path));
    printf("  info  one bp_save: %ld write, %ld fsync, %ld rename calls reached the test's definitions\n",
           g_write_calls - w0, g_fsync_calls - f0, g_rename_calls - r0);
    CHECK(g_write_calls > w0, "the library's write() calls do not reach this executable's write(): the failure "
                              "injection below would test nothing");
    CHECK(g_fsync_calls - f0 >= 2, "expected fsync of the file and of its directory, saw %ld fsync calls",
          g_fsync_calls - f0);
    CHECK(g_rename_calls - r0 == 1, "expected one rename, saw %ld", g_rename_calls - r0);
    bp_destroy(net);
    free(path);
    remove_tree(dir);
    free(dir);
}

typedef struct {
    const char *name;
    enum write_mode w;
    enum fsync_mode f;
    enum rename_mode r;
    const char *reason; /* strerror() text the message must contain */
} fault;

/* Save A; arm the fault; save B over it (must fail with BP_ERROR_IO naming the path and the
 * reason); the file must still be A, and no temporary file may remain. Also a failed save
 * to a new path must leave nothing. */
static void run_fault(const fault *ft)
{
    char *dir = make_temp_dir();
    char *path = join(dir, "model.bpm");
    char *fresh = join(dir, "fresh.bpm");
    bp_network *a, *b, *back = NULL;
    unsigned char *before = NULL, *after = NULL;
    size_t nb = 0, na = 0;
    char names[1024];
    long failures0;
    bp_status s;

    rng_seed(700);
    a = trained(&NET_MIXED, 1, STATE_PENDING);
    b = trained(&NET_MIXED, 2, STATE_APPLIED);
    disarm();
    EXPECT_OK(bp_save(a, path));
    CHECK(read_file(path, &before, &nb), "read %s", path);

    failures0 = g_write_failures + g_fsync_failures;
    g_write_mode = ft->w;
    g_fsync_mode = ft->f;
    g_rename_mode = ft->r;
    s = bp_save(b, path);
    disarm();
    CHECK(s == BP_ERROR_IO, "%s: bp_save returned %s, expected BP_ERROR_IO", ft->name, status_name(s));
    CHECK(ft->r == RENAME_EIO || g_write_failures + g_fsync_failures > failures0,
          "%s: the injected failure was never triggered", ft->name);
    CHECK(strstr(last_error(), path) != NULL, "%s: the message \"%s\" does not name %s", ft->name, last_error(), path);
    CHECK(strstr(last_error(), ft->reason) != NULL, "%s: the message \"%s\" does not give the reason \"%s\"", ft->name,
          last_error(), ft->reason);

    CHECK(read_file(path, &after, &na), "%s: %s is gone after the failed save", ft->name, path);
    CHECK(after != NULL && na == nb && memcmp(before, after, nb) == 0,
          "%s: the previous model was changed by the failed save (%zu bytes before, %zu after)", ft->name, nb, na);
    EXPECT_OK(bp_load(path, &back));
    CHECK(back != NULL && same_params(a, back), "%s: the model loaded after the failed save is not A", ft->name);
    CHECK(list_dir(dir, names, sizeof names) == 1, "%s: the directory holds \"%s\"; expected model.bpm only",
          ft->name, names);

    /* A failed save to a path where nothing was: nothing appears. */
    g_write_mode = ft->w;
    g_fsync_mode = ft->f;
    g_rename_mode = ft->r;
    s = bp_save(b, fresh);
    disarm();
    CHECK(s == BP_ERROR_IO, "%s, new file: bp_save returned %s", ft->name, status_name(s));
    CHECK(access(fresh, F_OK) != 0, "%s: a failed save created %s", ft->name, fresh);
    CHECK(list_dir(dir, names, sizeof names) == 1, "%s: after a failed save to a new path the directory holds \"%s\"",
          ft->name, names);

    /* And with the fault gone, saving works again. */
    EXPECT_OK(bp_save(b, path));
    bp_destroy(back);
    back = NULL;
    EXPECT_OK(bp_load(path, &back));
    CHECK(back != NULL && same_params(b, back), "%s: saving after the fault did not store B", ft->name);

    free(before);
    free(after);
    bp_destroy(a);
    bp_destroy(b);
    bp_destroy(back);
    free(path);
    free(fresh);
    remove_tree(dir);
    free(dir);
}

static void case_atomic_save_faults(void)
{
    const fault faults[] = {
        {"write: ENOSPC after half", WRITE_ENOSPC_AFTER_HALF, FSYNC_REAL, RENAME_REAL, NULL},
        {"write: EIO", WRITE_EIO, FSYNC_REAL, RENAME_REAL, NULL},
        {"fsync: EIO", WRITE_REAL, FSYNC_EIO_ALL, RENAME_REAL, NULL},
        {"rename: EIO", WRITE_REAL, FSYNC_REAL, RENAME_EIO, NULL},
    };
    /* Whether the library's write()/fsync() reach this executable decides whether the
     * fault injection means anything: find out first, in this process. */
    {
        char *dir = make_temp_dir();
        char *path = join(dir, "probe.bpm");
        bp_network *net = CREATE_DESC(&NET_LINEAR, 1);
        long w0 = g_write_calls, f0 = g_fsync_calls;
        disarm();
        g_interposed = bp_save(net, path) == BP_OK && g_write_calls > w0 && g_fsync_calls > f0;
        bp_destroy(net);
        free(path);
        remove_tree(dir);
        free(dir);
    }
    if (!g_interposed) {
        CHECK(0, "skipped: write/fsync interposition does not reach the library");
        return;
    }
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++) {
        fault ft = faults[i];
        ft.reason = strerror(ft.w == WRITE_ENOSPC_AFTER_HALF ? ENOSPC : EIO);
        /* strerror's buffer may be reused: keep a copy. */
        {
            static char reasons[4][128];
            snprintf(reasons[i], sizeof reasons[i], "%s", ft.reason);
            ft.reason = reasons[i];
        }
        run_fault(&ft);
    }
}

static void case_save_benign_syscall_behaviour(void)
{
    /* Short writes and an EINTR are not errors: the save must complete. */
    char *dir = make_temp_dir();
    char *path = join(dir, "model.bpm");
    enum write_mode modes[] = {WRITE_SHORT, WRITE_EINTR_ONCE};
    const char *names[] = {"short writes", "one EINTR"};
    rng_seed(800);
    for (size_t i = 0; i < 2; i++) {
        bp_network *a = trained(&NET_WIDE, 3 + i, STATE_PENDING), *b = NULL;
        long w0 = g_write_calls;
        g_write_mode = modes[i];
        EXPECT_OK(bp_save(a, path));
        disarm();
        if (modes[i] == WRITE_SHORT)
            CHECK(g_write_calls - w0 > 10, "%s: only %ld write calls", names[i], g_write_calls - w0);
        EXPECT_OK(bp_load(path, &b));
        CHECK(b != NULL && same_params(a, b), "%s: the saved model differs", names[i]);
        bp_destroy(a);
        bp_destroy(b);
    }
    free(path);
    remove_tree(dir);
    free(dir);
}

static void case_save_directory_fsync_fails(void)
{
    /* Only the directory's fsync fails, after the rename. The header: BP_ERROR_IO, and the
     * path holds the complete new model (the rename happened; its durability is in doubt),
     * with no temporary file left. */
    char *dir = make_temp_dir();
    char *path = join(dir, "model.bpm");
    bp_network *a = CREATE_DESC(&NET_SIGMOID, 1), *b = CREATE_DESC(&NET_SIGMOID, 2), *back = NULL;
    char names[512];
    bp_status s;
    EXPECT_OK(bp_save(a, path));
    g_fsync_mode = FSYNC_EIO_DIRECTORY;
    s = bp_save(b, path);
    disarm();
    CHECK(s == BP_ERROR_IO, "bp_save returned %s", status_name(s));
    CHECK(strstr(last_error(), "directory") != NULL, "the message names the directory: \"%s\"", last_error());
    EXPECT_OK(bp_load(path, &back));
    CHECK(back != NULL && same_params(back, b), "the file holds the new model");
    CHECK(list_dir(dir, names, sizeof names) == 1, "the directory holds \"%s\"", names);
    bp_destroy(a);
    bp_destroy(b);
    bp_destroy(back);
    free(path);
    remove_tree(dir);
    free(dir);
}

static void case_save_io_errors(void)
{
    char *dir = make_temp_dir();
    char *sub = join(dir, "subdir");
    char *nodir = join(dir, "no/such/dir/model.bpm");
    char *trailing = join(dir, "subdir/");
    bp_network *net = CREATE_DESC(&NET_SIGMOID, 1);
    char names[512];
    CHECK(mkdir(sub, 0755) == 0, "mkdir");
    EXPECT(bp_save(net, nodir), BP_ERROR_IO);
    CHECK(strstr(last_error(), dir) != NULL, "the message \"%s\" does not name the path", last_error());
    EXPECT(bp_save(net, sub), BP_ERROR_IO); /* the path is a directory */
    EXPECT(bp_save(net, trailing), BP_ERROR_IO);
    EXPECT(bp_save(net, ""), BP_ERROR_IO);
    {
        struct stat st;
        CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode), "saving over a directory removed it");
    }
    CHECK(list_dir(dir, names, sizeof names) == 1, "failed saves left \"%s\" in the directory", names);
    CHECK(list_dir(sub, names, sizeof names) == 0, "failed saves left \"%s\" in the subdirectory", names);
    {
        size_t n = PATH_MAX + 100;
        char *longp = xmalloc(n + 1);
        memset(longp, 'b', n);
        longp[0] = '/';
        longp[n] = '\0';
        EXPECT(bp_save(net, longp), BP_ERROR_IO);
        free(longp);
    }
    if (geteuid() != 0) {
        /* A read-only directory (root ignores permissions, so only as another user). */
        char *ro = join(dir, "readonly");
        char *inside = join(ro, "model.bpm");
        CHECK(mkdir(ro, 0555) == 0, "mkdir");
        EXPECT(bp_save(net, inside), BP_ERROR_IO);
        chmod(ro, 0755);
        free(ro);
        free(inside);
    }
    bp_destroy(net);
    free(sub);
    free(nodir);
    free(trailing);
    remove_tree(dir);
    free(dir);
}

/*-************************************************************************
 *  Cases: divergence
 **************************************************************************/
static void case_diverged_overflowing_inputs(void)
{
    /* Linear output, MSE: inputs of 1e30 give outputs ~1e30 and a loss of ~1e60 = inf. */
    const net_desc d = {3, {4, 6, 2}, {BP_LINEAR, BP_LINEAR}, BP_LOSS_MSE};
    bp_network *net = CREATE_DESC(&d, 21);
    size_t n = bp_parameter_count(net), batch = 5;
    float *x = random_floats(batch * 4, 1e29, 3e30), *y = random_floats(batch * 2, 0.0, 1.0);
    float *before = get_params(net, NULL), loss = 0.0f;
    float *ok_x = random_floats(batch * 4, -1.0, 1.0);

    EXPECT(bp_train_step(net, x, y, batch, 0.01f, &loss), BP_ERROR_DIVERGED);
    CHECK(params_equal_to(net, before, n), "bp_train_step changed the parameters although it diverged");
    /* The same through forward / backward / update. */
    EXPECT_OK(bp_forward(net, x, batch, NULL));
    {
        bp_status s = bp_backward(net, y, batch, &loss);
        CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_backward: %s", status_name(s));
        if (s == BP_OK) {
            EXPECT(bp_update(net, 0.01f), BP_ERROR_DIVERGED);
            CHECK(params_equal_to(net, before, n), "bp_update changed the parameters although it diverged");
            EXPECT(bp_update(net, 0.0f), BP_ERROR_DIVERGED); /* still refused, even with η = 0 */
            CHECK(params_equal_to(net, before, n), "a second bp_update changed the parameters");
        }
    }
    /* The network is still usable afterwards. */
    EXPECT_OK(bp_train_step(net, ok_x, y, batch, 0.01f, NULL));
    {
        float *p = get_params(net, NULL);
        CHECK(all_finite(p, n), "the parameters are not finite after recovering");
        free(p);
    }
    free(x);
    free(y);
    free(ok_x);
    free(before);
    bp_destroy(net);
}

static void case_diverged_huge_learning_rate(void)
{
    /* A learning rate of 1e30 on a linear network: the first step is finite (but huge),
     * the next one overflows. Whichever step diverges must leave the parameters as they
     * were before it; a step reported as BP_OK must leave them finite, or the model can
     * no longer be saved and loaded (the loader refuses non-finite parameters). */
    const net_desc d = {3, {3, 5, 1}, {BP_LINEAR, BP_LINEAR}, BP_LOSS_MSE};
    const float rates[] = {1e30f, 1e38f, FLT_MAX};
    for (size_t r = 0; r < 3; r++) {
        bp_network *net = CREATE_DESC(&d, 23);
        size_t n = bp_parameter_count(net), batch = 4;
        float *x, *y;
        int diverged = 0, nonfinite_ok = 0;
        rng_seed(900 + r);
        x = random_floats(batch * 3, 0.5, 2.0);
        y = random_floats(batch, 3.0, 5.0);
        for (int step = 0; step < 6 && !diverged; step++) {
            float *before = get_params(net, NULL), *after;
            bp_status s = bp_train_step(net, x, y, batch, rates[r], NULL);
            after = get_params(net, NULL);
            if (s == BP_ERROR_DIVERGED) {
                diverged = 1;
                CHECK(memcmp(before, after, n * sizeof *before) == 0,
                      "rate %g, step %d: BP_ERROR_DIVERGED but the parameters changed", (double)rates[r], step);
            } else {
                CHECK(s == BP_OK, "rate %g, step %d: %s", (double)rates[r], step, status_name(s));
                if (!all_finite(after, n) && nonfinite_ok++ == 0) {
                    bp_network *back = NULL;
                    size_t size = 0;
                    unsigned char *bytes = MODEL_BYTES(net, &size);
                    bp_status ls = load_buffer(bytes, size, &back);
                    CHECK(0,
                          "rate %g, step %d: bp_train_step returned BP_OK but left non-finite parameters "
                          "(a finite gradient times the rate overflowed); the saved model then loads with %s",
                          (double)rates[r], step, status_name(ls));
                    bp_destroy(back);
                    free(bytes);
                }
            }
            free(before);
            free(after);
        }
        CHECK(diverged, "rate %g: six steps never reported BP_ERROR_DIVERGED", (double)rates[r]);
        /* bp_update on its own, after a diverging bp_backward. */
        {
            float *before = get_params(net, NULL);
            EXPECT_OK(bp_forward(net, x, batch, NULL));
            if (bp_backward(net, y, batch, NULL) == BP_OK) {
                bp_status s = bp_update(net, rates[r]);
                CHECK(s == BP_ERROR_DIVERGED, "rate %g: bp_update after a diverged step: %s", (double)rates[r],
                      status_name(s));
                CHECK(params_equal_to(net, before, n), "rate %g: bp_update changed the parameters", (double)rates[r]);
            }
            free(before);
        }
        free(x);
        free(y);
        bp_destroy(net);
    }
}

static void case_diverged_nan_from_softmax(void)
{
    /* Softmax + cross-entropy with extreme logits: the library's fused, stable δ must either
     * train normally or report divergence; never NaN parameters. */
    const net_desc d = {2, {3, 4}, {BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};
    bp_network *net = CREATE_DESC(&d, 25);
    size_t n = bp_parameter_count(net), batch = 3;
    float x[9] = {1e20f, -1e20f, 3e19f, -2e20f, 5e19f, 1e18f, 3e38f, -3e38f, 3e38f};
    float y[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
    float *before = get_params(net, NULL), *after;
    bp_status s = bp_train_step(net, x, y, batch, 0.1f, NULL);
    after = get_params(net, NULL);
    CHECK(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_train_step: %s", status_name(s));
    if (s == BP_ERROR_DIVERGED)
        CHECK(memcmp(before, after, n * sizeof *before) == 0, "diverged but the parameters changed");
    else
        CHECK(all_finite(after, n), "BP_OK but the parameters are not finite");
    free(before);
    free(after);
    bp_destroy(net);
}

/*-************************************************************************
 *  Cases: sizes beyond the machine
 **************************************************************************/
static void case_absurd_create(void)
{
    struct {
        size_t layers;
        size_t sizes[4];
    } cases[] = {
        {3, {(size_t)1 << 24, (size_t)1 << 24, 10}}, /* 2^48 weights: 1 PiB */
        {2, {(size_t)1 << 24, (size_t)1 << 24}},
        {3, {(size_t)1 << 24, (size_t)1 << 12, 1}},  /* 2^36 floats: 256 GiB */
        {4, {(size_t)1 << 24, (size_t)1 << 24, (size_t)1 << 24, (size_t)1 << 24}},
    };
    int32_t acts[3] = {BP_RELU, BP_RELU, BP_LINEAR};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bp_network *net = (bp_network *)&g_rng;
        int32_t a[3];
        bp_status s;
        memcpy(a, acts + (3 - (cases[i].layers - 1)), (cases[i].layers - 1) * sizeof *a);
        s = bp_create(cases[i].sizes, cases[i].layers, a, BP_LOSS_MSE, 1, &net);
        CHECK(s == BP_ERROR_OUT_OF_MEMORY, "case %zu (%zu x %zu ...): %s, expected BP_ERROR_OUT_OF_MEMORY; \"%s\"", i,
              cases[i].sizes[0], cases[i].sizes[1], status_name(s), last_error());
        CHECK(net == NULL, "*out not NULL");
    }
    /* 1024 layers of 2^24: either out of memory or a size overflow, never a crash. */
    {
        size_t *sizes = xmalloc(1024 * sizeof *sizes);
        int32_t *a = xmalloc(1023 * sizeof *a);
        bp_network *net = NULL;
        bp_status s;
        for (size_t l = 0; l < 1024; l++)
            sizes[l] = (size_t)1 << 24;
        for (size_t l = 0; l < 1023; l++)
            a[l] = BP_TANH;
        s = bp_create(sizes, 1024, a, BP_LOSS_MSE, 1, &net);
        CHECK(s == BP_ERROR_OUT_OF_MEMORY || s == BP_ERROR_SIZE_OVERFLOW, "1024 layers of 2^24 units: %s",
              status_name(s));
        free(sizes);
        free(a);
    }
}

static void case_absurd_create_address_space_limit(void)
{
    /* Allocation failures that are not predicted from the machine's memory: with the
     * address space limited to 1 GiB more than is mapped, a network of 2 x 630 MB
     * (parameters + gradients) must fail cleanly with BP_ERROR_OUT_OF_MEMORY, in the
     * middle of bp_create (the parameters are allocated, the gradients are not).
     * BP_TEST_NO_RLIMIT=1 skips it (AddressSanitizer and valgrind manage the address
     * space themselves). */
    const char *skip = getenv("BP_TEST_NO_RLIMIT");
    struct rlimit lim;
    pid_t pid;
    int status = 0;
    if (skip != NULL && skip[0] == '1') {
        printf("  info  address-space limit case skipped (BP_TEST_NO_RLIMIT=1)\n");
        CHECK(1, "skipped");
        return;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        size_t sizes[] = {(size_t)1 << 20, 150, 1}; /* 157M parameters: 630 MB for each buffer */
        int32_t acts[] = {BP_RELU, BP_LINEAR};
        bp_network *net = NULL;
        bp_status s;
        unsigned long vm_pages = 0;
        FILE *statm = fopen("/proc/self/statm", "r");
        if (statm != NULL) {
            if (fscanf(statm, "%lu", &vm_pages) != 1)
                vm_pages = 0;
            fclose(statm);
        }
        /* What is mapped now, plus 1 GiB: room for the parameters, not for the gradients too. */
        lim.rlim_cur = lim.rlim_max = (rlim_t)vm_pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
        if (setrlimit(RLIMIT_AS, &lim) != 0)
            _exit(3);
        s = bp_create(sizes, 3, acts, BP_LOSS_MSE, 1, &net);
        if (s == BP_OK) {
            bp_destroy(net);
            _exit(4); /* got 630 MB in 1 GiB: fine, but nothing tested */
        }
        _exit(s == BP_ERROR_OUT_OF_MEMORY && bp_last_error()[0] != '\0' ? 0 : 10 + (int)s);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CHECK(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 4),
          "bp_create under a 1 GiB address-space limit: %s (exit %d)",
          WIFSIGNALED(status) ? "crashed" : "wrong status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
        printf("  info  bp_create fit in a 1 GiB address space; the allocation-failure path was not reached\n");
}

static void case_absurd_batches(void)
{
    /* 1 input, 2^20 hidden units, 1 output: a small network (12 MB). A batch of 2^22
     * samples (a real 16 MB input array) needs 2^42 hidden activations (16 TiB). */
    size_t sizes[] = {1, (size_t)1 << 20, 1};
    int32_t acts[] = {BP_RELU, BP_LINEAR};
    bp_network *net = NULL;
    size_t batch = (size_t)1 << 22, n;
    float *x, *y, *out, *before, *grads_before, *grads_after, small_x[2] = {0.5f, -0.5f}, small_y[2] = {1.0f, 0.0f};
    EXPECT_OK(bp_create(sizes, 3, acts, BP_LOSS_MSE, 5, &net));
    if (net == NULL)
        return;
    n = bp_parameter_count(net);
    x = xmalloc(batch * sizeof *x);
    y = xmalloc(batch * sizeof *y);
    out = xmalloc(batch * sizeof *out);
    for (size_t i = 0; i < batch; i++) {
        x[i] = (float)(i % 7) * 0.1f;
        y[i] = 0.5f;
    }
    /* Pending gradients from a small batch, which the failed calls must not disturb. */
    EXPECT_OK(bp_forward(net, small_x, 2, NULL));
    EXPECT_OK(bp_backward(net, small_y, 2, NULL));
    before = get_params(net, NULL);
    grads_before = xmalloc(n * sizeof *grads_before);
    grads_after = xmalloc(n * sizeof *grads_after);
    EXPECT_OK(bp_get_gradients(net, grads_before, n));

    EXPECT(bp_forward(net, x, batch, out), BP_ERROR_OUT_OF_MEMORY);
    EXPECT(bp_forward(net, x, batch, NULL), BP_ERROR_OUT_OF_MEMORY);
    EXPECT(bp_predict(net, x, batch, out), BP_ERROR_OUT_OF_MEMORY);
    EXPECT(bp_train_step(net, x, y, batch, 0.1f, NULL), BP_ERROR_OUT_OF_MEMORY);
    CHECK(params_equal_to(net, before, n), "a failed huge batch changed the parameters");
    EXPECT_OK(bp_get_gradients(net, grads_after, n));
    CHECK(memcmp(grads_before, grads_after, n * sizeof *grads_after) == 0, "a failed huge batch changed the gradients");
    /* Still usable: the pending gradients apply, and small batches work. */
    EXPECT_OK(bp_update(net, 0.1f));
    EXPECT_OK(bp_train_step(net, small_x, small_y, 2, 0.1f, NULL));
    EXPECT_OK(bp_predict(net, small_x, 2, out));

    /* batch x width overflows size_t: refused before any input is read (the inputs
     * pointer here holds only 2 floats). */
    {
        size_t w[] = {3, (size_t)1 << 20, 2};
        int32_t a2[] = {BP_TANH, BP_LINEAR};
        bp_network *wide = NULL;
        size_t huge[] = {SIZE_MAX / 2, SIZE_MAX / 3 + 1, SIZE_MAX, (size_t)1 << 63, ((size_t)1 << 62) + 1};
        EXPECT_OK(bp_create(w, 3, a2, BP_LOSS_MSE, 1, &wide));
        for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
            bp_status s1 = bp_forward(wide, small_x, huge[i], NULL);
            bp_status s2 = bp_predict(wide, small_x, huge[i], out);
            bp_status s3 = bp_train_step(wide, small_x, small_y, huge[i], 0.1f, NULL);
            bp_status s4 = bp_backward(wide, small_y, huge[i], NULL);
            CHECK(s1 == BP_ERROR_SIZE_OVERFLOW && s2 == BP_ERROR_SIZE_OVERFLOW && s3 == BP_ERROR_SIZE_OVERFLOW,
                  "batch %zu: forward %s, predict %s, train_step %s; expected BP_ERROR_SIZE_OVERFLOW", huge[i],
                  status_name(s1), status_name(s2), status_name(s3));
            CHECK(s4 != BP_OK, "batch %zu: backward %s", huge[i], status_name(s4));
        }
        bp_destroy(wide);
    }
    free(x);
    free(y);
    free(out);
    free(before);
    free(grads_before);
    free(grads_after);
    bp_destroy(net);
}

/*-************************************************************************
 *  Runner
 **************************************************************************/
static const test_case CASES[] = {
    {"round_trip_buffer", case_round_trip_buffer},
    {"round_trip_file", case_round_trip_file},
    {"relative_and_odd_paths", case_relative_and_odd_paths},
    {"pending_gradients", case_pending_gradients},
    {"round_trip_optimizers", case_round_trip_optimizers},
    {"fit_checkpoint_and_divergence", case_fit_checkpoint_and_divergence},
    {"save_to_buffer", case_save_to_buffer},
    {"load_arguments", case_load_arguments},
    {"load_magic", case_load_magic},
    {"load_version", case_load_version},
    {"load_every_truncation", case_load_every_truncation},
    {"load_every_byte_flip", case_load_every_byte_flip},
    {"load_corrupt_fields", case_load_corrupt_fields},
    {"load_gradient_values", case_load_gradient_values},
    {"load_corrupt_optimizer", case_load_corrupt_optimizer},
    {"load_huge_declared_sizes", case_load_huge_declared_sizes},
    {"load_io_errors", case_load_io_errors},
    {"load_fifo", case_load_fifo},
    {"interposition_works", case_interposition_works},
    {"atomic_save_faults", case_atomic_save_faults},
    {"save_benign_syscalls", case_save_benign_syscall_behaviour},
    {"save_directory_fsync_fails", case_save_directory_fsync_fails},
    {"save_io_errors", case_save_io_errors},
    {"diverged_overflowing_inputs", case_diverged_overflowing_inputs},
    {"diverged_huge_learning_rate", case_diverged_huge_learning_rate},
    {"diverged_softmax_extremes", case_diverged_nan_from_softmax},
    {"options_extreme_values", case_options_extreme_values},
    {"absurd_create", case_absurd_create},
    {"absurd_create_rlimit", case_absurd_create_address_space_limit},
    {"absurd_batches", case_absurd_batches},
};

static void banner(void)
{
    resolve_real();
    /* The parent never calls the library: the header allows using it in a fork()ed child
     * only if the parent had not used it (the Swift runtime's locks do not survive fork). */
    printf("libbackprop persistence and robustness tests (header %s)\n", BP_VERSION_STRING);
}

int main(int argc, char **argv)
{
    /* fork() only, no exec: valgrind (--trace-children=no) checks every case's process. */
    static const harness_suite suite = {"test_persistence", CASES, sizeof CASES / sizeof CASES[0], 28, 600, 0,
                                        banner};
    return harness_main(&suite, argc, argv);
}
