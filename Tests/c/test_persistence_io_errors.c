/*
 * test_persistence_io_errors.c — test_persistence cases on what the file system refuses,
 * without injected faults: bp_load of missing files, directories, text and empty files,
 * "", /dev/null, paths longer than PATH_MAX or under a regular file, a FIFO without a
 * writer (BP_ERROR_IO, not a hang), each message naming the path and the reason; bp_save to
 * missing directories, over a directory, to "" and too-long paths, into a read-only
 * directory, leaving nothing behind.
 */
#define _GNU_SOURCE /* as every file of test_persistence (see test_persistence.h) */

#include "test_persistence.h"

/*-************************************************************************
 *  Cases: I/O errors of bp_load and bp_save
 **************************************************************************/
static int write_file(const char *path, const void *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (f == NULL)
        return 0;
    ok = fwrite(bytes, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

void case_load_io_errors(void)
{
    char *dir = make_temp_dir();
    char *missing = join(dir, "missing.bpm");
    char *text = join(dir, "notes.txt");
    char *empty = join(dir, "empty.bpm");
    char *sub = join(dir, "subdir");
    bp_network *net = (bp_network *)&g_rng;
    bp_status s;

    s = bp_load(missing, &net);
    CHECK(s == BP_ERROR_IO, "a missing file: %s, expected BP_ERROR_IO", status_name(s));
    CHECK(net == NULL, "*out not NULL after a failed bp_load");
    CHECK(strstr(last_error(), missing) != NULL, "the message \"%s\" does not name the path %s", last_error(), missing);
    CHECK(strstr(last_error(), strerror(ENOENT)) != NULL, "the message \"%s\" does not give the reason \"%s\"",
          last_error(), strerror(ENOENT));

    CHECK(mkdir(sub, 0755) == 0, "mkdir");
    net = (bp_network *)&g_rng;
    s = bp_load(sub, &net);
    CHECK(s == BP_ERROR_IO, "a directory: %s, expected BP_ERROR_IO", status_name(s));
    CHECK(net == NULL, "*out not NULL");
    CHECK(strstr(last_error(), sub) != NULL, "the message \"%s\" does not name the path", last_error());

    CHECK(write_file(text, "hello, this is not a model\n", 27), "write %s", text);
    EXPECT(bp_load(text, &net), BP_ERROR_NOT_A_MODEL);
    CHECK(write_file(empty, "", 0), "write %s", empty);
    EXPECT(bp_load(empty, &net), BP_ERROR_TRUNCATED);
    EXPECT(bp_load("", &net), BP_ERROR_IO);
    EXPECT(bp_load("/dev/null", &net), BP_ERROR_IO); /* not a regular file */
    {
        /* A path longer than PATH_MAX. */
        size_t n = PATH_MAX + 100;
        char *longp = xmalloc(n + 1);
        memset(longp, 'a', n);
        longp[0] = '/';
        longp[n] = '\0';
        EXPECT(bp_load(longp, &net), BP_ERROR_IO);
        free(longp);
    }
    {
        /* A model file that is a directory entry of the path: "file/x". */
        char *under = join(text, "x.bpm");
        EXPECT(bp_load(under, &net), BP_ERROR_IO);
        free(under);
    }
    free(missing);
    free(text);
    free(empty);
    free(sub);
    remove_tree(dir);
    free(dir);
}

void case_load_fifo(void)
{
    /* A FIFO with no writer: open(O_RDONLY) blocks until a writer appears. The library
     * refuses non-regular files anyway, so it should answer BP_ERROR_IO, not hang.
     * Checked in a child process with a 5-second alarm. */
    char *dir = make_temp_dir();
    char *fifo = join(dir, "pipe.bpm");
    pid_t pid;
    int status = 0;
    CHECK(mkfifo(fifo, 0600) == 0, "mkfifo: %s", strerror(errno));
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        bp_network *net = NULL;
        bp_status s;
        alarm(5);
        s = bp_load(fifo, &net);
        _exit(s == BP_ERROR_IO ? 0 : 10 + (int)s);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "bp_load of a FIFO without a writer %s (expected BP_ERROR_IO without blocking, e.g. open with O_NONBLOCK)",
          WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? "blocked for more than 5 s"
          : WIFEXITED(status) ? "returned another status" : "crashed");
    unlink(fifo);
    free(fifo);
    remove_tree(dir);
    free(dir);
}

void case_save_io_errors(void)
{
    char *dir = make_temp_dir();
    char *sub = join(dir, "subdir");
    char *nodir = join(dir, "no/such/dir/model.bpm");
    char *trailing = join(dir, "subdir/");
    bp_network *net = CREATE_DESC(&NET_SIGMOID, 1);
    char names[512];
    CHECK(mkdir(sub, 0755) == 0, "mkdir");
    EXPECT(bp_save(net, nodir), BP_ERROR_IO);
    CHECK(strstr(last_error(), dir) != NULL, "the message \"%s\" does not name the path", last_error());
    EXPECT(bp_save(net, sub), BP_ERROR_IO); /* the path is a directory */
    EXPECT(bp_save(net, trailing), BP_ERROR_IO);
    EXPECT(bp_save(net, ""), BP_ERROR_IO);
    {
        struct stat st;
        CHECK(stat(sub, &st) == 0 && S_ISDIR(st.st_mode), "saving over a directory removed it");
    }
    CHECK(list_dir(dir, names, sizeof names) == 1, "failed saves left \"%s\" in the directory", names);
    CHECK(list_dir(sub, names, sizeof names) == 0, "failed saves left \"%s\" in the subdirectory", names);
    {
        size_t n = PATH_MAX + 100;
        char *longp = xmalloc(n + 1);
        memset(longp, 'b', n);
        longp[0] = '/';
        longp[n] = '\0';
        EXPECT(bp_save(net, longp), BP_ERROR_IO);
        free(longp);
    }
    if (geteuid() != 0) {
        /* A read-only directory (root ignores permissions, so only as another user). */
        char *ro = join(dir, "readonly");
        char *inside = join(ro, "model.bpm");
        CHECK(mkdir(ro, 0555) == 0, "mkdir");
        EXPECT(bp_save(net, inside), BP_ERROR_IO);
        chmod(ro, 0755);
        free(ro);
        free(inside);
    }
    bp_destroy(net);
    free(sub);
    free(nodir);
    free(trailing);
    remove_tree(dir);
    free(dir);
}
