/* zone probe: stat, lstat, fstatat, statx -- run in a chroot and in an lx zone, transcripts compared. */
/* Files, directories, symlinks (dangling, looping, chained), "." and ".." at
 * the root, AT_SYMLINK_NOFOLLOW, AT_EMPTY_PATH, errors.  Only deterministic
 * fields are printed: type, mode, nlink, size, ownership, inode comparisons. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zone.h"

#define DIR_ "/tmp/zp-stat"

/* CHECK a stat-like call filling sb, then print the fields when it succeeded
 * (its own CHECK: the text printed is the call as written, macros unexpanded). */
#define STAT(expr) do {                                   \
        memset(&sb, 0, sizeof sb);                        \
        errno = 0;                                        \
        long zs_r_ = (long)(expr);                        \
        probe_report(#expr, zs_r_, errno);                \
        if (zs_r_ == 0)                                   \
            show_stat(&sb);                               \
    } while (0)

static void show_statx(const struct statx *sx)
{
    printf("  %s %04o nlink=%u", ftype(sx->stx_mode), (unsigned)(sx->stx_mode & 07777), (unsigned)sx->stx_nlink);
    if (!S_ISDIR(sx->stx_mode))
        printf(" size=%llu", (unsigned long long)sx->stx_size);
    printf(" uid=%u gid=%u basic=%s\n", (unsigned)sx->stx_uid, (unsigned)sx->stx_gid,
           (sx->stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS ? "all" : "partial");
}

#define STATX(expr) do {                                  \
        memset(&sx, 0, sizeof sx);                        \
        errno = 0;                                        \
        long zs_r_ = (long)(expr);                        \
        probe_report(#expr, zs_r_, errno);                \
        if (zs_r_ == 0)                                   \
            show_statx(&sx);                              \
    } while (0)

static void setup(void)
{
    scratch(DIR_);
    put("f", "hello\n", 0644);
    put("x", "#!/bin/sh\n", 0755);
    mkd("d");
    mkd("d/sub");
    put("d/inner", "inner\n", 0600);
    REQUIRE(link("f", "hard") == 0);
    sym("f", "sf");
    sym("d", "sd");
    sym(DIR_ "/f", "absf");
    sym("nowhere", "dangling");
    sym("loop2", "loop1");
    sym("loop1", "loop2");
    sym("self", "self");
    sym("d/sub", "dirlink");
    sym("/", "rootlink");
    sym("../../../../../../../..", "uplink");
    /* a chain of 40 links ending at f (the most a lookup follows) and one of 41 */
    char a[32], b[32];
    for (int i = 0; i < 41; i++) {
        snprintf(a, sizeof a, "c%02d", i);
        snprintf(b, sizeof b, "c%02d", i + 1);
        sym(i == 40 ? "f" : b, a);
    }
}

static void files(void)
{
    SECTION("files");
    struct stat sb;
    STAT(stat("f", &sb));
    STAT(lstat("f", &sb));
    STAT(stat(DIR_ "/f", &sb));
    STAT(stat("x", &sb));
    STAT(stat("hard", &sb));
    same_inode("f", "hard");
    STAT(stat("d/inner", &sb));
    STAT(syscall(SYS_stat, "f", &sb));
    STAT(syscall(SYS_lstat, "f", &sb));
    STAT(syscall(SYS_newfstatat, AT_FDCWD, "f", &sb, 0));
    STAT(fstatat(AT_FDCWD, "f", &sb, AT_NO_AUTOMOUNT));
}

static void dirs(void)
{
    SECTION("dirs");
    struct stat sb;
    STAT(stat("d", &sb));
    STAT(stat("d/", &sb));
    STAT(stat("d//sub//", &sb));
    STAT(stat("d/.", &sb));
    STAT(stat("d/sub/..", &sb));
    same_inode("d/sub/..", "d");
    same_inode("d/sub/../..", ".");
    same_inode(".", DIR_);
    STAT(lstat("d/", &sb));
    STAT(stat("/tmp", &sb));
    STAT(stat("/etc", &sb));
}

static void symlinks(void)
{
    SECTION("symlinks");
    struct stat sb;
    STAT(stat("sf", &sb));
    STAT(lstat("sf", &sb));
    STAT(lstat("absf", &sb));
    STAT(stat("absf", &sb));
    same_inode("absf", "f");
    STAT(stat("sd", &sb));
    STAT(lstat("sd", &sb));
    STAT(lstat("sd/", &sb));          /* a trailing slash follows */
    STAT(lstat("sd/.", &sb));
    STAT(lstat("sf/", &sb));
    STAT(stat("sf/", &sb));
    STAT(stat("dangling", &sb));
    STAT(lstat("dangling", &sb));
    STAT(lstat("dangling/", &sb));
    STAT(stat("loop1", &sb));
    STAT(lstat("loop1", &sb));
    STAT(stat("loop1/x", &sb));
    STAT(lstat("loop1/", &sb));
    STAT(stat("self", &sb));
    STAT(stat("c01", &sb));            /* 40 links */
    STAT(stat("c00", &sb));            /* 41 links */
    STAT(lstat("c00", &sb));
    STAT(stat("c01/", &sb));
    STAT(stat("dirlink/../inner", &sb)); /* ".." after a symlink: from its target */
    STAT(stat("dirlink/../../f", &sb));
    same_inode("rootlink", "/");
    same_inode("rootlink/tmp", "/tmp");
    same_inode("uplink", "/");
    same_inode("sd/sub", "dirlink");
    STAT(syscall(SYS_lstat, "sf", &sb));
    STAT(syscall(SYS_stat, "sf", &sb));
    STAT(syscall(SYS_stat, "loop1", &sb));
}

static void root_dots(void)
{
    SECTION("root_dots");
    REQUIRE(chdir("/") == 0);
    same_inode(".", "/");
    same_inode("..", "/");
    same_inode("/..", "/");
    same_inode("/../../..", "/");
    same_inode("../../../tmp", "/tmp");
    same_inode("/tmp/..", "/");
    same_inode("/./././", "/");
    same_inode("//", "/");
    same_inode("/tmp/../..", "/");
    struct stat sb;
    STAT(stat("/", &sb));
    STAT(stat("..", &sb));
    STAT(lstat("/", &sb));
    STAT(lstat("..", &sb));
    int rfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(rfd >= 0);
    struct stat a, b;
    REQUIRE(fstat(rfd, &a) == 0);
    memset(&b, 0, sizeof b);
    CHECK(fstatat(rfd, "..", &b, 0));
    printf("  fstatat(rootfd, \"..\") is the root: %s\n",
           a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
    memset(&b, 0, sizeof b);
    CHECK(fstatat(rfd, "../../..", &b, 0));
    printf("  fstatat(rootfd, \"../../..\") is the root: %s\n",
           a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
    close(rfd);
    REQUIRE(chdir(DIR_) == 0);
}

static void at_flags(void)
{
    SECTION("fstatat");
    struct stat sb;
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    STAT(fstatat(AT_FDCWD, "sf", &sb, AT_SYMLINK_NOFOLLOW));
    STAT(fstatat(AT_FDCWD, "sf", &sb, 0));
    STAT(fstatat(AT_FDCWD, "dangling", &sb, AT_SYMLINK_NOFOLLOW));
    STAT(fstatat(dfd, "inner", &sb, 0));
    STAT(fstatat(dfd, "sub", &sb, AT_SYMLINK_NOFOLLOW));
    STAT(fstatat(dfd, "../sf", &sb, AT_SYMLINK_NOFOLLOW));
    STAT(fstatat(dfd, "", &sb, AT_EMPTY_PATH));
    STAT(fstatat(ffd, "", &sb, AT_EMPTY_PATH));
    STAT(fstatat(AT_FDCWD, "", &sb, AT_EMPTY_PATH));   /* the cwd */
    STAT(fstatat(dfd, "", &sb, 0));
    STAT(fstatat(ffd, "", &sb, 0));
    STAT(fstatat(ffd, "x", &sb, 0));
    STAT(fstatat(ffd, "x", &sb, AT_EMPTY_PATH));
    STAT(fstatat(ffd, DIR_ "/f", &sb, 0));             /* absolute: dirfd ignored */
    STAT(fstatat(-1, "f", &sb, 0));
    STAT(fstatat(987, "f", &sb, 0));
    STAT(fstatat(987, "", &sb, AT_EMPTY_PATH));
    STAT(fstatat(987, DIR_ "/f", &sb, 0));
    STAT(fstatat(AT_FDCWD, "f", &sb, 0x1));            /* unknown flag */
    STAT(fstatat(AT_FDCWD, "f", &sb, AT_REMOVEDIR));
    STAT(fstatat(AT_FDCWD, "sf", &sb, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH));
    STAT(syscall(SYS_newfstatat, dfd, "", &sb, AT_EMPTY_PATH));
    close(dfd);
    close(ffd);
}

static void statx_(void)
{
    SECTION("statx");
    struct statx sx;
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    STATX(statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "sf", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "sf", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "dangling", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "dangling", AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "loop1", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "d", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "sf/", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(dfd, "inner", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(dfd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    STATX(statx(ffd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    STATX(statx(ffd, "", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(ffd, "x", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(987, "f", 0, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "f", 0, 0, &sx));
    STATX(statx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "f", AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "f", AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "f", 0x1, STATX_BASIC_STATS, &sx));
    STATX(statx(AT_FDCWD, "f", 0, 0x80000000u, &sx));    /* STATX__RESERVED */
    STATX(syscall(SYS_statx, AT_FDCWD, BADPTR(1), 0, STATX_BASIC_STATS, &sx));
    STATX(syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS, BADPTR(1)));
    STATX(syscall(SYS_statx, AT_FDCWD, "f", 0, STATX_BASIC_STATS, NULL));
    {
        struct statx r, s;
        REQUIRE(statx(AT_FDCWD, "/", 0, STATX_INO, &r) == 0);
        REQUIRE(statx(AT_FDCWD, "/..", 0, STATX_INO, &s) == 0);
        printf("  statx(\"/..\") is the root: %s\n",
               r.stx_ino == s.stx_ino && r.stx_dev_major == s.stx_dev_major && r.stx_dev_minor == s.stx_dev_minor
               ? "yes" : "no");
    }
    close(dfd);
    close(ffd);
}

/* A NULL path: EFAULT, except that AT_EMPTY_PATH takes NULL for "" (statx
 * since 6.11, fstatat since 6.11 where the dirfd is not AT_FDCWD). */
static void null_path(void)
{
    SECTION("null_path");
    struct stat sb;
    struct statx sx;
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    STAT(syscall(SYS_stat, NULL, &sb));
    STAT(syscall(SYS_lstat, NULL, &sb));
    STAT(syscall(SYS_newfstatat, AT_FDCWD, NULL, &sb, 0));
    STAT(syscall(SYS_newfstatat, dfd, NULL, &sb, 0));
    STATX(syscall(SYS_statx, AT_FDCWD, NULL, 0, STATX_BASIC_STATS, &sx));
    STATX(syscall(SYS_statx, ffd, NULL, 0, STATX_BASIC_STATS, &sx));
    STATX(syscall(SYS_statx, ffd, NULL, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
    SECTION("null_path_empty");
    STAT(syscall(SYS_newfstatat, dfd, NULL, &sb, AT_EMPTY_PATH));
    STAT(syscall(SYS_newfstatat, ffd, NULL, &sb, AT_EMPTY_PATH));
    STAT(syscall(SYS_newfstatat, AT_FDCWD, NULL, &sb, AT_EMPTY_PATH));
    STATX(syscall(SYS_statx, AT_FDCWD, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    STATX(syscall(SYS_statx, ffd, NULL, AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
    close(dfd);
    close(ffd);
}

static void errors(void)
{
    SECTION("errors");
    struct stat sb;
    STAT(stat("missing", &sb));
    STAT(stat("missing/x", &sb));
    STAT(stat("f/x", &sb));
    STAT(stat("f/", &sb));
    STAT(stat("f/.", &sb));
    STAT(stat("f/..", &sb));
    STAT(lstat("f/", &sb));
    STAT(stat(STR(""), &sb));
    STAT(lstat(STR(""), &sb));
    STAT(stat(BADPTR(0), &sb));
    STAT(stat(BADPTR(1), &sb));
    STAT(lstat(BADPTR(0), &sb));
    STAT(syscall(SYS_stat, "f", BADPTR(0)));
    STAT(syscall(SYS_stat, "f", BADPTR(1)));
    STAT(syscall(SYS_lstat, "sf", BADPTR(1)));
    STAT(syscall(SYS_newfstatat, AT_FDCWD, "f", BADPTR(1), 0));
    STAT(syscall(SYS_stat, "missing", BADPTR(1)));    /* the lookup fails first */
    STAT(syscall(SYS_stat, BADPTR(1), BADPTR(1)));
    char *p = long_path(DIR_, "f", 4095);
    STAT(stat(p, &sb));
    free(p);
    p = long_path(DIR_, "f", 4096);
    STAT(stat(p, &sb));
    free(p);
    p = long_path(".", "f", 4095);
    STAT(lstat(p, &sb));
    free(p);
    char name[300];
    memset(name, 'n', 256);
    name[256] = 0;
    STAT(stat(name, &sb));
    name[255] = 0;
    STAT(stat(name, &sb));
    /* a directory without search permission: root passes (CAP_DAC_READ_SEARCH) */
    mkd("closed");
    put("closed/in", "x", 0644);
    REQUIRE(chmod("closed", 0) == 0);
    STAT(stat("closed/in", &sb));
    REQUIRE(chmod("closed", 0755) == 0);
}

int main(void)
{
    setup();
    files();
    dirs();
    symlinks();
    root_dots();
    at_flags();
    statx_();
    null_path();
    errors();
    REQUIRE(chdir("/") == 0);
    zp_rmtree(DIR_);
    return 0;
}
