/*
 * zoneloop.c - the guest side of bench/bench_zone.py: per-call cost of the
 * path syscalls a zone translates.  Built static (no libraries to find in the
 * zone) and copied into the zone as /bin/zoneloop, so one binary runs
 * natively on a host path, under lx and under proot.
 *
 *   zoneloop stat N PATH       N timed stat(PATH) calls (the libc wrapper:
 *                              newfstatat(AT_FDCWD, PATH, ...) on x86_64)
 *   zoneloop openclose N PATH  N timed open(PATH, O_RDONLY) + close(fd)
 *                              (one iteration = both calls)
 *
 * After an untimed warm-up of min(N/10, 1000) iterations it prints
 *     MODE ns_per_call=<float> n=<N>
 * Every iteration is validated against a reference stat of PATH taken before
 * the loop (regular file, same size and inode; the opened fd must fstat to the
 * same inode once, in the warm-up): exit 1 on an unexpected result, 2 on a
 * usage or setup error; details go to stderr.  Timing is CLOCK_MONOTONIC
 * through the vDSO, so no clock call is intercepted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

static const char *path;
static struct stat ref;
static int reported;


__attribute__((format(printf, 2, 3)))
static void bad_once(const char *mode, const char *fmt, ...)
{
    if (reported++)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s %s: unexpected result: ", mode, path);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int one_stat(void)
{
    struct stat st;
    st.st_ino = 0;
    if (stat(path, &st) != 0) {
        bad_once("stat", "failed, errno %d", errno);
        return 1;
    }
    if (st.st_ino != ref.st_ino || st.st_size != ref.st_size || !S_ISREG(st.st_mode)) {
        bad_once("stat", "ino %lu size %ld mode 0%o, expected ino %lu size %ld, a regular file",
                 (unsigned long)st.st_ino, (long)st.st_size, st.st_mode,
                 (unsigned long)ref.st_ino, (long)ref.st_size);
        return 1;
    }
    return 0;
}

static int one_openclose(void)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        bad_once("openclose", "open failed, errno %d", errno);
        return 1;
    }
    if (close(fd) != 0) {
        bad_once("openclose", "close failed, errno %d", errno);
        return 1;
    }
    return 0;
}

static int check_open_inode(void)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_ino != ref.st_ino || st.st_dev != ref.st_dev) {
        bad_once("openclose", "the opened fd is not the file stat names (errno %d)", errno);
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s stat|openclose N PATH\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    char *end;
    errno = 0;
    long n = strtol(argv[2], &end, 10);
    if (errno || *end || n < 1) {
        fprintf(stderr, "bad N: %s\n", argv[2]);
        return 2;
    }
    path = argv[3];
    int (*one)(void);
    if (!strcmp(mode, "stat"))
        one = one_stat;
    else if (!strcmp(mode, "openclose"))
        one = one_openclose;
    else {
        fprintf(stderr, "unknown mode %s (stat, openclose)\n", mode);
        return 2;
    }
    if (stat(path, &ref) != 0) {
        perror(path);
        return 2;
    }
    if (!S_ISREG(ref.st_mode)) {
        fprintf(stderr, "%s is not a regular file\n", path);
        return 2;
    }

    long bad = one == one_openclose ? check_open_inode() : 0;
    return time_calls(mode, one, n, bad);
}
