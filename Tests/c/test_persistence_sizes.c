/*
 * test_persistence_sizes.c — test_persistence cases on sizes beyond the machine:
 * networks larger than any memory (BP_ERROR_OUT_OF_MEMORY or BP_ERROR_SIZE_OVERFLOW,
 * never a crash or an OOM kill), an allocation that fails half-way through bp_create
 * under an address-space limit, batches whose activations cannot be allocated (nothing
 * changed, the network still usable) and batch sizes whose products overflow size_t.
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#include "test_persistence.h"

#include <sys/resource.h>

/*-************************************************************************
 *  Cases: sizes beyond the machine
 **************************************************************************/
void case_absurd_create(void)
{
    struct {
        size_t layers;
        size_t sizes[4];
    } cases[] = {
        {3, {(size_t)1 << 24, (size_t)1 << 24, 10}}, /* 2^48 weights: 1 PiB */
        {2, {(size_t)1 << 24, (size_t)1 << 24}},
        {3, {(size_t)1 << 24, (size_t)1 << 12, 1}},  /* 2^36 floats: 256 GiB */
        {4, {(size_t)1 << 24, (size_t)1 << 24, (size_t)1 << 24, (size_t)1 << 24}},
    };
    int32_t acts[3] = {BP_RELU, BP_RELU, BP_LINEAR};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bp_network *net = (bp_network *)&g_rng;
        int32_t a[3];
        bp_status s;
        memcpy(a, acts + (3 - (cases[i].layers - 1)), (cases[i].layers - 1) * sizeof *a);
        s = bp_create(cases[i].sizes, cases[i].layers, a, BP_LOSS_MSE, 1, &net);
        CHECK(s == BP_ERROR_OUT_OF_MEMORY, "case %zu (%zu x %zu ...): %s, expected BP_ERROR_OUT_OF_MEMORY; \"%s\"", i,
              cases[i].sizes[0], cases[i].sizes[1], status_name(s), last_error());
        CHECK(net == NULL, "*out not NULL");
    }
    /* 1024 layers of 2^24: either out of memory or a size overflow, never a crash. */
    {
        size_t *sizes = xmalloc(1024 * sizeof *sizes);
        int32_t *a = xmalloc(1023 * sizeof *a);
        bp_network *net = NULL;
        bp_status s;
        for (size_t l = 0; l < 1024; l++)
            sizes[l] = (size_t)1 << 24;
        for (size_t l = 0; l < 1023; l++)
            a[l] = BP_TANH;
        s = bp_create(sizes, 1024, a, BP_LOSS_MSE, 1, &net);
        CHECK(s == BP_ERROR_OUT_OF_MEMORY || s == BP_ERROR_SIZE_OVERFLOW, "1024 layers of 2^24 units: %s",
              status_name(s));
        free(sizes);
        free(a);
    }
}

void case_absurd_create_rlimit(void)
{
    /* Allocation failures that are not predicted from the machine's memory: with the
     * address space limited to 1 GiB more than is mapped, a network of 2 x 630 MB
     * (parameters + gradients) must fail cleanly with BP_ERROR_OUT_OF_MEMORY, in the
     * middle of bp_create (the parameters are allocated, the gradients are not).
     * BP_TEST_NO_RLIMIT=1 skips it (AddressSanitizer and valgrind manage the address
     * space themselves). */
    const char *skip = getenv("BP_TEST_NO_RLIMIT");
    struct rlimit lim;
    pid_t pid;
    int status = 0;
    if (skip != NULL && skip[0] == '1') {
        printf("  info  address-space limit case skipped (BP_TEST_NO_RLIMIT=1)\n");
        CHECK(1, "skipped");
        return;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        size_t sizes[] = {(size_t)1 << 20, 150, 1}; /* 157M parameters: 630 MB for each buffer */
        int32_t acts[] = {BP_RELU, BP_LINEAR};
        bp_network *net = NULL;
        bp_status s;
        unsigned long vm_pages = 0;
        FILE *statm = fopen("/proc/self/statm", "r");
        if (statm != NULL) {
            if (fscanf(statm, "%lu", &vm_pages) != 1)
                vm_pages = 0;
            fclose(statm);
        }
        /* What is mapped now, plus 1 GiB: room for the parameters, not for the gradients too. */
        lim.rlim_cur = lim.rlim_max = (rlim_t)vm_pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
        if (setrlimit(RLIMIT_AS, &lim) != 0)
            _exit(3);
        s = bp_create(sizes, 3, acts, BP_LOSS_MSE, 1, &net);
        if (s == BP_OK) {
            bp_destroy(net);
            _exit(4); /* got 630 MB in 1 GiB: fine, but nothing tested */
        }
        _exit(s == BP_ERROR_OUT_OF_MEMORY && bp_last_error()[0] != '\0' ? 0 : 10 + (int)s);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CHECK(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 4),
          "bp_create under a 1 GiB address-space limit: %s (exit %d)",
          WIFSIGNALED(status) ? "crashed" : "wrong status", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 4)
        printf("  info  bp_create fit in a 1 GiB address space; the allocation-failure path was not reached\n");
}

void case_absurd_batches(void)
{
    /* 1 input, 2^20 hidden units, 1 output: a small network (12 MB). A batch of 2^22
     * samples (a real 16 MB input array) needs 2^42 hidden activations (16 TiB). */
    size_t sizes[] = {1, (size_t)1 << 20, 1};
    int32_t acts[] = {BP_RELU, BP_LINEAR};
    bp_network *net = NULL;
    size_t batch = (size_t)1 << 22, n;
    float *x, *y, *out, *before, *grads_before, *grads_after, small_x[2] = {0.5f, -0.5f}, small_y[2] = {1.0f, 0.0f};
    EXPECT_OK(bp_create(sizes, 3, acts, BP_LOSS_MSE, 5, &net));
    if (net == NULL)
        return;
    n = bp_parameter_count(net);
    x = xmalloc(batch * sizeof *x);
    y = xmalloc(batch * sizeof *y);
    out = xmalloc(batch * sizeof *out);
    for (size_t i = 0; i < batch; i++) {
        x[i] = (float)(i % 7) * 0.1f;
        y[i] = 0.5f;
    }
    /* Pending gradients from a small batch, which the failed calls must not disturb. */
    EXPECT_OK(bp_forward(net, small_x, 2, NULL));
    EXPECT_OK(bp_backward(net, small_y, 2, NULL));
    before = get_params(net, NULL);
    grads_before = xmalloc(n * sizeof *grads_before);
    grads_after = xmalloc(n * sizeof *grads_after);
    EXPECT_OK(bp_get_gradients(net, grads_before, n));

    EXPECT(bp_forward(net, x, batch, out), BP_ERROR_OUT_OF_MEMORY);
    EXPECT(bp_forward(net, x, batch, NULL), BP_ERROR_OUT_OF_MEMORY);
    EXPECT(bp_predict(net, x, batch, out), BP_ERROR_OUT_OF_MEMORY);
    EXPECT(bp_train_step(net, x, y, batch, 0.1f, NULL), BP_ERROR_OUT_OF_MEMORY);
    CHECK(params_equal_to(net, before, n), "a failed huge batch changed the parameters");
    EXPECT_OK(bp_get_gradients(net, grads_after, n));
    CHECK(memcmp(grads_before, grads_after, n * sizeof *grads_after) == 0, "a failed huge batch changed the gradients");
    /* Still usable: the pending gradients apply, and small batches work. */
    EXPECT_OK(bp_update(net, 0.1f));
    EXPECT_OK(bp_train_step(net, small_x, small_y, 2, 0.1f, NULL));
    EXPECT_OK(bp_predict(net, small_x, 2, out));

    /* batch x width overflows size_t: refused before any input is read (the inputs
     * pointer here holds only 2 floats). */
    {
        size_t w[] = {3, (size_t)1 << 20, 2};
        int32_t a2[] = {BP_TANH, BP_LINEAR};
        bp_network *wide = NULL;
        size_t huge[] = {SIZE_MAX / 2, SIZE_MAX / 3 + 1, SIZE_MAX, (size_t)1 << 63, ((size_t)1 << 62) + 1};
        EXPECT_OK(bp_create(w, 3, a2, BP_LOSS_MSE, 1, &wide));
        for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
            bp_status s1 = bp_forward(wide, small_x, huge[i], NULL);
            bp_status s2 = bp_predict(wide, small_x, huge[i], out);
            bp_status s3 = bp_train_step(wide, small_x, small_y, huge[i], 0.1f, NULL);
            bp_status s4 = bp_backward(wide, small_y, huge[i], NULL);
            CHECK(s1 == BP_ERROR_SIZE_OVERFLOW && s2 == BP_ERROR_SIZE_OVERFLOW && s3 == BP_ERROR_SIZE_OVERFLOW,
                  "batch %zu: forward %s, predict %s, train_step %s; expected BP_ERROR_SIZE_OVERFLOW", huge[i],
                  status_name(s1), status_name(s2), status_name(s3));
            CHECK(s4 != BP_OK, "batch %zu: backward %s", huge[i], status_name(s4));
        }
        bp_destroy(wide);
    }
    free(x);
    free(y);
    free(out);
    free(before);
    free(grads_before);
    free(grads_after);
    bp_destroy(net);
}
