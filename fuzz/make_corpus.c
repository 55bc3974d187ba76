/*
 * make_corpus.c — writes the seed corpus of fuzz/fuzz_load.c into a directory: small valid
 * models (every activation, both losses, every optimizer, every gradient state), and
 * damaged copies (truncated, a byte flipped, wrong magic / version, trailing bytes).
 *
 *   cc -std=c99 -Iinclude fuzz/make_corpus.c -L.build/release -lbackprop \
 *      -Wl,-rpath,$PWD/.build/release -o make_corpus && ./make_corpus fuzz/corpus/load
 */
#include "backprop.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_dir;
static int g_count;

static void put(const char *kind, const unsigned char *bytes, size_t size)
{
    char path[1024];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s-%02d", g_dir, kind, g_count++);
    f = fopen(path, "wb");
    if (f == NULL || fwrite(bytes, 1, size, f) != size) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

static void emit(bp_network *net, int damaged)
{
    size_t size = 0, written = 0;
    unsigned char *buf;
    if (bp_save_to_buffer(net, NULL, 0, &size) != BP_OK)
        exit(1);
    buf = malloc(size + 1);
    if (buf == NULL || bp_save_to_buffer(net, buf, size, &written) != BP_OK)
        exit(1);
    put("valid", buf, size);
    if (damaged) {
        put("truncated", buf, size / 2);
        put("truncated", buf, size - 1);
        buf[size / 3] ^= 0x40;
        put("flipped", buf, size);
        buf[size / 3] ^= 0x40;
        buf[8] = 2;
        put("version", buf, size);
        buf[8] = 1;
        buf[0] = 'B';
        put("magic", buf, size);
        buf[0] = 0x89;
        buf[size] = 0;
        put("trailing", buf, size + 1);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    static const struct {
        size_t layers, sizes[4];
        int32_t acts[3], loss;
    } nets[] = {
        {2, {2, 1, 0, 0}, {BP_LINEAR}, BP_LOSS_MSE},
        {3, {2, 3, 1}, {BP_TANH, BP_SIGMOID}, BP_LOSS_CROSS_ENTROPY},
        {3, {3, 4, 3}, {BP_RELU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY},
        {4, {2, 3, 2, 2}, {BP_LEAKY_RELU, BP_SIGMOID, BP_LINEAR}, BP_LOSS_MSE},
        {4, {2, 4, 3, 2}, {BP_GELU, BP_SILU, BP_SOFTMAX}, BP_LOSS_CROSS_ENTROPY},
    };
    float x[8] = {0.5f, -0.25f, 1.0f, 0.0f, -1.0f, 0.75f, 0.1f, 0.2f}, y[8] = {1, 0, 0, 1, 0, 1, 1, 0};
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
        for (int32_t opt = BP_OPTIMIZER_SGD; opt <= BP_OPTIMIZER_RPROP; opt++) {
            for (int state = 0; state < 3; state++) {
                bp_network *net = NULL;
                if (bp_create(nets[i].sizes, nets[i].layers, nets[i].acts, nets[i].loss, 7 + i, &net) != BP_OK ||
                    bp_set_option(net, BP_OPTION_OPTIMIZER, opt) != BP_OK)
                    return 1;
                if (state > 0) {
                    if (bp_train_step(net, x, y, 1, 0.1f, NULL) != BP_OK || bp_forward(net, x, 1, NULL) != BP_OK ||
                        bp_backward(net, y, 1, NULL) != BP_OK)
                        return 1;
                    if (state == 2 && bp_update(net, 0.1f) != BP_OK)
                        return 1;
                }
                /* Damaged copies of a few only, to keep the corpus small. */
                emit(net, opt == BP_OPTIMIZER_ADAM && state == 1);
                bp_destroy(net);
            }
        }
    }
    /* Format version 2: every schedule but the constant one, part way through. */
    for (int32_t schedule = BP_SCHEDULE_STEP; schedule <= BP_SCHEDULE_PLATEAU; schedule++) {
        bp_network *net = NULL;
        if (bp_create(nets[1].sizes, nets[1].layers, nets[1].acts, nets[1].loss, 70 + schedule, &net) != BP_OK ||
            bp_set_option(net, BP_OPTION_SCHEDULE, schedule) != BP_OK || bp_end_epoch(net, 4, 1.0f) != BP_OK ||
            bp_end_epoch(net, 4, 2.0f) != BP_OK)
            return 1;
        emit(net, schedule == BP_SCHEDULE_PLATEAU);
        if (schedule == BP_SCHEDULE_STEP) { /* with an input scaling too */
            const float shift[2] = {0.5f, -1.0f}, scale[2] = {2.0f, 0.25f};
            if (bp_set_input_scaling(net, shift, scale, 2) != BP_OK)
                return 1;
            emit(net, 1);
        }
        bp_destroy(net);
    }
    { /* a regressor with a target scaling */
        const float shift[2] = {3.0f, -1.0f}, scale[2] = {0.5f, 4.0f};
        bp_network *net = NULL;
        if (bp_create(nets[3].sizes, nets[3].layers, nets[3].acts, nets[3].loss, 99, &net) != BP_OK ||
            bp_set_target_scaling(net, shift, scale, 2) != BP_OK)
            return 1;
        emit(net, 1);
        bp_destroy(net);
    }
    { /* dropout, part way through training */
        const float rates[1] = {0.3f};
        bp_network *net = NULL;
        if (bp_create(nets[1].sizes, nets[1].layers, nets[1].acts, nets[1].loss, 98, &net) != BP_OK ||
            bp_set_dropout(net, rates, 1, 5) != BP_OK || bp_train_step(net, x, y, 1, 0.1f, NULL) != BP_OK)
            return 1;
        emit(net, 1);
        bp_destroy(net);
    }
    printf("%d files in %s\n", g_count, g_dir);
    return 0;
}
