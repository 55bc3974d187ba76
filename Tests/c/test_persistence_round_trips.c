/*
 * test_persistence_round_trips.c — test_persistence cases on round trips: networks of
 * every shape, with no gradients, gradients pending or applied, through buffers and files
 * (in a mkdtemp directory; relative, odd and UTF-8 names) come back bit-identical —
 * architecture, parameters, pending gradients, re-saved bytes, predictions and 20 further
 * training steps; every optimizer's options and state survive too; pending gradients saved
 * between bp_backward() and bp_update() are applied identically by the copy; and
 * bp_save_to_buffer()'s size query and BP_ERROR_BUFFER_TOO_SMALL (nothing written).
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#include "test_persistence.h"

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

void case_round_trip_buffer(void)
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

void case_round_trip_file(void)
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

void case_relative_and_odd_paths(void)
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

void case_pending_gradients(void)
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

void case_save_to_buffer(void)
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

void case_round_trip_optimizers(void)
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
