/*
 * test_api_model_files.c — test_api cases on model files and buffers through the API:
 * bp_save_to_buffer (size query, BP_ERROR_BUFFER_TOO_SMALL, exact), bp_load_from_buffer
 * giving the same network (parameters, pending gradients, options, continued training),
 * damaged models (not a model, truncated, version, checksum, corrupt under a valid CRC),
 * argument errors, and bp_save / bp_load of files in a directory of the test's own (no
 * temporary file left, over an existing file, missing paths, a text file).
 * Tests/c/test_persistence_*.c go much further.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

/*-************************************************************************
 *  Cases: model files
 **************************************************************************/
/* bp_load_from_buffer on `size` bytes of `bytes` must fail with `want` and clear *out. */
static void load_fail_at(const unsigned char *bytes, size_t size, bp_status want, const char *file, int line,
                         const char *what)
{
    unsigned char *copy = xmalloc(size);
    bp_network *out = SENTINEL;
    bp_status got;
    if (size > 0)
        memcpy(copy, bytes, size);
    got = bp_load_from_buffer(copy, size, &out);
    expect_status_at(got, want, NULL, file, line, what);
    check_at(out == NULL, file, line, "%s: *out is not NULL after a failed load", what);
    if (got == BP_OK && out != NULL && out != SENTINEL)
        bp_destroy(out);
    free(copy);
}
#define LOAD_FAIL(bytes, size, want, what) load_fail_at((bytes), (size), (want), __FILE__, __LINE__, (what))

void case_model_files(void)
{
    bp_network *net = CREATE_DESC(&XOR_NET, 71), *copy = NULL, *out;
    float *x = dup_floats(XOR_X, 8), *y = dup_floats(XOR_Y, 4), *pa, *pb, *ga, *gb;
    unsigned char *buf, *bad;
    size_t size = 0, written = 0, param_off;
    char dir[] = "/tmp/backprop-test-XXXXXX", path[256], missing[256], garbage[256];
    FILE *f;
    double va = 0, vb = 1;
    if (net == NULL) {
        free(x);
        free(y);
        return;
    }

    /* A network with optimizer state and gradients waiting to be applied. */
    EXPECT_OK(bp_set_option(net, BP_OPTION_OPTIMIZER, BP_OPTIMIZER_MOMENTUM));
    EXPECT_OK(bp_set_option(net, BP_OPTION_MOMENTUM, 0.75));
    EXPECT_OK(bp_train_step(net, x, y, 4, 0.5f, NULL));
    EXPECT_OK(bp_train_step(net, x, y, 4, 0.5f, NULL));
    EXPECT_OK(bp_forward(net, x, 4, NULL));
    EXPECT_OK(bp_backward(net, y, 4, NULL));

    /* Buffers: the size query, too small, exact. */
    EXPECT_OK(bp_save_to_buffer(net, NULL, 0, &size));
    CHECK(size > 64, "model size %zu", size);
    buf = xmalloc(size + 1);
    buf[size] = 0x5A;
    written = 0;
    EXPECT_ERR(bp_save_to_buffer(net, buf, size - 1, &written), BP_ERROR_BUFFER_TOO_SMALL, "capacity");
    CHECK(written == size, "BP_ERROR_BUFFER_TOO_SMALL: *written = %zu, expected the size %zu", written, size);
    EXPECT_ERR(bp_save_to_buffer(net, buf, 0, &written), BP_ERROR_BUFFER_TOO_SMALL, "capacity");
    written = 0;
    EXPECT_OK(bp_save_to_buffer(net, buf, size + 1, &written));
    CHECK(written == size && buf[size] == 0x5A, "saved %zu bytes into %zu (model size %zu)", written, size + 1,
          size);
    CHECK(memcmp(buf, "\x89" "BPM\r\n\x1a\n", 8) == 0, "the model does not start with the magic");

    /* Loading gives the same network: parameters, pending gradients, options, and the
     * same continued training; the activations were not saved. */
    EXPECT_OK(bp_load_from_buffer(buf, size, &copy));
    if (copy != NULL) {
        pa = GET_PARAMS(net, NULL);
        pb = GET_PARAMS(copy, NULL);
        CHECK(memcmp(pa, pb, 17 * sizeof *pa) == 0, "loaded parameters differ");
        free(pa);
        free(pb);
        ga = GET_GRADS(net);
        gb = GET_GRADS(copy);
        CHECK(memcmp(ga, gb, 17 * sizeof *ga) == 0, "loaded pending gradients differ");
        free(ga);
        free(gb);
        for (int32_t k = 1; k <= OPTION_COUNT; k++) {
            va = GET_OPTION(net, k);
            vb = GET_OPTION(copy, k);
            CHECK(va == vb, "option %d: %.17g saved, %.17g loaded", (int)k, va, vb);
        }
        EXPECT_ERR(bp_backward(copy, y, 4, NULL), BP_ERROR_STATE, NULL);
        EXPECT_OK(bp_update(net, 0.5f));
        EXPECT_OK(bp_update(copy, 0.5f));
        for (int i = 0; i < 5; i++) {
            EXPECT_OK(bp_train_step(net, x, y, 4, 0.5f, NULL));
            EXPECT_OK(bp_train_step(copy, x, y, 4, 0.5f, NULL));
        }
        pa = GET_PARAMS(net, NULL);
        pb = GET_PARAMS(copy, NULL);
        CHECK(memcmp(pa, pb, 17 * sizeof *pa) == 0, "continued training of the loaded network differs");
        free(pa);
        free(pb);
        bp_destroy(copy);
        copy = NULL;
    }

    /* Damaged models (docs/format.md). */
    bad = xmalloc(size + 1);
    memcpy(bad, buf, size);
    LOAD_FAIL((const unsigned char *)"hello, this is not a model at all", 33, BP_ERROR_NOT_A_MODEL, "text");
    LOAD_FAIL(buf, 5, BP_ERROR_TRUNCATED, "5 bytes of the magic");
    LOAD_FAIL(buf, 0, BP_ERROR_TRUNCATED, "0 bytes");
    LOAD_FAIL(buf, size - 1, BP_ERROR_TRUNCATED, "the model without its last byte");
    LOAD_FAIL(buf, size - 4, BP_ERROR_TRUNCATED, "the model without its CRC");
    LOAD_FAIL(buf, size - 5, BP_ERROR_TRUNCATED, "the model without its CRC and one more byte");
    LOAD_FAIL(buf, size / 2, BP_ERROR_TRUNCATED, "half the model");
    bad[size] = 0;
    LOAD_FAIL(bad, size + 1, BP_ERROR_CORRUPT_MODEL, "the model and a trailing byte");
    bad[0] ^= 0x01;
    LOAD_FAIL(bad, size, BP_ERROR_NOT_A_MODEL, "first magic byte changed");
    memcpy(bad, buf, size);
    put_u32(bad + 8, 3);
    LOAD_FAIL(bad, size, BP_ERROR_UNSUPPORTED_VERSION, "format version 3");
    memcpy(bad, buf, size);
    param_off = 20 + 8 * 3 + 4 * 2 + 4 + 8; /* the first parameter of a 3-layer model */
    bad[param_off + 5] ^= 0x10;
    LOAD_FAIL(bad, size, BP_ERROR_CHECKSUM_MISMATCH, "a parameter byte changed");
    memcpy(bad, buf, size);
    bad[size - 1] ^= 0x80;
    LOAD_FAIL(bad, size, BP_ERROR_CHECKSUM_MISMATCH, "the CRC changed");
    memcpy(bad, buf, size);
    put_u32(bad + 12, 7); /* loss 7, with a valid CRC */
    put_u32(bad + size - 4, crc32_of(bad, size - 4));
    LOAD_FAIL(bad, size, BP_ERROR_CORRUPT_MODEL, "loss 7 under a valid CRC");
    memcpy(bad, buf, size);
    put_u32(bad + size - 4, crc32_of(bad, size - 4));
    out = NULL;
    EXPECT_OK(bp_load_from_buffer(bad, size, &out)); /* our CRC-32 agrees with the library's */
    bp_destroy(out);

    /* Argument errors. */
    out = SENTINEL;
    EXPECT_ERR(bp_load_from_buffer(NULL, size, &out), BP_ERROR_NULL_ARGUMENT, "buffer");
    CHECK(out == NULL, "*out not cleared by a failed bp_load_from_buffer");
    EXPECT_ERR(bp_load_from_buffer(buf, size, NULL), BP_ERROR_NULL_ARGUMENT, "out");
    EXPECT_ERR(bp_save_to_buffer(NULL, buf, size, &written), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_save_to_buffer(net, buf, size, NULL), BP_ERROR_NULL_ARGUMENT, "written");

    /* Files, in a directory of our own. */
    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp failed");
    } else {
        snprintf(path, sizeof path, "%s/model.bpm", dir);
        snprintf(missing, sizeof missing, "%s/no-such-dir/model.bpm", dir);
        snprintf(garbage, sizeof garbage, "%s/garbage.bpm", dir);
        EXPECT_OK(bp_save(net, path));
        CHECK(count_dir_entries(dir) == 1, "after bp_save the directory holds %zu entries, expected 1",
              count_dir_entries(dir));
        EXPECT_OK(bp_save(net, path)); /* over an existing file */
        CHECK(count_dir_entries(dir) == 1, "after a second bp_save the directory holds %zu entries",
              count_dir_entries(dir));
        copy = NULL;
        EXPECT_OK(bp_load(path, &copy));
        if (copy != NULL) {
            pa = GET_PARAMS(net, NULL);
            pb = GET_PARAMS(copy, NULL);
            CHECK(memcmp(pa, pb, 17 * sizeof *pa) == 0, "parameters loaded from the file differ");
            free(pa);
            free(pb);
            bp_destroy(copy);
        }
        EXPECT_ERR(bp_save(NULL, path), BP_ERROR_NULL_ARGUMENT, "net");
        EXPECT_ERR(bp_save(net, NULL), BP_ERROR_NULL_ARGUMENT, "path");
        EXPECT_ERR(bp_save(net, missing), BP_ERROR_IO, "path");
        out = SENTINEL;
        EXPECT_ERR(bp_load(NULL, &out), BP_ERROR_NULL_ARGUMENT, "path");
        CHECK(out == NULL, "*out not cleared by bp_load(NULL, ...)");
        EXPECT_ERR(bp_load(path, NULL), BP_ERROR_NULL_ARGUMENT, "out");
        out = SENTINEL;
        EXPECT_ERR(bp_load(missing, &out), BP_ERROR_IO, "path");
        CHECK(out == NULL, "*out not cleared by a bp_load of a missing file");
        f = fopen(garbage, "wb");
        if (f != NULL) {
            fputs("definitely not a model", f);
            fclose(f);
        }
        out = SENTINEL;
        EXPECT_ERR(bp_load(garbage, &out), BP_ERROR_NOT_A_MODEL, NULL);
        CHECK(out == NULL, "*out not cleared by a bp_load of a text file");
        unlink(garbage);
        unlink(path);
        CHECK(rmdir(dir) == 0, "the test directory %s is not empty after removing our files", dir);
    }

    free(buf);
    free(bad);
    free(x);
    free(y);
    bp_destroy(net);
}
