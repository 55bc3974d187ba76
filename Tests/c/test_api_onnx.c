/*
 * test_api_onnx.c — test_api cases on ONNX models through the API: bp_export_onnx_to_buffer
 * (size query, BP_ERROR_BUFFER_TOO_SMALL, exact), bp_export_onnx and bp_import_onnx of a
 * file, an export importing back to the same network (parameters, activations, loss from
 * the metadata or the caller, outputs), and the import's errors: argument errors, unknown
 * losses, a loss the output layer cannot take, an unknown operator named in the message,
 * and data that is empty, truncated at every length or not protobuf at all; and
 * bp_export_c_source's files and argument errors. The Python
 * tests (bindings/python/tests/test_onnx_*.py) compare with onnxruntime and skl2onnx.
 */
#define _POSIX_C_SOURCE 200809L

#include "test_api.h"

static const net_desc ONNX_NET = {3, {3, 5, 2}, {BP_TANH, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY};

/* The network's ONNX bytes (*size of them), from a size query and an exact buffer. */
static unsigned char *export_bytes(const bp_network *net, size_t *size)
{
    size_t written = 0;
    unsigned char *bytes;
    *size = 0;
    EXPECT_OK(bp_export_onnx_to_buffer(net, NULL, 0, size));
    bytes = xmalloc(*size);
    EXPECT_OK(bp_export_onnx_to_buffer(net, bytes, *size, &written));
    CHECK(written == *size, "the export wrote %zu bytes after announcing %zu", written, *size);
    return bytes;
}

/* Whether two networks have the same parameters, bit for bit. */
static int same_parameters(const bp_network *a, const bp_network *b)
{
    size_t n = bp_parameter_count(a);
    float *pa = alloc_floats(n, 0), *pb = alloc_floats(n, 1);
    int same = n == bp_parameter_count(b) && bp_get_parameters(a, pa, n) == BP_OK &&
               bp_get_parameters(b, pb, n) == BP_OK && memcmp(pa, pb, n * sizeof *pa) == 0;
    free(pa);
    free(pb);
    return same;
}

void case_onnx_export(void)
{
    bp_network *net = CREATE_DESC(&ONNX_NET, 5), *back = NULL, *huber = NULL;
    float x[6] = {0.5f, -1, 2, -0.25f, 0, 1.5f}, a[4], b[4];
    unsigned char *bytes, small[8];
    size_t size = 0, written = 0;
    char dir[] = "/tmp/backprop-onnx-XXXXXX", path[256];
    if (net == NULL)
        return;
    bytes = export_bytes(net, &size);
    CHECK(size > 100, "an ONNX model of %zu bytes", size);
    EXPECT_ERR(bp_export_onnx_to_buffer(net, small, sizeof small, &written), BP_ERROR_BUFFER_TOO_SMALL, "capacity");
    CHECK(written == size, "written is %zu after a too-small buffer; expected the size %zu", written, size);
    EXPECT_ERR(bp_export_onnx_to_buffer(NULL, NULL, 0, &written), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_export_onnx_to_buffer(net, NULL, 0, NULL), BP_ERROR_NULL_ARGUMENT, "written");

    /* The export imports back to the same network, its loss from the metadata. */
    EXPECT_OK(bp_import_onnx_from_buffer(bytes, size, BP_ONNX_LOSS_AUTO, &back));
    if (back != NULL) {
        CHECK(same_parameters(net, back), "the imported parameters differ from the exported ones");
        CHECK(bp_layer_count(back) == 3 && bp_layer_size(back, 1) == 5, "the imported layers differ");
        CHECK(bp_layer_activation(back, 1) == BP_TANH && bp_layer_activation(back, 2) == BP_SOFTMAX,
              "the imported activations differ");
        CHECK(bp_loss_function(back) == BP_LOSS_CROSS_ENTROPY, "the loss is not the metadata's");
        EXPECT_OK(bp_predict(net, x, 2, a));
        EXPECT_OK(bp_predict(back, x, 2, b));
        CHECK(memcmp(a, b, sizeof a) == 0, "the imported network's outputs differ");
        bp_destroy(back);
    }
    /* The caller's loss overrides the metadata's. */
    EXPECT_OK(bp_import_onnx_from_buffer(bytes, size, BP_LOSS_HUBER, &huber));
    if (huber != NULL) {
        CHECK(bp_loss_function(huber) == BP_LOSS_HUBER, "an explicit loss was not taken");
        bp_destroy(huber);
    }

    /* Files. */
    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp failed");
    } else {
        snprintf(path, sizeof path, "%s/model.onnx", dir);
        EXPECT_OK(bp_export_onnx(net, path));
        back = NULL;
        EXPECT_OK(bp_import_onnx(path, BP_ONNX_LOSS_AUTO, &back));
        if (back != NULL) {
            CHECK(same_parameters(net, back), "the file's parameters differ");
            bp_destroy(back);
        }
        EXPECT_ERR(bp_export_onnx(net, NULL), BP_ERROR_NULL_ARGUMENT, "path");
        EXPECT_ERR(bp_export_onnx(NULL, path), BP_ERROR_NULL_ARGUMENT, "net");
        CHECK(remove(path) == 0, "cannot remove %s", path);
        back = SENTINEL;
        EXPECT_ERR(bp_import_onnx(path, BP_ONNX_LOSS_AUTO, &back), BP_ERROR_IO, "path");
        CHECK(back == NULL, "*out is not NULL after a failed import");
        snprintf(path, sizeof path, "%s/missing/model.onnx", dir);
        EXPECT_ERR(bp_export_onnx(net, path), BP_ERROR_IO, "path");
        CHECK(rmdir(dir) == 0, "the test directory %s is not empty", dir);
    }
    free(bytes);
    bp_destroy(net);
}

/* bp_import_onnx_from_buffer on a heap copy of `size` bytes must fail with `want` and
 * leave *out NULL. */
static void import_fail_at(const unsigned char *bytes, size_t size, int32_t loss, bp_status want, const char *file,
                           int line, const char *what)
{
    unsigned char *copy = xmalloc(size);
    bp_network *out = SENTINEL;
    bp_status got;
    if (size > 0)
        memcpy(copy, bytes, size);
    got = bp_import_onnx_from_buffer(copy, size, loss, &out);
    expect_status_at(got, want, NULL, file, line, what);
    check_at(out == NULL, file, line, "%s: *out is not NULL after a failed import", what);
    if (got == BP_OK && out != NULL && out != SENTINEL)
        bp_destroy(out);
    free(copy);
}
#define IMPORT_FAIL(bytes, size, loss, want, what) import_fail_at((bytes), (size), (loss), (want), __FILE__, __LINE__, (what))

/* A cut inside a field must fail; a cut between the model's last fields (its operator
 * set and metadata follow the graph) may import, and then to the same network. */
static void import_cut(const bp_network *net, const unsigned char *bytes, size_t cut)
{
    unsigned char *copy = xmalloc(cut);
    bp_network *out = SENTINEL;
    bp_status got;
    memcpy(copy, bytes, cut);
    got = bp_import_onnx_from_buffer(copy, cut, BP_ONNX_LOSS_AUTO, &out);
    if (got == BP_OK) {
        CHECK(out != NULL && out != SENTINEL && same_parameters(net, out), "a cut at %zu imports another network", cut);
        if (out != NULL && out != SENTINEL)
            bp_destroy(out);
    } else {
        CHECK(got == BP_ERROR_TRUNCATED || got == BP_ERROR_CORRUPT_MODEL || got == BP_ERROR_NOT_A_MODEL ||
                  got == BP_ERROR_UNSUPPORTED_MODEL,
              "a cut at %zu: status %s", cut, status_name(got));
        CHECK(out == NULL, "a cut at %zu: *out is not NULL after a failed import", cut);
    }
    free(copy);
}

/* The offset of the first `needle` in `bytes`, or `size` when absent. */
static size_t find(const unsigned char *bytes, size_t size, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(bytes + i, needle, n) == 0)
            return i;
    return size;
}

void case_onnx_import_errors(void)
{
    static const net_desc regressor = {3, {2, 3, 1}, {BP_RELU, BP_LINEAR}, BP_LOSS_MSE};
    static const unsigned char not_protobuf[] = {0x0F, 0x01, 0x02}; /* wire type 7 */
    bp_network *net = CREATE_DESC(&ONNX_NET, 6), *linear = CREATE_DESC(&regressor, 7), *out = SENTINEL;
    unsigned char *bytes, *renamed;
    size_t size = 0, linear_size = 0, at;
    unsigned char *linear_bytes;
    if (net == NULL || linear == NULL) {
        bp_destroy(net);
        bp_destroy(linear);
        return;
    }
    bytes = export_bytes(net, &size);
    linear_bytes = export_bytes(linear, &linear_size);

    EXPECT_ERR(bp_import_onnx_from_buffer(bytes, size, BP_ONNX_LOSS_AUTO, NULL), BP_ERROR_NULL_ARGUMENT, "out");
    EXPECT_ERR(bp_import_onnx_from_buffer(NULL, size, BP_ONNX_LOSS_AUTO, &out), BP_ERROR_NULL_ARGUMENT, "buffer");
    CHECK(out == NULL, "*out is not NULL after a NULL buffer");
    EXPECT_ERR(bp_import_onnx(NULL, BP_ONNX_LOSS_AUTO, &out), BP_ERROR_NULL_ARGUMENT, "path");
    IMPORT_FAIL(bytes, size, 7, BP_ERROR_UNKNOWN_ENUM, "loss 7");
    IMPORT_FAIL(bytes, size, -2, BP_ERROR_UNKNOWN_ENUM, "loss -2");
    IMPORT_FAIL(linear_bytes, linear_size, BP_LOSS_CROSS_ENTROPY, BP_ERROR_INVALID_ARCHITECTURE,
                "cross-entropy on a linear output");
    IMPORT_FAIL(bytes, 0, BP_ONNX_LOSS_AUTO, BP_ERROR_NOT_A_MODEL, "no bytes");
    IMPORT_FAIL(not_protobuf, sizeof not_protobuf, BP_ONNX_LOSS_AUTO, BP_ERROR_CORRUPT_MODEL, "wire type 7");
    for (size_t cut = 1; cut < size; cut++)
        import_cut(net, bytes, cut);
    IMPORT_FAIL(bytes, size / 2, BP_ONNX_LOSS_AUTO, BP_ERROR_TRUNCATED, "half an export");

    /* An operator the library lacks, of the same length so that every length stays valid. */
    renamed = xmalloc(size);
    memcpy(renamed, bytes, size);
    at = find(renamed, size, "Tanh");
    CHECK(at < size, "the export holds no Tanh");
    if (at < size) {
        memcpy(renamed + at, "Tank", 4);
        IMPORT_FAIL(renamed, size, BP_ONNX_LOSS_AUTO, BP_ERROR_UNSUPPORTED_MODEL, "an unknown operator");
        CHECK(strstr(last_error(), "Tank") != NULL && strstr(last_error(), "layer1") != NULL,
              "the message does not name the node and its operator: \"%s\"", last_error());
    }
    free(renamed);
    free(bytes);
    free(linear_bytes);
    bp_destroy(net);
    bp_destroy(linear);
}

/* Whether the file at `path` exists and holds `needle`. */
static int file_holds(const char *path, const char *needle)
{
    char text[4096];
    size_t n;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return strstr(text, needle) != NULL;
}

void case_c_source(void)
{
    bp_network *net = CREATE_DESC(&ONNX_NET, 8);
    char dir[] = "/tmp/backprop-csource-XXXXXX", source[256], header[256], other[256];
    if (net == NULL)
        return;
    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp failed");
        bp_destroy(net);
        return;
    }
    snprintf(source, sizeof source, "%s/tiny.c", dir);
    snprintf(header, sizeof header, "%s/tiny.h", dir);
    snprintf(other, sizeof other, "%s/tiny.cpp", dir);
    EXPECT_OK(bp_export_c_source(net, source, "tiny", BP_C_SOURCE_FLOAT));
    CHECK(file_holds(header, "void tiny_predict(const float *input, float *output);"), "the header lacks tiny_predict");
    CHECK(file_holds(source, "static const float tiny_w1[15]"), "the source lacks W^1 as 15 floats");
    EXPECT_OK(bp_export_c_source(net, source, "tiny", BP_C_SOURCE_INT8 | BP_C_SOURCE_INT32_ACCUMULATE));
    CHECK(file_holds(source, "static const signed char tiny_w1[15]"), "the int8 source lacks W^1 as 15 int8");

    EXPECT_ERR(bp_export_c_source(NULL, source, "tiny", 0), BP_ERROR_NULL_ARGUMENT, "net");
    EXPECT_ERR(bp_export_c_source(net, NULL, "tiny", 0), BP_ERROR_NULL_ARGUMENT, "path");
    EXPECT_ERR(bp_export_c_source(net, source, NULL, 0), BP_ERROR_NULL_ARGUMENT, "prefix");
    EXPECT_ERR(bp_export_c_source(net, source, "tiny", 4), BP_ERROR_INVALID_ARGUMENT, "options");
    EXPECT_ERR(bp_export_c_source(net, source, "tiny", BP_C_SOURCE_INT32_ACCUMULATE), BP_ERROR_INVALID_ARGUMENT,
               "options");
    EXPECT_ERR(bp_export_c_source(net, source, "2tiny", 0), BP_ERROR_INVALID_ARGUMENT, "prefix");
    EXPECT_ERR(bp_export_c_source(net, source, "", 0), BP_ERROR_INVALID_ARGUMENT, "prefix");
    EXPECT_ERR(bp_export_c_source(net, other, "tiny", 0), BP_ERROR_INVALID_ARGUMENT, "path");
    CHECK(remove(source) == 0 && remove(header) == 0, "cannot remove the generated files");
    CHECK(rmdir(dir) == 0, "the test directory %s holds other files", dir);
    bp_destroy(net);
}
