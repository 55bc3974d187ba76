/*
 * xor.c — a first program with libbackprop: teach a small network the XOR function.
 *
 *   x1 x2 | x1 XOR x2
 *    0  0 |   0
 *    0  1 |   1
 *    1  0 |   1
 *    1  1 |   0
 *
 * The network has 2 inputs, 4 hidden units and 1 output, all with sigmoid activations,
 * and learns by gradient descent on the mean squared error.
 *
 * Build from the repository root, once the library is built:
 *   cc -std=c99 -Iinclude examples/c/xor.c -L.build/release -lbackprop \
 *      -Wl,-rpath,"$PWD/.build/release" -o xor && ./xor
 */
#include "backprop.h"

#include <stdio.h>
#include <stdlib.h>

/* Every bp_* call that can fail returns a bp_status. On failure, print what went wrong:
 * the status's name and the library's detailed message, then stop. */
static void check(bp_status status, const char *what)
{
    if (status != BP_OK) {
        fprintf(stderr, "%s failed: %s (%s)\n", what, bp_status_string(status), bp_last_error());
        exit(EXIT_FAILURE);
    }
}

int main(void)
{
    /* The four examples, one per row: inputs are 4 x 2 floats, targets 4 x 1. */
    const float inputs[4 * 2] = {0, 0,
                                 0, 1,
                                 1, 0,
                                 1, 1};
    const float targets[4 * 1] = {0, 1, 1, 0};

    /* Layers 2-4-1; one activation per layer after the input. */
    const size_t layer_sizes[3] = {2, 4, 1};
    const int32_t activations[2] = {BP_SIGMOID, BP_SIGMOID};
    const uint64_t seed = 1;          /* same seed, same starting weights, same result */
    const float learning_rate = 3.0f;
    const int steps = 4000;

    bp_network *net = NULL;
    float loss = 0.0f;
    float outputs[4];

    if (bp_abi_version() != BP_ABI_VERSION) {
        fprintf(stderr, "libbackprop ABI %u, but this program was compiled for ABI %d\n",
                (unsigned)bp_abi_version(), BP_ABI_VERSION);
        return EXIT_FAILURE;
    }
    printf("libbackprop %s\n", bp_version());

    check(bp_create(layer_sizes, 3, activations, BP_LOSS_MSE, seed, &net), "bp_create");
    printf("network 2-4-1, %zu parameters\n", bp_parameter_count(net));

    /* Training: each step runs all four examples forward, backpropagates the error and
     * moves every weight a little against its gradient. */
    for (int step = 1; step <= steps; step++) {
        check(bp_train_step(net, inputs, targets, 4, learning_rate, &loss), "bp_train_step");
        if (step == 1 || step % 500 == 0)
            printf("step %4d  loss %.6f\n", step, (double)loss);
    }

    /* What the trained network answers now. bp_forward + bp_backward (without bp_update)
     * gives the loss of the final weights; train_step reported the loss before its update. */
    check(bp_forward(net, inputs, 4, outputs), "bp_forward");
    check(bp_backward(net, targets, 4, &loss), "bp_backward");
    for (int i = 0; i < 4; i++)
        printf("%g XOR %g = %.4f  (target %g)\n", (double)inputs[2 * i], (double)inputs[2 * i + 1],
               (double)outputs[i], (double)targets[i]);
    printf("final loss %.6f\n", (double)loss);

    bp_destroy(net);

    if (!(loss < 0.01f)) {
        fprintf(stderr, "the network did not learn XOR (final loss %g, want < 0.01)\n", (double)loss);
        return EXIT_FAILURE;
    }
    return EXIT_SUCCESS;
}
