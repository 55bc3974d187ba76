/*
 * test_cpu_baseline.c — a library built for a CPU baseline on a CPU below it (run under
 * `qemu-x86_64 -cpu Nehalem` by scripts/test-package): loading it is safe, and every
 * entry point refuses with BP_ERROR_UNSUPPORTED_CPU naming the missing features instead
 * of executing an instruction the CPU lacks. With --expect-support, the same calls on a
 * CPU that has the baseline must work.
 *
 * Build: cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/c/test_cpu_baseline.c -L<lib> -lbackprop
 */
#include "backprop.h"

#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond, ...)                                                                                              \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                                       \
            fprintf(stderr, __VA_ARGS__);                                                                              \
            fprintf(stderr, " (bp_last_error: \"%s\")\n", bp_last_error() ? bp_last_error() : "(null)");             \
            failures++;                                                                                                \
        }                                                                                                              \
    } while (0)

/* Every function that returns a bp_status refuses, whatever its arguments: the CPU is
 * checked before they are. (The scripts/test-package run under -cpu Nehalem.) */
#define REFUSES(call) EXPECT((call) == BP_ERROR_UNSUPPORTED_CPU, "%s did not refuse", #call)

static void refuse_everything(const unsigned char *junk, size_t size)
{
    float f = 0;
    double d = 0;
    size_t w = 0;
    bp_network *n = NULL;
    REFUSES(bp_set_threads(NULL, 1));
    REFUSES(bp_forward(NULL, NULL, 0, NULL));
    REFUSES(bp_forward_train(NULL, NULL, 0, NULL));
    REFUSES(bp_predict(NULL, NULL, 0, NULL));
    REFUSES(bp_backward(NULL, NULL, 0, NULL));
    REFUSES(bp_update(NULL, 0));
    REFUSES(bp_train_step(NULL, NULL, NULL, 0, 0, NULL));
    REFUSES(bp_backward_weighted(NULL, NULL, NULL, 0, NULL));
    REFUSES(bp_train_step_weighted(NULL, NULL, NULL, NULL, 0, 0, NULL));
    REFUSES(bp_set_option(NULL, 0, 0));
    REFUSES(bp_get_option(NULL, 0, &d));
    REFUSES(bp_scheduled_learning_rate(NULL, 0, &f));
    REFUSES(bp_end_epoch(NULL, 0, 0));
    REFUSES(bp_set_dropout(NULL, NULL, 0, 0));
    REFUSES(bp_get_dropout(NULL, NULL, 0));
    REFUSES(bp_fit(NULL, NULL, NULL, 0, NULL, NULL, 0, NULL));
    REFUSES(bp_evaluate(NULL, NULL, NULL, 0, NULL, NULL));
    REFUSES(bp_evaluate_weighted(NULL, NULL, NULL, NULL, 0, NULL, NULL));
    REFUSES(bp_evaluate_metrics(NULL, NULL, NULL, NULL, 0, NULL, NULL, 0));
    REFUSES(bp_set_input_scaling(NULL, NULL, NULL, 0));
    REFUSES(bp_get_input_scaling(NULL, NULL, NULL, 0));
    REFUSES(bp_standardize_inputs(NULL, NULL, 0));
    REFUSES(bp_set_target_scaling(NULL, NULL, NULL, 0));
    REFUSES(bp_get_target_scaling(NULL, NULL, NULL, 0));
    REFUSES(bp_standardize_targets(NULL, NULL, 0));
    REFUSES(bp_get_parameters(NULL, NULL, 0));
    REFUSES(bp_set_parameters(NULL, NULL, 0));
    REFUSES(bp_initialize(NULL, 0, 0));
    REFUSES(bp_get_gradients(NULL, NULL, 0));
    REFUSES(bp_save(NULL, NULL));
    REFUSES(bp_load("/nonexistent", &n));
    REFUSES(bp_save_to_buffer(NULL, NULL, 0, &w));
    REFUSES(bp_load_from_buffer(junk, size, &n));
    REFUSES(bp_export_onnx(NULL, NULL));
    REFUSES(bp_export_onnx_to_buffer(NULL, NULL, 0, &w));
    REFUSES(bp_import_onnx("/nonexistent", BP_ONNX_LOSS_AUTO, &n));
    REFUSES(bp_import_onnx_from_buffer(junk, size, BP_ONNX_LOSS_AUTO, &n));
    REFUSES(bp_export_c_source(NULL, "/tmp/x.c", "p", 0));
    EXPECT(n == NULL, "a refused creation left *out set");
    EXPECT(strstr(bp_last_error(), "this CPU lacks") != NULL, "bp_last_error() is not the refusal");
}

int main(int argc, char **argv)
{
    const int supported = argc > 1 && strcmp(argv[1], "--expect-support") == 0;
    const bp_status want = supported ? BP_OK : BP_ERROR_UNSUPPORTED_CPU;
    const size_t sizes[3] = {2, 4, 1};
    const int32_t activations[2] = {BP_TANH, BP_SIGMOID};
    const unsigned char junk[4] = {0, 1, 2, 3};
    bp_network *net = (bp_network *)&failures; /* must become NULL or a network */
    bp_fit_options options;
    bp_status s;

    EXPECT(bp_abi_version() == BP_ABI_VERSION, "bp_abi_version()");
    EXPECT(strcmp(bp_version(), BP_VERSION_STRING) == 0, "bp_version()");
    s = bp_check_cpu();
    EXPECT(s == want, "bp_check_cpu() returned %d, expected %d", (int)s, (int)want);
    if (!supported) {
        EXPECT(strstr(bp_last_error(), "AVX2") != NULL, "the message does not name AVX2");
        printf("bp_check_cpu: %s\n", bp_last_error());
        EXPECT(strcmp(bp_kernels(), "none") == 0, "bp_kernels() is \"%s\"", bp_kernels());
        memset(&options, 0, sizeof options);
        bp_fit_options_init(&options);
        EXPECT(options.struct_size == 0, "bp_fit_options_init wrote the defaults");
    }
    s = bp_create(sizes, 3, activations, BP_LOSS_MSE, 1, &net);
    EXPECT(s == want, "bp_create returned %d, expected %d", (int)s, (int)want);
    if (s == BP_OK) {
        const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1}, y[4] = {0, 1, 1, 0};
        float out[4], loss = 0;
        for (int i = 0; i < 2000; i++)
            EXPECT(bp_train_step(net, x, y, 4, 0.5f, &loss) == BP_OK, "bp_train_step");
        EXPECT(bp_predict(net, x, 4, out) == BP_OK, "bp_predict");
        EXPECT(loss < 0.05f, "XOR did not learn: loss %g", loss);
        /* Every digit, so that runs on two CPUs can be compared (scripts/test-package). */
        printf("XOR after 2000 steps: loss %.9g, outputs %.9g %.9g %.9g %.9g\n", loss, out[0], out[1], out[2], out[3]);
        printf("kernels: %s\n", bp_kernels());
        bp_destroy(net);
    } else {
        EXPECT(net == NULL, "*out is not NULL after a refusal");
        refuse_everything(junk, sizeof junk);
    }
    printf("%s: %d failure(s)\n", supported ? "supported CPU" : "CPU below the baseline", failures);
    return failures == 0 ? 0 : 1;
}
