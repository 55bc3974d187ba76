/*
 * harness.h — the test harness shared by the C tests of libbackprop (test_api_*.c,
 * test_persistence_*.c, test_threads.c, test_resources.c).
 *
 * Header-only C99; every function is static (and marked unused: a program uses only
 * some of them). Define the feature-test macro (_POSIX_C_SOURCE 200809L or _GNU_SOURCE)
 * before including it.
 *
 *  - Counters and CHECK(cond, printf-format, args...): counts a pass or prints
 *    "FAIL file:line [case]: message". Thread-safe (one mutex). In a case's child process
 *    each check is also reported to the parent as one byte ('p' or 'f') on a pipe, through
 *    HARNESS_REPORT_WRITE(fd, buf, n) (write() unless the program defines it first; in a
 *    program of several files, only its HARNESS_MAIN_FILE's definition counts).
 *  - The per-case runner, harness_main(): each case of a suite runs in a child process
 *    (fork, then, for suites with exec_children, exec of this program with
 *    "--child NAME"), so a crash or a timeout is a failed case and the other cases still
 *    run; one line per case ("  ok    NAME  N checks") and finally "N passed, M failed".
 *    BP_TEST_NO_FORK=1 runs everything in one process (for a debugger); a case name as
 *    the only argument runs just that case.
 *  - Status checks (EXPECT_OK, EXPECT_ERR), xmalloc, a deterministic generator
 *    (xorshift64*), network descriptions and CREATE_DESC, directory listing, and the
 *    model format's CRC-32 (model_crc.h).
 *
 * A program of several files (test_api, test_persistence: one file per topic) defines
 * HARNESS_MULTI_FILE before including this header in every file, and HARNESS_MAIN_FILE as
 * well in the one file that holds main() and the suite table. check_at() and the
 * generator's state g_rng then have external linkage and are defined in that file only,
 * so a check made in any file counts in the program's one total, is reported through the
 * one pipe to the parent, and every file draws from one sequence of numbers; the
 * counters and the runner exist in that file only. Everything else stays static in each
 * file. Without HARNESS_MULTI_FILE, everything is static (a one-file program).
 */
#ifndef BACKPROP_TESTS_HARNESS_H
#define BACKPROP_TESTS_HARNESS_H

#include "backprop.h"
#include "model_crc.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__GNUC__)
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define HARNESS_UNUSED __attribute__((unused))
#else
#define PRINTF_LIKE(f, a)
#define HARNESS_UNUSED
#endif

#ifndef HARNESS_REPORT_WRITE
#define HARNESS_REPORT_WRITE(fd, buf, n) write((fd), (buf), (n))
#endif

/*-************************************************************************
 *  Counters and CHECK
 **************************************************************************/
#if !defined(HARNESS_MULTI_FILE) || defined(HARNESS_MAIN_FILE)
#define HARNESS_OWNS_STATE 1 /* this file defines the counters, check_at(), g_rng and the runner */
#endif

#ifdef HARNESS_MULTI_FILE
#define HARNESS_PROGRAM_WIDE /* external linkage: one definition, in the HARNESS_MAIN_FILE */
void check_at(int ok, const char *file, int line, const char *fmt, ...) PRINTF_LIKE(4, 5);
extern uint64_t g_rng;
#else
#define HARNESS_PROGRAM_WIDE static
#endif

#ifdef HARNESS_OWNS_STATE
static pthread_mutex_t g_harness_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_passed;
static int g_failed;
static const char *g_case = "main";
static int g_report_fd = -1; /* write end of the pipe to the parent, in a case's child process */

HARNESS_UNUSED HARNESS_PROGRAM_WIDE void check_at(int ok, const char *file, int line, const char *fmt, ...)
    PRINTF_LIKE(4, 5);
HARNESS_UNUSED HARNESS_PROGRAM_WIDE void check_at(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    pthread_mutex_lock(&g_harness_lock);
    if (g_report_fd >= 0) { /* in a case's child process: tell the parent as we go */
        char c = ok ? 'p' : 'f';
        if (HARNESS_REPORT_WRITE(g_report_fd, &c, 1) != 1)
            g_report_fd = -1;
    }
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        printf("FAIL %s:%d [%s]: ", file, line, g_case);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
    }
    pthread_mutex_unlock(&g_harness_lock);
}

/* Prints the final "N passed, M failed" line; returns main's exit status (0 only if M is 0). */
HARNESS_UNUSED static int harness_finish(void)
{
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
#endif /* HARNESS_OWNS_STATE */

/* CHECK(condition, printf-format, args...): counts a pass or prints a failure. */
#define CHECK(cond, ...) check_at((cond) ? 1 : 0, __FILE__, __LINE__, __VA_ARGS__)

HARNESS_UNUSED static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes > 0 ? bytes : 1);
    if (p == NULL) {
        printf("test harness: out of memory\n");
        exit(2);
    }
    return p;
}

/*-************************************************************************
 *  Status checks
 **************************************************************************/
HARNESS_UNUSED static const char *last_error(void)
{
    const char *e = bp_last_error();
    return e != NULL ? e : "(NULL)";
}

HARNESS_UNUSED static const char *status_name(bp_status s)
{
    switch (s) {
    case BP_OK: return "BP_OK";
    case BP_ERROR_NULL_ARGUMENT: return "BP_ERROR_NULL_ARGUMENT";
    case BP_ERROR_INVALID_ARGUMENT: return "BP_ERROR_INVALID_ARGUMENT";
    case BP_ERROR_UNKNOWN_ENUM: return "BP_ERROR_UNKNOWN_ENUM";
    case BP_ERROR_INVALID_ARCHITECTURE: return "BP_ERROR_INVALID_ARCHITECTURE";
    case BP_ERROR_SIZE_MISMATCH: return "BP_ERROR_SIZE_MISMATCH";
    case BP_ERROR_SIZE_OVERFLOW: return "BP_ERROR_SIZE_OVERFLOW";
    case BP_ERROR_NON_FINITE: return "BP_ERROR_NON_FINITE";
    case BP_ERROR_STATE: return "BP_ERROR_STATE";
    case BP_ERROR_OUT_OF_MEMORY: return "BP_ERROR_OUT_OF_MEMORY";
    case BP_ERROR_DIVERGED: return "BP_ERROR_DIVERGED";
    case BP_ERROR_BUFFER_TOO_SMALL: return "BP_ERROR_BUFFER_TOO_SMALL";
    case BP_ERROR_IO: return "BP_ERROR_IO";
    case BP_ERROR_NOT_A_MODEL: return "BP_ERROR_NOT_A_MODEL";
    case BP_ERROR_UNSUPPORTED_VERSION: return "BP_ERROR_UNSUPPORTED_VERSION";
    case BP_ERROR_TRUNCATED: return "BP_ERROR_TRUNCATED";
    case BP_ERROR_CHECKSUM_MISMATCH: return "BP_ERROR_CHECKSUM_MISMATCH";
    case BP_ERROR_CORRUPT_MODEL: return "BP_ERROR_CORRUPT_MODEL";
    case BP_ERROR_UNSUPPORTED_MODEL: return "BP_ERROR_UNSUPPORTED_MODEL";
    case BP_ERROR_UNSUPPORTED_CPU: return "BP_ERROR_UNSUPPORTED_CPU";
    case BP_ERROR_PEER_FAILED: return "BP_ERROR_PEER_FAILED";
    default: return "(not a bp_status)";
    }
}

/* Checks that `got` is `want`; for an expected failure, also that bp_last_error() is not
 * empty. `arg` names the argument the call gets wrong (or NULL), for the failure message. */
HARNESS_UNUSED static bp_status expect_status_at(bp_status got, bp_status want, const char *arg, const char *file,
                                                 int line, const char *call)
{
    check_at(got == want, file, line, "%s returned %s (%d), expected %s (%d)%s%s%s; bp_last_error() = \"%s\"",
             call, status_name(got), (int)got, status_name(want), (int)want, arg ? " for a bad `" : "",
             arg ? arg : "", arg ? "`" : "", last_error());
    if (want != BP_OK && got == want) {
        const char *e = bp_last_error();
        check_at(e != NULL && strlen(e) > 0, file, line,
                 "%s: bp_last_error() is NULL or empty after a failed call", call);
    }
    return got;
}

#define EXPECT_OK(call) expect_status_at((call), BP_OK, NULL, __FILE__, __LINE__, #call)
/* EXPECT_ERR(call, status, name of the bad argument or NULL) */
#define EXPECT_ERR(call, want, arg) expect_status_at((call), (want), (arg), __FILE__, __LINE__, #call)

/*-************************************************************************
 *  Deterministic test data (xorshift64*), independent of the library
 **************************************************************************/
#define HARNESS_RNG_DEFAULT UINT64_C(0x9E3779B97F4A7C15)

#ifdef HARNESS_OWNS_STATE
HARNESS_PROGRAM_WIDE uint64_t g_rng = HARNESS_RNG_DEFAULT; /* the generator of rng_unit() and random_floats() */
#endif

/* [0, 1) from the generator state *s (one state per thread where threads draw numbers). */
HARNESS_UNUSED static double rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * UINT64_C(0x2545F4914F6CDD1D)) >> 11) * (1.0 / 9007199254740992.0);
}

HARNESS_UNUSED static void rng_seed(uint64_t s)
{
    g_rng = s ? s : HARNESS_RNG_DEFAULT;
}

HARNESS_UNUSED static double rng_unit(void) /* [0, 1) */
{
    return rng_next(&g_rng);
}

/* n floats uniform in [lo, hi) (malloc'd) from the generator state *s. */
HARNESS_UNUSED static float *random_floats_from(uint64_t *s, size_t n, double lo, double hi)
{
    float *p = xmalloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)(lo + (hi - lo) * rng_next(s));
    return p;
}

HARNESS_UNUSED static float *random_floats(size_t n, double lo, double hi)
{
    return random_floats_from(&g_rng, n, lo, hi);
}

HARNESS_UNUSED static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/*-************************************************************************
 *  Network descriptions
 **************************************************************************/
#define MAX_LAYERS 8

typedef struct {
    size_t layers;
    size_t sizes[MAX_LAYERS];
    int32_t acts[MAX_LAYERS]; /* layers - 1 entries */
    int32_t loss;
} net_desc;

HARNESS_UNUSED static size_t desc_param_count(const net_desc *d)
{
    size_t n = 0;
    for (size_t l = 1; l < d->layers; l++)
        n += d->sizes[l] * d->sizes[l - 1] + d->sizes[l];
    return n;
}

HARNESS_UNUSED static size_t desc_output_size(const net_desc *d)
{
    return d->sizes[d->layers - 1];
}

/* bp_create() from a description, with exact-size heap copies of the arrays. */
HARNESS_UNUSED static bp_network *create_desc_at(const net_desc *d, uint64_t seed, const char *file, int line)
{
    size_t *sizes = xmalloc(d->layers * sizeof *sizes);
    int32_t *acts = xmalloc((d->layers - 1) * sizeof *acts);
    bp_network *net = NULL;
    memcpy(sizes, d->sizes, d->layers * sizeof *sizes);
    memcpy(acts, d->acts, (d->layers - 1) * sizeof *acts);
    expect_status_at(bp_create(sizes, d->layers, acts, d->loss, seed, &net), BP_OK, NULL, file, line,
                     "bp_create(...)");
    check_at(net != NULL, file, line, "bp_create returned BP_OK but *out is NULL");
    /* The library must not keep these pointers: scribble and free them right away. */
    memset(sizes, 0xA5, d->layers * sizeof *sizes);
    memset(acts, 0xA5, (d->layers - 1) * sizeof *acts);
    free(sizes);
    free(acts);
    return net;
}
#define CREATE_DESC(d, seed) create_desc_at((d), (seed), __FILE__, __LINE__)

/*-************************************************************************
 *  Directories
 **************************************************************************/
/* The names in dir other than . and .., separated by spaces, in readdir order, into
 * names (cap bytes; names may be NULL when cap is 0); returns their count, or -1 if dir
 * cannot be opened. */
HARNESS_UNUSED static int list_dir(const char *dir, char *names, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int count = 0;
    size_t used = 0;
    if (cap > 0)
        names[0] = '\0';
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        count++;
        if (used < cap)
            used += (size_t)snprintf(names + used, cap - used, "%s%s", used ? " " : "", e->d_name);
    }
    closedir(d);
    return count;
}

/* The number of entries in dir other than . and .. (0 if it cannot be opened). */
HARNESS_UNUSED static size_t count_dir_entries(const char *dir)
{
    int n = list_dir(dir, NULL, 0);
    return n > 0 ? (size_t)n : 0;
}

/*-************************************************************************
 *  The per-case runner
 **************************************************************************/
typedef struct {
    const char *name;
    void (*fn)(void);
} test_case;

typedef struct {
    const char *program;       /* for messages, e.g. "test_api" */
    const test_case *cases;
    size_t count;
    int name_width;            /* of the case name in the per-case lines */
    unsigned timeout_seconds;  /* alarm() in each case's process */
    int exec_children;         /* 1: fork + exec "--child NAME"; 0: fork only */
    void (*banner)(void);      /* prints the first line (in the parent only); may be NULL */
} harness_suite;

#define HARNESS_MEMCHECK_EXITCODE 99 /* valgrind --error-exitcode=99, ASAN_OPTIONS=exitcode=99 */
#define HARNESS_EXEC_FAILED_EXITCODE 127

#ifdef HARNESS_OWNS_STATE
static const char *g_self = "test"; /* argv[0], re-executed for each case */

/* Runs one case in a fresh process. With exec_children: fork, then exec this program with
 * "--child NAME". exec rather than fork alone, because a forked child of a process that
 * has loaded the Swift runtime is not a normal process: the runtime's Linux locks cache
 * each thread's TID in thread-local storage, and the child's main thread inherits the
 * parent's, which makes the child hang when its main thread and another thread contend for
 * a runtime lock. A fork-only suite's parent must never call the library. */
HARNESS_UNUSED static void harness_run_case(const harness_suite *suite, const test_case *tc, int fork_cases,
                                            const char *only)
{
    int before_pass = g_passed, before_fail = g_failed;
    g_case = tc->name;
    if (only != NULL && strcmp(only, tc->name) != 0)
        return;
    if (!fork_cases) {
        tc->fn();
    } else {
        int fds[2], status = 0;
        char buf[256];
        ssize_t r;
        pid_t pid;
        fflush(stdout);
        fflush(stderr);
        if (pipe(fds) != 0) {
            CHECK(0, "pipe() failed");
            return;
        }
        pid = fork();
        if (pid < 0) {
            close(fds[0]);
            close(fds[1]);
            CHECK(0, "fork() failed");
            return;
        }
        if (pid == 0 && suite->exec_children) {
            char fd_text[32];
            char *args[4];
            args[0] = (char *)g_self;
            args[1] = (char *)"--child";
            args[2] = (char *)tc->name;
            args[3] = NULL;
            close(fds[0]);
            snprintf(fd_text, sizeof fd_text, "%d", fds[1]);
            setenv("BP_TEST_REPORT_FD", fd_text, 1);
            execv(g_self, args);
            execv("/proc/self/exe", args);
            _exit(HARNESS_EXEC_FAILED_EXITCODE);
        }
        if (pid == 0) {
            close(fds[0]);
            g_report_fd = fds[1];
            alarm(suite->timeout_seconds);
            tc->fn();
            close(fds[1]);
            fflush(stdout);
            exit(0);
        }
        /* One byte per check, 'p' or 'f', so checks made before a crash still count. */
        close(fds[1]);
        while ((r = read(fds[0], buf, sizeof buf)) != 0) {
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                break;
            }
            for (ssize_t i = 0; i < r; i++) {
                if (buf[i] == 'p')
                    g_passed++;
                else
                    g_failed++;
            }
        }
        close(fds[0]);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (WIFSIGNALED(status)) {
            CHECK(0, "the case crashed: signal %d (%s)%s", WTERMSIG(status), strsignal(WTERMSIG(status)),
                  WTERMSIG(status) == SIGALRM ? ", timed out" : "");
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == HARNESS_MEMCHECK_EXITCODE) {
            CHECK(0, "the memory checker (valgrind or AddressSanitizer) reported errors or leaks in this case "
                     "(see its report above)");
        } else if (suite->exec_children && WIFEXITED(status) && WEXITSTATUS(status) == HARNESS_EXEC_FAILED_EXITCODE) {
            CHECK(0, "could not re-execute %s for this case", g_self);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            CHECK(0, "the case exited abnormally (status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
    }
    if (g_failed == before_fail)
        printf("  ok    %-*s %d checks\n", suite->name_width, tc->name, g_passed - before_pass);
    else
        printf("  FAIL  %-*s %d of %d checks failed\n", suite->name_width, tc->name, g_failed - before_fail,
               (g_passed - before_pass) + (g_failed - before_fail));
    fflush(stdout);
}

/* "--child NAME": run one case, reporting each check on the inherited pipe. */
HARNESS_UNUSED static int harness_run_child(const harness_suite *suite, const char *name)
{
    const char *fd = getenv("BP_TEST_REPORT_FD");
    g_report_fd = fd != NULL ? atoi(fd) : -1;
    alarm(suite->timeout_seconds);
    for (size_t i = 0; i < suite->count; i++) {
        if (strcmp(suite->cases[i].name, name) == 0) {
            g_case = suite->cases[i].name;
            suite->cases[i].fn();
            fflush(stdout);
            return 0;
        }
    }
    printf("%s: no case is named \"%s\"\n", suite->program, name);
    return 2;
}

/* The whole program: runs every case (or the one named by argv[1]) and prints the counts.
 * Returns main's exit status: 0 only if no check failed. */
HARNESS_UNUSED static int harness_main(const harness_suite *suite, int argc, char **argv)
{
    const char *nofork = getenv("BP_TEST_NO_FORK");
    int fork_cases = !(nofork != NULL && nofork[0] != '\0' && strcmp(nofork, "0") != 0);
    const char *only = argc > 1 ? argv[1] : NULL; /* optional: run one case by name */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc > 0 && argv[0] != NULL)
        g_self = argv[0];
    if (suite->exec_children && argc == 3 && strcmp(argv[1], "--child") == 0)
        return harness_run_child(suite, argv[2]);

    if (suite->banner != NULL)
        suite->banner();
    for (size_t i = 0; i < suite->count; i++)
        harness_run_case(suite, &suite->cases[i], fork_cases, only);
    g_case = "main";
    if (only != NULL && g_passed + g_failed == 0)
        CHECK(0, "no case is named \"%s\"", only);
    return harness_finish();
}
#endif /* HARNESS_OWNS_STATE */

#endif /* BACKPROP_TESTS_HARNESS_H */
