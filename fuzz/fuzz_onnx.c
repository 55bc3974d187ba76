/*
 * fuzz_onnx.c — libFuzzer target for bp_import_onnx_from_buffer().
 *
 * Every input is imported as an ONNX model, with the loss chosen from the library's own
 * metadata (BP_ONNX_LOSS_AUTO). For each import:
 *  - a failure must be one of the statuses the header lists for bp_import_onnx() (never
 *    another), leave *out NULL and have a non-empty bp_last_error();
 *  - a success must give a usable network: its export imports again with the same
 *    parameters and re-exports to the same bytes, and bp_predict() runs on it.
 * Any violation abort()s, which libFuzzer reports as a crash with the input saved.
 *
 * Build and run: scripts/fuzz SECONDS onnx (see there).
 */
#define FUZZ_TARGET "fuzz_onnx"
#include "fuzz_support.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_import_error(bp_status s)
{
    return s == BP_ERROR_UNSUPPORTED_MODEL || s == BP_ERROR_CORRUPT_MODEL || s == BP_ERROR_TRUNCATED ||
           s == BP_ERROR_NOT_A_MODEL || s == BP_ERROR_INVALID_ARCHITECTURE || s == BP_ERROR_NON_FINITE ||
           s == BP_ERROR_SIZE_OVERFLOW || s == BP_ERROR_INVALID_ARGUMENT || s == BP_ERROR_OUT_OF_MEMORY;
}

static void exercise(bp_network *net, const uint8_t *data, size_t size)
{
    size_t n_in = bp_input_size(net), n_out = bp_output_size(net), n = 0, n2 = 0, z1 = 0, z2 = 0;
    const size_t batch = 3;
    uint8_t *b1, *b2;
    bp_network *again = NULL;
    float *p1, *p2;
    bp_status s;

    REQUIRE(n_in >= 1 && n_out >= 1 && bp_layer_count(net) >= 2, "an imported network with impossible sizes");
    b1 = written_bytes(bp_export_onnx_to_buffer, net, &z1);
    s = bp_import_onnx_from_buffer(b1, z1, BP_ONNX_LOSS_AUTO, &again);
    REQUIRE(s == BP_OK && again != NULL, "the export of an imported model does not import: status %d", (int)s);
    REQUIRE(bp_loss_function(again) == bp_loss_function(net), "the export does not keep the loss");
    b2 = written_bytes(bp_export_onnx_to_buffer, again, &z2);
    REQUIRE(z1 == z2 && memcmp(b1, b2, z1) == 0, "exporting, importing and exporting again changes the bytes");
    p1 = params(net, &n);
    p2 = params(again, &n2);
    REQUIRE(n == n2 && memcmp(p1, p2, n * sizeof *p1) == 0, "the re-imported parameters differ");
    if (n_in * batch <= (1u << 20) && n_out * batch <= (1u << 20)) {
        float *x = xmalloc(n_in * batch * sizeof *x), *o = xmalloc(n_out * batch * sizeof *o);
        for (size_t i = 0; i < n_in * batch; i++)
            x[i] = (float)((int)data[i % size] - 128) / 64.0f;
        s = bp_predict(again, x, batch, o);
        REQUIRE(s == BP_OK, "bp_predict on an imported network: %d", (int)s);
        free(x);
        free(o);
    }
    free(p1);
    free(p2);
    free(b1);
    free(b2);
    bp_destroy(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bp_network *net = (bp_network *)(uintptr_t)1; /* must be overwritten */
    /* An exact-size heap copy, so that AddressSanitizer catches any read past the end. */
    uint8_t *copy = xmalloc(size);
    bp_status s;
    if (size > 0)
        memcpy(copy, data, size);
    s = bp_import_onnx_from_buffer(copy, size, BP_ONNX_LOSS_AUTO, &net);
    if (s != BP_OK) {
        const char *e = bp_last_error();
        REQUIRE(is_import_error(s), "bp_import_onnx_from_buffer returned status %d", (int)s);
        REQUIRE(net == NULL, "*out is not NULL after a failure");
        REQUIRE(e != NULL && e[0] != '\0', "empty bp_last_error() after status %d", (int)s);
    } else {
        REQUIRE(net != NULL, "BP_OK without a network");
        exercise(net, copy, size > 0 ? size : 1);
        bp_destroy(net);
    }
    free(copy);
    return 0;
}
