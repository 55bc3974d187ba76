/*
 * test_api_main.c — the test_api program's suite table and main(): tests of the
 * libbackprop C ABI, written against include/backprop.h only.
 *
 * Every function of the header is called, on its happy path and on its documented error
 * paths, each error checked for its exact status and a non-empty bp_last_error(). The
 * cases live in one file per topic (each says what it covers); test_api.h lists them, in
 * the order they run, and holds the helpers they share:
 *  - test_api_status.c      version, kernels, status strings, last error;
 *  - test_api_create.c      bp_create, sizes, initialisation, argument errors, limits;
 *  - test_api_numerics.c    forward, loss and gradients against a reference model, softmax;
 *  - test_api_training.c    forward/backward/update/train_step errors and state, parameters;
 *  - test_api_threads.c     XOR learning, determinism, threads, bp_predict, bp_set_threads;
 *  - test_api_optimizers.c  options and every optimizer against its rule;
 *  - test_api_fit.c         bp_fit, bp_evaluate, divergence;
 *  - test_api_model_files.c model files and buffers;
 *  - test_api_initialize.c  bp_initialize: every scheme against a reference, errors;
 *  - test_api_schedules.c   learning-rate schedules against their formulas, resuming;
 *  - test_api_weights.c     sample weights: weighted means, fit, evaluation, old layouts;
 *  - test_api_scaling.c     input scaling through every call, model files, standardising;
 *  - test_api_metrics.c     confusion matrix, MAE, RMSE and R² against references;
 *  - test_api_dropout.c     dropout;
 *  - test_api_onnx.c        ONNX export and import, C source export, and their errors;
 *  - test_api_distributed.c data-parallel bp_fit hooks and bp_set_gradients, with threads
 *                           standing in for processes;
 *  - test_api_distributed_failures.c  processes that are not alike: failures, options,
 *                           weights, dropout.
 *
 * Each test case runs in its own process (this program re-executed with "--child NAME"),
 * so a crash or trap in the library is reported as a failed case and the remaining cases
 * still run; under valgrind (--trace-children=yes) or AddressSanitizer each case also gets
 * its own error and leak check. Set BP_TEST_NO_FORK=1 to run everything in one process
 * (for a debugger); pass a case name to run only that case.
 *
 * Build (scripts/test-c does this):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -pthread -Iinclude Tests/c/test_api_*.c \
 *      -L.build/release -lbackprop -Wl,-rpath,<lib dir> -lm -pthread
 *
 * Output: one line per failed check ("FAIL file:line [case]: message"), one line per
 * case, and finally the line "N passed, M failed". Exit status 0 only if M is 0.
 */
#define _POSIX_C_SOURCE 200809L

#define HARNESS_MAIN_FILE /* this file defines the harness's counters and runner */
#include "test_api.h"

#define TEST_API_TABLE_ENTRY(name) {#name, case_##name},
static const test_case CASES[] = {TEST_API_CASES(TEST_API_TABLE_ENTRY)};
#undef TEST_API_TABLE_ENTRY

static void banner(void)
{
    printf("libbackprop C API tests: header %s (ABI %d), library %s (ABI %u)\n", BP_VERSION_STRING, BP_ABI_VERSION,
           bp_version() != NULL ? bp_version() : "(NULL)", (unsigned)bp_abi_version());
}

int main(int argc, char **argv)
{
    /* Each case runs in a re-executed copy of this program (see harness.h): the parent
     * calls the library for the banner, so a fork()ed child must not. */
    static const harness_suite suite = {"test_api", CASES, sizeof CASES / sizeof CASES[0], 24, 900, 1, banner};
    return harness_main(&suite, argc, argv);
}
