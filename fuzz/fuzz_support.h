/*
 * fuzz_support.h — what the libFuzzer harnesses share: REQUIRE, which reports a violated
 * invariant with bp_last_error() and abort()s (libFuzzer then saves the input), and
 * allocation helpers that never return NULL. Define FUZZ_TARGET ("fuzz_load"...) first.
 */
#ifndef FUZZ_SUPPORT_H
#define FUZZ_SUPPORT_H

#include "backprop.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_TARGET
#error "define FUZZ_TARGET before including fuzz_support.h"
#endif

#define REQUIRE(cond, ...)                                                                                             \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, FUZZ_TARGET ": invariant violated at %s:%d: ", __FILE__, __LINE__);                       \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, " (bp_last_error: \"%s\")\n", bp_last_error());                                           \
            abort();                                                                                                   \
        }                                                                                                              \
    } while (0)

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        abort();
    return p;
}

/* A copy of the network's parameters (*n of them); the caller frees it. */
static float *params(const bp_network *net, size_t *n)
{
    float *p;
    *n = bp_parameter_count(net);
    p = xmalloc(*n * sizeof *p);
    REQUIRE(bp_get_parameters(net, p, *n) == BP_OK, "bp_get_parameters failed");
    return p;
}

/* What a (net, buffer, capacity, written) writer such as bp_save_to_buffer writes for the
 * network: *size bytes, sized by a first call; the caller frees them. */
typedef bp_status (*buffer_writer)(const bp_network *, void *, size_t, size_t *);

static unsigned char *written_bytes(buffer_writer write, const bp_network *net, size_t *size)
{
    size_t need = 0, written = 0;
    unsigned char *buf;
    REQUIRE(write(net, NULL, 0, &need) == BP_OK, "the size query failed");
    buf = xmalloc(need);
    REQUIRE(write(net, buf, need, &written) == BP_OK && written == need, "writing %zu bytes failed", need);
    *size = need;
    return buf;
}

#endif /* FUZZ_SUPPORT_H */
