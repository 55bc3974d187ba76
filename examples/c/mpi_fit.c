/*
 * mpi_fit.c — data-parallel training with MPI: every process (rank) trains a replica of
 * the same network on its own shard of the data, and bp_fit()'s hooks average each
 * mini-batch's gradients over the ranks, so every replica takes the same steps.
 *
 * The data are 2,000 points of three noisy spirals (3 classes) drawn from a fixed seed,
 * the same rows on every rank; rank r keeps rows r, r + size, ... of the first 1,600 to
 * train on and of the last 400 to validate on. Every rank creates the same 2-32-32-3
 * network from the same seed (and takes rank 0's parameters anyway, to show how), trains
 * it with Adam and early stopping, and rank 0 prints each epoch's report, which every
 * rank computes alike from the reduced sums. Then the ranks check that their parameters
 * are identical, and rank 0 prints the validation accuracy.
 *
 * With --check it is also a test (scripts/test-mpi runs it) printing PASS/FAIL lines:
 *   (a) with shuffle off, batches of b rows per rank on strided shards end where one
 *       network trained in this process on all rows in batches of b · size ends, to a
 *       relative difference of 1e-6 (SGD and Adam);
 *   (b) the same through a manual loop, bp_forward → bp_backward → bp_get_gradients →
 *       MPI_Allreduce → bp_set_gradients → bp_update;
 *   (c) unequal shards (rank 0 holds twice the rows of each other rank) finish, the
 *       shorter ones taking empty steps, and the replicas end identical.
 * The exit status is nonzero if anything failed. A failed call on any rank prints the
 * rank and the library's message and ends the whole job (MPI_Abort), so nothing hangs.
 *
 * Build from the repository root, once the library is built (swift build -c release):
 *   mpicc -std=c99 -O2 -Iinclude examples/c/mpi_fit.c -L.build/release -lbackprop \
 *         -Wl,-rpath,$PWD/.build/release -lm -o mpi_fit
 * Run on this machine, or on the machines of a hostfile (lines "hostname slots=2"; the
 * program and library at the same path on each):
 *   mpirun -np 2 ./mpi_fit [--check]
 *   mpirun --hostfile hosts -np 4 ./mpi_fit
 * (Open MPI also wants --allow-run-as-root as root, --oversubscribe for more ranks than cores.)
 */
#include "backprop.h"

#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROWS 2000  /* the first TRAIN rows train, the others validate */
#define TRAIN 1600
#define IN 2
#define OUT 3
#define NOISE 0.2  /* on each coordinate: the arms overlap a little */
#define CHECK_ROWS 240 /* the checks (a) to (c) train on the first 240 rows, ... */
#define CHECK_BATCH 8  /* ... in batches of 8 rows per rank, ... */
#define CHECK_EPOCHS 3 /* ... for 3 epochs */

static const size_t layers[4] = {IN, 32, 32, OUT};
static const int32_t activations[3] = {BP_TANH, BP_TANH, BP_SOFTMAX};
static int my_rank, ranks;

/* What the hooks and the progress callback share (bp_fit passes them one user_data). */
typedef struct {
    float *buffer;         /* parameter count + 1 floats, allocated once before training */
    size_t capacity;
    unsigned long empty;   /* gradient hook calls with samples = 0 */
    int verbose;           /* print each epoch (on rank 0) */
    float best_validation; /* the lowest validation loss reported */
} mpi_context;

static void die(const char *what, const char *message)
{
    fprintf(stderr, "mpi_fit: rank %d: %s: %s\n", my_rank, what, message);
    MPI_Abort(MPI_COMM_WORLD, 1); /* ends every rank: none is left waiting in a collective */
    exit(EXIT_FAILURE);
}

static void check(bp_status status, const char *what)
{
    char message[600];
    if (status != BP_OK) {
        snprintf(message, sizeof message, "%s (%s)", bp_status_string(status), bp_last_error());
        die(what, message);
    }
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes);
    if (p == NULL)
        die("malloc", "out of memory");
    return p;
}

/* g ← Σ_r weight_r g_r / Σ_r weight_r: one MPI_Allreduce (sum) of [weight · g..., weight]. */
static bp_status allreduce_gradients(mpi_context *c, float *g, size_t count, double weight)
{
    float *b = c->buffer, total;
    if (count + 1 > c->capacity || count + 1 > INT_MAX)
        return BP_ERROR_SIZE_MISMATCH;
    for (size_t i = 0; i < count; i++)
        b[i] = (float)weight * g[i];
    b[count] = (float)weight;
    if (MPI_Allreduce(MPI_IN_PLACE, b, (int)(count + 1), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return BP_ERROR_PEER_FAILED; /* the communication failed */
    total = b[count];
    for (size_t i = 0; i < count; i++)
        g[i] = total > 0 ? b[i] / total : 0.0f; /* no rank had a sample: a step of zeros */
    return BP_OK;
}

static bp_status gradient_hook(float *g, size_t count, size_t samples, double weight, float loss, void *user_data)
{
    mpi_context *c = user_data;
    (void)loss;
    c->empty += samples == 0;
    return allreduce_gradients(c, g, count, weight);
}

static bp_status reduce_hook(double *values, size_t count, int32_t operation, void *user_data)
{
    (void)user_data;
    if ((operation != BP_REDUCE_SUM && operation != BP_REDUCE_MAX) || count > INT_MAX)
        return BP_ERROR_INVALID_ARGUMENT;
    return MPI_Allreduce(MPI_IN_PLACE, values, (int)count, MPI_DOUBLE,
                         operation == BP_REDUCE_SUM ? MPI_SUM : MPI_MAX, MPI_COMM_WORLD) == MPI_SUCCESS
               ? BP_OK : BP_ERROR_PEER_FAILED;
}

static int progress(const bp_epoch_report *r, void *user_data)
{
    mpi_context *c = user_data;
    if (my_rank == 0 && c->verbose)
        printf("epoch %3zu  train loss %.4f  validation loss %.4f  accuracy %.4f  lr %g\n", r->epoch,
               (double)r->train_loss, (double)r->validation_loss, (double)r->validation_accuracy,
               (double)r->learning_rate);
    if (r->epoch == 1 || r->validation_loss < c->best_validation)
        c->best_validation = r->validation_loss;
    return 1; /* go on; a 0 from any rank would stop every rank after this epoch */
}

/* The hooks, and shuffling by a seed of each rank's own (the shards differ anyway). */
static void distributed(bp_fit_options *o, mpi_context *c)
{
    o->gradient_hook = gradient_hook;
    o->reduce_hook = reduce_hook;
    o->progress = progress;
    o->user_data = c;
    o->seed = 1000 + (uint64_t)my_rank;
}

/* Three spirals, the same on every rank: uniform numbers in [0, 1) by SplitMix64. */
static double uniform(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

static void make_spirals(float *x, float *y)
{
    uint64_t state = 2024;
    for (size_t i = 0; i < ROWS; i++) {
        size_t cls = (size_t)(uniform(&state) * OUT);
        double t = uniform(&state), r = 0.05 + 0.95 * t, angle = (double)cls * 2.0943951 + 4.5 * t;
        x[i * IN] = (float)(r * cos(angle) + NOISE * (uniform(&state) + uniform(&state) - 1));
        x[i * IN + 1] = (float)(r * sin(angle) + NOISE * (uniform(&state) + uniform(&state) - 1));
        for (size_t j = 0; j < OUT; j++)
            y[i * OUT + j] = j == cls ? 1.0f : 0.0f;
    }
}

/* Copies this rank's rows of `rows` into sx, sy; returns their count. Rows are dealt in
 * cycles of size − 1 + share0: rank 0 takes the first share0, ranks 1, 2, ... one each,
 * so share0 = 1 is the strided split, rows rank, rank + size, ... */
static size_t shard(const float *x, const float *y, size_t rows, int share0, float *sx, float *sy)
{
    size_t n = 0, cycle = (size_t)(ranks - 1 + share0);
    for (size_t i = 0; i < rows; i++) {
        size_t slot = i % cycle;
        if ((slot < (size_t)share0 ? 0 : (int)(slot - (size_t)share0) + 1) == my_rank) {
            memcpy(sx + n * IN, x + i * IN, IN * sizeof *x);
            memcpy(sy + n * OUT, y + i * OUT, OUT * sizeof *y);
            n++;
        }
    }
    return n;
}

static bp_network *make_net(uint64_t seed, int32_t optimizer)
{
    bp_network *net = NULL;
    check(bp_create(layers, 4, activations, BP_LOSS_CROSS_ENTROPY, seed, &net), "bp_create");
    check(bp_set_option(net, BP_OPTION_OPTIMIZER, optimizer), "bp_set_option");
    check(bp_set_threads(net, 1), "bp_set_threads"); /* the ranks share this machine's cores */
    return net;
}

static float *parameters(const bp_network *net)
{
    float *p = xmalloc(bp_parameter_count(net) * sizeof *p);
    check(bp_get_parameters(net, p, bp_parameter_count(net)), "bp_get_parameters");
    return p;
}

/* Whether every rank holds rank 0's parameters bit for bit (a collective: every rank calls it). */
static int identical_everywhere(const bp_network *net)
{
    size_t n = bp_parameter_count(net);
    float *mine = parameters(net), *root = parameters(net);
    int differs;
    MPI_Bcast(root, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD);
    differs = memcmp(mine, root, n * sizeof *root) != 0;
    MPI_Allreduce(MPI_IN_PLACE, &differs, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    free(mine), free(root);
    return !differs;
}

/* Prints a PASS or FAIL line on rank 0; returns 1 on failure. */
static int report(int ok, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    if (my_rank == 0)
        printf("%s: ", ok ? "PASS" : "FAIL"), vprintf(format, args), printf("\n");
    va_end(args);
    return !ok;
}

/* (b): the steps bp_fit takes with shuffle off, by hand. */
static void manual_loop(bp_network *net, const float *sx, const float *sy, size_t n, float lr, mpi_context *c)
{
    size_t count = bp_parameter_count(net);
    float *g = xmalloc(count * sizeof *g), rate, loss;
    unsigned long steps = (unsigned long)((n + CHECK_BATCH - 1) / CHECK_BATCH);
    MPI_Allreduce(MPI_IN_PLACE, &steps, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD); /* the longest shard's */
    for (int epoch = 0; epoch < CHECK_EPOCHS; epoch++) {
        double sums[2] = {0, 0}; /* Σ rows · loss and Σ rows: the global loss, for the schedule */
        check(bp_scheduled_learning_rate(net, lr, &rate), "bp_scheduled_learning_rate");
        for (size_t first = 0; first < steps * CHECK_BATCH; first += CHECK_BATCH) {
            size_t m = first >= n ? 0 : n - first < CHECK_BATCH ? n - first : CHECK_BATCH;
            /* bp_set_gradients() needs a pending backward pass: a rank without rows for
             * this step makes one over its first row, which its weight 0 leaves out. */
            size_t at = m > 0 ? first : 0;
            check(bp_forward(net, sx + at * IN, m > 0 ? m : 1, NULL), "bp_forward");
            check(bp_backward(net, sy + at * OUT, m > 0 ? m : 1, &loss), "bp_backward");
            check(bp_get_gradients(net, g, count), "bp_get_gradients");
            check(allreduce_gradients(c, g, count, (double)m), "allreduce_gradients");
            check(bp_set_gradients(net, g, count), "bp_set_gradients");
            check(bp_update(net, rate), "bp_update");
            sums[0] += (double)m * loss, sums[1] += (double)m;
        }
        MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        check(bp_end_epoch(net, (size_t)sums[1], (float)(sums[0] / sums[1])), "bp_end_epoch");
    }
    free(g);
}

static double relative_difference(const float *a, const float *b, size_t n)
{
    double diff = 0, norm = 0;
    for (size_t i = 0; i < n; i++)
        diff += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), norm += (double)a[i] * a[i];
    return sqrt(diff / norm);
}

/* (a) and (b) for one optimizer; returns the number of failures. */
static int check_equivalence(int32_t optimizer, const char *name, float lr, const float *x, const float *y,
                             float *sx, float *sy, mpi_context *c)
{
    size_t n = shard(x, y, CHECK_ROWS, 1, sx, sy);
    bp_network *fit = make_net(7, optimizer), *loop = make_net(7, optimizer), *whole = NULL;
    bp_fit_options o;
    int failures = 0;
    bp_fit_options_init(&o);
    o.epochs = CHECK_EPOCHS;
    o.learning_rate = lr;
    o.shuffle = 0;
    if (my_rank == 0) { /* the reference: one network, every row, batches of b · size, no MPI */
        whole = make_net(7, optimizer);
        o.batch_size = (size_t)CHECK_BATCH * (size_t)ranks;
        check(bp_fit(whole, x, y, CHECK_ROWS, &o, NULL, 0, NULL), "bp_fit (one network)");
    }
    o.batch_size = CHECK_BATCH;
    distributed(&o, c);
    check(bp_fit(fit, sx, sy, n, &o, NULL, 0, NULL), "bp_fit (replicas)");
    manual_loop(loop, sx, sy, n, lr, c);
    failures += report(identical_everywhere(fit), "%s, bp_fit: the %d replicas are identical", name, ranks);
    failures += report(identical_everywhere(loop), "%s, manual loop: the %d replicas are identical", name, ranks);
    if (my_rank == 0) {
        float *p = parameters(whole), *pf = parameters(fit), *pl = parameters(loop);
        double df = relative_difference(p, pf, bp_parameter_count(whole));
        double dl = relative_difference(p, pl, bp_parameter_count(whole));
        failures += report(df <= 1e-6, "%s, bp_fit on %d ranks vs one network: relative difference %.3g (<= 1e-6)",
                           name, ranks, df);
        failures += report(dl <= 1e-6, "%s, manual loop on %d ranks vs one network: relative difference %.3g "
                           "(<= 1e-6)", name, ranks, dl);
        free(p), free(pf), free(pl);
    }
    bp_destroy(fit), bp_destroy(loop), bp_destroy(whole);
    return failures;
}

/* (c): rank 0 holds twice the rows of each other rank; shuffled, with validation and
 * early stopping. Returns the number of failures. */
static int check_unequal(const float *x, const float *y, float *sx, float *sy, float *vx, float *vy, mpi_context *c)
{
    size_t n = shard(x, y, CHECK_ROWS, 2, sx, sy), run = 0;
    unsigned long v[4]; /* maxima of the epochs run, −(epochs run), the rows, −rows */
    bp_network *net = make_net(11, BP_OPTIMIZER_ADAM);
    bp_fit_options o;
    int failures = 0;
    bp_fit_options_init(&o);
    o.epochs = 20;
    o.batch_size = CHECK_BATCH;
    o.validation_inputs = vx;
    o.validation_targets = vy;
    o.validation_count = shard(x + TRAIN * IN, y + TRAIN * OUT, ROWS - TRAIN, 1, vx, vy);
    o.patience = 3;
    distributed(&o, c);
    c->empty = 0;
    check(bp_fit(net, sx, sy, n, &o, NULL, 0, &run), "bp_fit (unequal shards)");
    v[0] = run, v[1] = ULONG_MAX - run, v[2] = n, v[3] = ULONG_MAX - n;
    MPI_Allreduce(MPI_IN_PLACE, v, 4, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &c->empty, 1, MPI_UNSIGNED_LONG, MPI_SUM, MPI_COMM_WORLD);
    failures += report(v[0] == ULONG_MAX - v[1], "unequal shards (%lu to %lu rows): every rank ran %lu epochs",
                       ULONG_MAX - v[3], v[2], v[0]);
    failures += report(ranks == 1 || c->empty > 0, "unequal shards: the shorter shards took %lu empty steps", c->empty);
    failures += report(identical_everywhere(net), "unequal shards: the %d replicas are identical", ranks);
    bp_destroy(net);
    return failures;
}

int main(int argc, char **argv)
{
    mpi_context c = {NULL, 0, 0, 1, 0};
    float *x, *y, *sx, *sy, *vx, *vy, *p, loss, accuracy;
    size_t n, count, epochs_run = 0;
    int checking, failures = 0;
    bp_network *net;
    bp_fit_options o;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    checking = argc == 2 && strcmp(argv[1], "--check") == 0;
    if (argc > 2 || (argc == 2 && !checking))
        die("usage", "mpirun -np N mpi_fit [--check]");
    if (bp_abi_version() != BP_ABI_VERSION)
        die("bp_abi_version", "the loaded libbackprop was built for another ABI");
    if (ranks > CHECK_ROWS / 3)
        die("mpi_fit", "too many ranks for these data sets (80 at most)");

    /* Every rank: the same data, its own shard, the same network. */
    x = xmalloc(ROWS * IN * sizeof *x), y = xmalloc(ROWS * OUT * sizeof *y);
    sx = xmalloc(TRAIN * IN * sizeof *sx), sy = xmalloc(TRAIN * OUT * sizeof *sy);
    vx = xmalloc((ROWS - TRAIN) * IN * sizeof *vx), vy = xmalloc((ROWS - TRAIN) * OUT * sizeof *vy);
    make_spirals(x, y);
    n = shard(x, y, TRAIN, 1, sx, sy);
    net = make_net(42, BP_OPTIMIZER_ADAM);
    count = bp_parameter_count(net);
    p = parameters(net); /* the same seed gave the same parameters; rank 0's are sent anyway */
    MPI_Bcast(p, (int)count, MPI_FLOAT, 0, MPI_COMM_WORLD);
    check(bp_set_parameters(net, p, count), "bp_set_parameters");
    c.capacity = count + 1;
    c.buffer = xmalloc(c.capacity * sizeof *c.buffer);

    bp_fit_options_init(&o);
    o.epochs = 200;
    o.batch_size = 16; /* per rank: each step averages 16 · size rows */
    o.learning_rate = 0.01f;
    o.validation_inputs = vx;
    o.validation_targets = vy;
    o.validation_count = shard(x + TRAIN * IN, y + TRAIN * OUT, ROWS - TRAIN, 1, vx, vy);
    o.patience = 10; /* stop after 10 epochs without a better validation loss, keep the best */
    o.min_delta = 1e-4f;
    distributed(&o, &c);
    if (my_rank == 0)
        printf("libbackprop %s: %d ranks, %zu training and %zu validation rows on rank 0, %zu parameters\n",
               bp_version(), ranks, n, o.validation_count, count);
    check(bp_fit(net, sx, sy, n, &o, NULL, 0, &epochs_run), "bp_fit");

    failures += report(identical_everywhere(net), "after %zu epochs the %d replicas are identical", epochs_run, ranks);
    if (my_rank == 0) {
        check(bp_evaluate(net, x + TRAIN * IN, y + TRAIN * OUT, ROWS - TRAIN, &loss, &accuracy), "bp_evaluate");
        printf("validation loss %.4f, accuracy %.4f\n", (double)loss, (double)accuracy);
        if (checking) {
            failures += report(accuracy >= 0.9f, "validation accuracy %.4f (>= 0.9)", (double)accuracy);
            failures += report(fabsf(loss - c.best_validation) <= 1e-4f * c.best_validation,
                               "the best epoch's parameters restored: validation loss %.6f, reported %.6f",
                               (double)loss, (double)c.best_validation);
        }
    }
    if (checking) {
        c.verbose = 0;
        failures += check_equivalence(BP_OPTIMIZER_SGD, "SGD", 0.2f, x, y, sx, sy, &c);
        failures += check_equivalence(BP_OPTIMIZER_ADAM, "Adam", 0.01f, x, y, sx, sy, &c);
        failures += check_unequal(x, y, sx, sy, vx, vy, &c);
    }
    MPI_Allreduce(MPI_IN_PLACE, &failures, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD); /* every rank's exit status */
    bp_destroy(net);
    free(x), free(y), free(sx), free(sy), free(vx), free(vy), free(p), free(c.buffer);
    MPI_Finalize();
    return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
