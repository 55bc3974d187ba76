/*
 * test_persistence_faults.c — test_persistence cases on atomic saves against failing
 * system calls. This file defines write(), fsync() and rename() for the whole program,
 * which take the place of libc's for the library's calls (they forward to libc through
 * dlsym(RTLD_NEXT) unless a failure is armed). The cases first check that the library's
 * calls really arrive here; then a save that fails half-way (ENOSPC after a short write,
 * EIO from write or fsync, a failing rename) must return BP_ERROR_IO naming the path and
 * the reason, leave the previous file intact and no temporary file behind; short writes
 * and EINTR must not fail a save; a failing fsync of the directory after the rename
 * leaves the new model in place.
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#include "test_persistence.h"

#include <dlfcn.h>

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

void resolve_real(void)
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

ssize_t report_write(int fd, const void *buf, size_t count)
{
    resolve_real();
    return g_real_write(fd, buf, count);
}

/*-************************************************************************
 *  Cases: atomic saves against failing system calls
 **************************************************************************/
static int g_interposed; /* whether the library's calls reach the definitions above */

void case_interposition_works(void)
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

void case_atomic_save_faults(void)
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

void case_save_benign_syscalls(void)
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

void case_save_directory_fsync_fails(void)
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
