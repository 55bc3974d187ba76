/*
 * test_api_status.c — test_api cases on what the library says about itself and about
 * failures: bp_version() and the ABI version against the header's macros, bp_kernels(),
 * bp_status_string() for every status and for unknown values (non-empty, all distinct),
 * and bp_last_error(): "" in a fresh process and on a fresh thread, kept by successful
 * calls, replaced by the next failure, thread-local.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

/*-************************************************************************
 *  Cases: version, status strings, last error
 **************************************************************************/
void case_version(void)
{
    char expected[64];
    const char *v = bp_version();
    CHECK(bp_abi_version() == BP_ABI_VERSION, "bp_abi_version() = %u, BP_ABI_VERSION = %u",
          (unsigned)bp_abi_version(), (unsigned)BP_ABI_VERSION);
    CHECK(v != NULL, "bp_version() is NULL");
    if (v == NULL)
        return;
    CHECK(strcmp(v, BP_VERSION_STRING) == 0, "bp_version() = \"%s\", BP_VERSION_STRING = \"%s\"", v,
          BP_VERSION_STRING);
    CHECK(bp_version() == v, "bp_version() is not one static string (two calls, two pointers)");
    snprintf(expected, sizeof expected, "%d.%d.%d", BP_VERSION_MAJOR, BP_VERSION_MINOR, BP_VERSION_PATCH);
    CHECK(strcmp(expected, BP_VERSION_STRING) == 0, "BP_VERSION_STRING \"%s\" disagrees with MAJOR.MINOR.PATCH \"%s\"",
          BP_VERSION_STRING, expected);
}

void case_kernels(void)
{
    const char *k = bp_kernels();
    const char *forced = getenv("BACKPROP_KERNELS");
    /* The CPUs that run these tests have what every build needs (scripts/test-package
     * runs Tests/c/test_cpu_baseline.c where they do not). */
    EXPECT_OK(bp_check_cpu());
    CHECK(k != NULL, "bp_kernels() is NULL");
    if (k == NULL)
        return;
    CHECK(strcmp(k, "avx512") == 0 || strcmp(k, "portable") == 0, "bp_kernels() = \"%s\"", k);
    CHECK(bp_kernels() == k, "bp_kernels() is not one static string (two calls, two pointers)");
    if (forced != NULL && strcmp(forced, "portable") == 0)
        CHECK(strcmp(k, "portable") == 0, "BACKPROP_KERNELS=portable, yet bp_kernels() = \"%s\"", k);
}

#define LAST_STATUS BP_ERROR_PEER_FAILED

void case_status_strings(void)
{
    const bp_status unknown[] = {12345, -1, LAST_STATUS + 1, INT32_MAX, INT32_MIN};
    const char *known[LAST_STATUS + 1];
    const char *unknown0 = bp_status_string(12345);
    for (bp_status s = 0; s <= LAST_STATUS; s++) {
        known[s] = bp_status_string(s);
        CHECK(known[s] != NULL && strlen(known[s]) > 0, "bp_status_string(%d) is NULL or empty", (int)s);
    }
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *u = bp_status_string(unknown[i]);
        CHECK(u != NULL && strlen(u) > 0, "bp_status_string(%d) (an unknown value) is NULL or empty",
              (int)unknown[i]);
    }
    /* Each known status has its own description, different from the unknown one. */
    for (int i = 0; i <= LAST_STATUS; i++) {
        if (known[i] == NULL)
            continue;
        if (unknown0 != NULL)
            CHECK(strcmp(known[i], unknown0) != 0, "bp_status_string(%d) = \"%s\" is the unknown-status text", i,
                  known[i]);
        for (int j = i + 1; j <= LAST_STATUS; j++)
            if (known[j] != NULL)
                CHECK(strcmp(known[i], known[j]) != 0, "bp_status_string(%d) and (%d) are both \"%s\"", i, j,
                      known[i]);
    }
}

typedef struct {
    int initially_empty;   /* bp_last_error() was "" when the thread started */
    int failed_as_expected;
    char message[512];     /* bp_last_error() after the thread's own failure */
} error_thread_result;

static void *error_thread(void *arg)
{
    error_thread_result *r = arg;
    const char *e = bp_last_error();
    r->initially_empty = e != NULL && e[0] == '\0';
    r->failed_as_expected = bp_update(NULL, 0.5f) == BP_ERROR_NULL_ARGUMENT;
    e = bp_last_error();
    snprintf(r->message, sizeof r->message, "%s", e != NULL ? e : "");
    return NULL;
}

void case_last_error(void)
{
    char saved[512];
    const char *e = bp_last_error();
    pthread_t t;
    error_thread_result r;
    bp_network *net;

    /* Fresh process (each case runs in a new child): no call has failed yet. */
    CHECK(e != NULL && strcmp(e, "") == 0, "bp_last_error() before any failure is \"%s\", expected \"\"",
          last_error());

    EXPECT_ERR(bp_update(NULL, 1.0f), BP_ERROR_NULL_ARGUMENT, "net");
    snprintf(saved, sizeof saved, "%s", last_error());
    CHECK(strlen(saved) > 0, "no message after a failure");

    /* Successful calls do not clear it. */
    net = CREATE_DESC(&XOR_NET, 1);
    CHECK(bp_parameter_count(net) == 17, "parameter count");
    (void)bp_version();
    CHECK(strcmp(last_error(), saved) == 0, "a successful call changed bp_last_error() from \"%s\" to \"%s\"",
          saved, last_error());

    /* Thread-local: a new thread starts with "", and its failure does not touch ours. */
    memset(&r, 0, sizeof r);
    CHECK(pthread_create(&t, NULL, error_thread, &r) == 0, "pthread_create");
    pthread_join(t, NULL);
    CHECK(r.initially_empty, "bp_last_error() on a new thread is not \"\" (another thread's message leaked?)");
    CHECK(r.failed_as_expected, "bp_update(NULL, 0.5) on another thread did not return BP_ERROR_NULL_ARGUMENT");
    CHECK(strlen(r.message) > 0, "bp_last_error() on the other thread is empty after its failure");
    CHECK(strcmp(last_error(), saved) == 0, "another thread's failure changed this thread's message to \"%s\"",
          last_error());

    /* A new failure replaces the message. */
    EXPECT_ERR(bp_get_parameters(net, NULL, 17), BP_ERROR_NULL_ARGUMENT, "out");
    bp_destroy(net);
}
