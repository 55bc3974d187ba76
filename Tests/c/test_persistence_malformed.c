/*
 * test_persistence_malformed.c — test_persistence cases on inputs that are not whole,
 * valid models (docs/format.md): load arguments (NULL, sizes no buffer can have), the
 * magic (empty, prefixes, other formats), format versions this library does not read,
 * every truncation length of several models, and every single-byte corruption of a model
 * with each error in the status its region implies.
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#include "test_persistence.h"

/*-************************************************************************
 *  Cases: load errors
 **************************************************************************/

void case_load_arguments(void)
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

void case_load_magic(void)
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

void case_load_version(void)
{
    bp_network *net = CREATE_DESC(&NET_SIGMOID, 1);
    size_t size = 0;
    unsigned char *model = MODEL_BYTES(net, &size);
    uint32_t current = get_u32(model + 8);
    /* The library reads versions 1 and 2 (docs/format.md) and writes 1 for this model. */
    uint32_t versions[] = {3, 4, 0, 0xFFFFFFFFu, 0x01000000u};
    bp_status relabelled;
    CHECK(current == 1, "a model without a schedule is written as version %u, expected 1", (unsigned)current);
    put_u32(model + 8, 2);
    fix_crc(model, size);
    relabelled = load_buffer(model, size, NULL);
    CHECK(relabelled == BP_ERROR_TRUNCATED, "a version 1 model relabelled 2 (no sections): %s, expected truncated",
          status_name(relabelled));
    for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
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

void case_load_every_truncation(void)
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

void case_load_every_byte_flip(void)
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
