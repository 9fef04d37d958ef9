/* zone.h -- helpers for the zone probes (zone_*.c).
 *
 * The zone probes are run twice in the same directory tree: natively in a
 * chroot of it and under lx with the tree as the zone's root.  They are
 * built static (the tree has no libc) and print deterministic transcripts:
 * fd numbers are printed as "fd", inode numbers only as comparisons, times
 * only when the probe set them itself.
 *
 * A transcript is cut into sections by "== NAME" lines (SECTION(name)); the
 * test compares the transcripts section by section, so a known lx bug in
 * one section does not hide the others.
 *
 * Each probe works in its own scratch directory, /tmp/zp-NAME, removed and
 * made anew at start (scratch()) and removed at the end: runs are
 * repeatable in the same tree.
 */
#ifndef LX_ZONE_PROBE_H
#define LX_ZONE_PROBE_H

#include "probe.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#define SECTION(name) printf("== %s\n", (name))

/* Like CHECK, for calls returning an fd: "expr -> fd" (the number is not printed). */
#define CHECKFD(expr) ({                                             \
        errno = 0;                                                   \
        long zp_r_ = (long)(expr);                                   \
        int zp_e_ = errno;                                           \
        if (zp_r_ >= 0)                                              \
            printf("%s -> fd\n", #expr);                             \
        else                                                         \
            probe_report(#expr, zp_r_, zp_e_);                       \
        (int)zp_r_;                                                  \
    })

/* A string literal the compiler cannot see through. */
#define STR(s) ((const char *)probe_launder((void *)(s)))

static int zp_rm_one(const char *p, const struct stat *sb, int type, struct FTW *f)
{
    (void)sb, (void)type, (void)f;
    return remove(p) == 0 || errno == ENOENT ? 0 : -1;
}

/* rm -rf path (no symlink is followed). */
static inline void zp_rmtree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (!S_ISDIR(sb.st_mode)) {
        unlink(path);
        return;
    }
    chmod(path, 0755);
    nftw(path, zp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh, empty scratch directory; the probe's cwd from now on. */
static inline void scratch(const char *path)
{
    zp_rmtree(path);
    REQUIRE(mkdir(path, 0755) == 0);
    REQUIRE(chdir(path) == 0);
}

/* Setup helpers: REQUIRE, print nothing. */
static inline void put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    REQUIRE(fd >= 0);
    size_t n = strlen(text);
    REQUIRE(write(fd, text, n) == (ssize_t)n);
    REQUIRE(fchmod(fd, mode) == 0);
    close(fd);
}

static inline void mkd(const char *path)
{
    REQUIRE(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static inline void sym(const char *target, const char *path)
{
    unlink(path);
    REQUIRE(symlink(target, path) == 0);
}

/* The file type as a word. */
static inline const char *ftype(mode_t m)
{
    switch (m & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFLNK: return "symlink";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    case S_IFCHR: return "chardev";
    case S_IFBLK: return "blockdev";
    default: return "?";
    }
}

/* "  type mode nlink size uid gid": the deterministic fields of a struct stat
 * (a directory's size depends on the filesystem's history: not printed). */
static inline void show_stat(const struct stat *sb)
{
    printf("  %s %04o nlink=%lu", ftype(sb->st_mode), (unsigned)(sb->st_mode & 07777),
           (unsigned long)sb->st_nlink);
    if (!S_ISDIR(sb->st_mode))
        printf(" size=%lld", (long long)sb->st_size);
    printf(" uid=%u gid=%u\n", (unsigned)sb->st_uid, (unsigned)sb->st_gid);
}

/* stat (follow) or lstat of path, printed as "  stat PATH: ..." */
static inline void show_path(const char *path, int follow)
{
    struct stat sb;
    int r = follow ? stat(path, &sb) : lstat(path, &sb);
    if (r != 0) {
        printf("  %s %s: -1 %s\n", follow ? "stat" : "lstat", path, errname(errno));
        return;
    }
    printf("  %s %s:", follow ? "stat" : "lstat", path);
    show_stat(&sb);
}

/* The whole content of fd (from its current offset), at most n-1 bytes, NUL-terminated. */
static inline ssize_t slurp_fd(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got + 1 < n) {
        ssize_t r = read(fd, buf + got, n - 1 - got);
        if (r < 0) {
            buf[got] = 0;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    buf[got] = 0;
    return (ssize_t)got;
}

/* Print what reading fd gives: "  read: "text"" (newlines as \n) or the error. */
static inline void show_read(int fd)
{
    char buf[256];
    errno = 0;
    ssize_t n = slurp_fd(fd, buf, sizeof buf);
    if (n < 0) {
        printf("  read: -1 %s\n", errname(errno));
        return;
    }
    printf("  read: \"");
    for (char *p = buf; *p; p++) {
        if (*p == '\n')
            printf("\\n");
        else
            putchar(*p);
    }
    printf("\"\n");
}

/* Print the content of the file at path (opened O_RDONLY at dirfd), or the error. */
static inline void show_file(int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        printf("  content %s: -1 %s\n", path, errname(errno));
        return;
    }
    printf("  content %s:", path);
    fflush(stdout);
    char buf[256];
    ssize_t n = slurp_fd(fd, buf, sizeof buf);
    close(fd);
    if (n < 0) {
        printf(" read -1 %s\n", errname(errno));
        return;
    }
    printf(" \"");
    for (char *p = buf; *p; p++) {
        if (*p == '\n')
            printf("\\n");
        else
            putchar(*p);
    }
    printf("\"\n");
}

/* Whether two paths (followed) name the same inode: "same" / "different" / the error. */
static inline void same_inode(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0) {
        printf("  same(%s, %s): stat %s -1 %s\n", a, b, a, errname(errno));
        return;
    }
    if (stat(b, &sb) != 0) {
        printf("  same(%s, %s): stat %s -1 %s\n", a, b, b, errname(errno));
        return;
    }
    printf("  same(%s, %s): %s\n", a, b,
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino ? "same" : "different");
}

/* A path of exactly len bytes (len >= strlen(tail) + 2) naming "tail" in the
 * directory dir (absolute or relative): dir + "/" + "./"* + tail; padded
 * with an extra '/' where an odd count needs it.  malloc'ed: the caller
 * frees it. */
static inline char *long_path(const char *dir, const char *tail, size_t len)
{
    size_t d = strlen(dir), t = strlen(tail);
    char *p = malloc(len + 1);
    REQUIRE(p != NULL && len >= d + 1 + t);
    memcpy(p, dir, d);
    size_t i = d;
    p[i++] = '/';
    size_t fill = len - i - t;
    if (fill % 2) {
        p[i++] = '/';
        fill--;
    }
    for (; fill; fill -= 2) {
        p[i++] = '.';
        p[i++] = '/';
    }
    memcpy(p + i, tail, t);
    p[len] = 0;
    REQUIRE(strlen(p) == len);
    return p;
}

#endif
