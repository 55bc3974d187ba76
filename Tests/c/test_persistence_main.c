/*
 * test_persistence_main.c — the test_persistence program's suite table and main():
 * "nothing lost, nothing crashes": model files, hostile inputs, failing disks, divergence
 * and absurd sizes, against include/backprop.h only.
 *
 * The cases live in one file per topic (each says what it covers); test_persistence.h
 * lists them, in the order they run, and holds the helpers they share:
 *  - test_persistence_round_trips.c     round trips through files and buffers are
 *    bit-identical (also pending gradients and optimizer state), bp_save_to_buffer sizes;
 *  - test_persistence_malformed.c       load arguments, the magic, versions, every
 *    truncation length, every single-byte corruption;
 *  - test_persistence_corrupt_fields.c  fields made impossible under a valid CRC-32,
 *    the optimizer section, enormous declared sizes;
 *  - test_persistence_io_errors.c       I/O errors of bp_load and bp_save;
 *  - test_persistence_faults.c          atomic saves against injected write/fsync/rename
 *    failures (it defines those functions for the whole program);
 *  - test_persistence_divergence.c      BP_ERROR_DIVERGED with the parameters unchanged,
 *    extreme option values, checkpoints from bp_fit's callback;
 *  - test_persistence_sizes.c           sizes beyond the machine's memory.
 *
 * Each case runs in a child process (fork), so a crash is a failed case and the other
 * cases still run. BP_TEST_NO_FORK=1 runs everything in one process (for a debugger); a
 * case name as the only argument runs just that case.
 *
 * Build (scripts/test-reliability does this):
 *   cc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude Tests/c/test_persistence_*.c \
 *      -L.build/release -lbackprop -Wl,-rpath,<lib dir> -ldl -lm
 *
 * Output: "FAIL file:line [case]: message" per failed check, one line per case, and
 * finally "N passed, M failed". Exit status 0 only if M is 0.
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#define HARNESS_MAIN_FILE /* this file defines the harness's counters and runner */
#include "test_persistence.h"

#define TEST_PERSISTENCE_TABLE_ENTRY(name) {#name, case_##name},
static const test_case CASES[] = {TEST_PERSISTENCE_CASES(TEST_PERSISTENCE_TABLE_ENTRY)};
#undef TEST_PERSISTENCE_TABLE_ENTRY

static void banner(void)
{
    resolve_real();
    /* The parent never calls the library: the header allows using it in a fork()ed child
     * only if the parent had not used it (the Swift runtime's locks do not survive fork). */
    printf("libbackprop persistence and robustness tests (header %s)\n", BP_VERSION_STRING);
}

int main(int argc, char **argv)
{
    /* fork() only, no exec: valgrind (--trace-children=no) checks every case's process. */
    static const harness_suite suite = {"test_persistence", CASES, sizeof CASES / sizeof CASES[0], 28, 600, 0,
                                        banner};
    return harness_main(&suite, argc, argv);
}
