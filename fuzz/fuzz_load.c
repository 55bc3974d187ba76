/*
 * fuzz_load.c — libFuzzer target for bp_load_from_buffer().
 *
 * Every input is loaded twice: as it is, and with its last 4 bytes replaced by the CRC-32
 * of the bytes before them (so that mutations get past the checksum and reach the checks
 * behind it). For each load:
 *  - a failure must be one of the model errors (or BP_ERROR_OUT_OF_MEMORY), leave *out
 *    NULL and have a non-empty bp_last_error();
 *  - a success must give a usable network: the re-saved model loads again and re-saves to
 *    the same bytes with the same parameters; bp_forward() and bp_predict() agree bit for
 *    bit; a training step either succeeds or reports BP_ERROR_DIVERGED with the
 *    parameters unchanged.
 * Any violation abort()s, which libFuzzer reports as a crash with the input saved.
 *
 * Build and run: scripts/fuzz (see there).
 */
#define FUZZ_TARGET "fuzz_load"
#include "fuzz_support.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../Tests/c/model_crc.h" /* crc32_of, fix_crc: the model format's CRC-32 */

static int is_load_error(bp_status s)
{
    return s == BP_ERROR_NOT_A_MODEL || s == BP_ERROR_UNSUPPORTED_VERSION || s == BP_ERROR_TRUNCATED ||
           s == BP_ERROR_CHECKSUM_MISMATCH || s == BP_ERROR_CORRUPT_MODEL || s == BP_ERROR_OUT_OF_MEMORY;
}

static void exercise(bp_network *net, const uint8_t *data, size_t size)
{
    size_t n_in = bp_input_size(net), n_out = bp_output_size(net), n = 0, n2 = 0, z1 = 0, z2 = 0;
    size_t batch = 2;
    uint8_t *b1, *b2;
    bp_network *again = NULL;
    float *p1, *p2, *x, *y, *o1, *o2;
    bp_status s;

    REQUIRE(n_in >= 1 && n_out >= 1 && bp_layer_count(net) >= 2, "a loaded network with impossible sizes");
    /* Round trip of what was loaded. */
    b1 = written_bytes(bp_save_to_buffer, net, &z1);
    s = bp_load_from_buffer(b1, z1, &again);
    REQUIRE(s == BP_OK && again != NULL, "the re-saved model does not load: status %d", (int)s);
    b2 = written_bytes(bp_save_to_buffer, again, &z2);
    REQUIRE(z1 == z2 && memcmp(b1, b2, z1) == 0, "saving, loading and saving again changes the bytes");
    p1 = params(net, &n);
    p2 = params(again, &n2);
    REQUIRE(n == n2 && memcmp(p1, p2, n * sizeof *p1) == 0, "the reloaded parameters differ");
    /* A loaded model must be finite (docs/format.md). */
    for (size_t i = 0; i < n; i++)
        REQUIRE(isfinite(p1[i]), "a loaded parameter is not finite");

    /* Inference: bp_forward and bp_predict agree. Inputs derived from the data. */
    if (n_in * batch <= (1u << 20) && n_out * batch <= (1u << 20)) {
        x = xmalloc(n_in * batch * sizeof *x);
        y = xmalloc(n_out * batch * sizeof *y);
        o1 = xmalloc(n_out * batch * sizeof *o1);
        o2 = xmalloc(n_out * batch * sizeof *o2);
        for (size_t i = 0; i < n_in * batch; i++)
            x[i] = (float)((int)data[i % size] - 128) / 64.0f;
        for (size_t i = 0; i < n_out * batch; i++)
            y[i] = (i % n_out) == (i / n_out) % n_out ? 1.0f : 0.0f;
        s = bp_forward(again, x, batch, o1);
        REQUIRE(s == BP_OK, "bp_forward on a loaded network: %d", (int)s);
        s = bp_predict(again, x, batch, o2);
        REQUIRE(s == BP_OK, "bp_predict on a loaded network: %d", (int)s);
        REQUIRE(memcmp(o1, o2, n_out * batch * sizeof *o1) == 0, "bp_forward and bp_predict disagree");
        /* Pending gradients of the model, then a step of new ones: no crash, and a
         * divergence leaves the parameters alone. */
        s = bp_update(net, 0.01f);
        REQUIRE(s == BP_OK || s == BP_ERROR_STATE || s == BP_ERROR_DIVERGED, "bp_update after loading: %d", (int)s);
        free(p1);
        p1 = params(net, &n);
        s = bp_train_step(net, x, y, batch, 0.01f, NULL);
        REQUIRE(s == BP_OK || s == BP_ERROR_DIVERGED, "bp_train_step after loading: %d", (int)s);
        if (s == BP_ERROR_DIVERGED) {
            free(p2);
            p2 = params(net, &n2);
            REQUIRE(memcmp(p1, p2, n * sizeof *p1) == 0, "a diverged step changed the parameters");
        }
        free(x);
        free(y);
        free(o1);
        free(o2);
    }
    free(p1);
    free(p2);
    free(b1);
    free(b2);
    bp_destroy(again);
}

static void load_one(const uint8_t *data, size_t size)
{
    bp_network *net = (bp_network *)(uintptr_t)1; /* must be overwritten */
    /* An exact-size heap copy, so that AddressSanitizer catches any read past the end. */
    uint8_t *copy = xmalloc(size);
    bp_status s;
    if (size > 0)
        memcpy(copy, data, size);
    s = bp_load_from_buffer(copy, size, &net);
    if (s != BP_OK) {
        const char *e = bp_last_error();
        REQUIRE(is_load_error(s), "bp_load_from_buffer returned status %d", (int)s);
        REQUIRE(net == NULL, "*out is not NULL after a failure");
        REQUIRE(e != NULL && e[0] != '\0', "empty bp_last_error() after status %d", (int)s);
    } else {
        REQUIRE(net != NULL, "BP_OK without a network");
        exercise(net, copy, size > 0 ? size : 1);
        bp_destroy(net);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t empty[1] = {0};
    load_one(size > 0 ? data : empty, size);
    if (size >= 12) {
        uint8_t *fixed = xmalloc(size);
        memcpy(fixed, data, size);
        fix_crc(fixed, size);
        load_one(fixed, size);
        free(fixed);
    }
    return 0;
}
