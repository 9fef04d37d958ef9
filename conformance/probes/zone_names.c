/* zone probe: names and attributes -- run in a chroot and in an lx zone, transcripts compared. */
/* mkdir, rmdir, unlink, rename(at,at2), link(at), symlink(at), readlink(at),
 * chmod, truncate, utimensat, access/faccessat/faccessat2, chdir/getcwd. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "zone.h"

#define DIR_ "/tmp/zp-names"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

/* Print whether "nowhere" (the dangling symlink's target) was created, and remove it. */
static void nowhere(void)
{
    show_path("nowhere", 0);
    zp_rmtree("nowhere");
}

/* readlink-like calls into buf[64]: the result, then the bytes written and the one after. */
#define RL(expr) do {                                                 \
        memset(buf, '#', sizeof buf);                                 \
        errno = 0;                                                    \
        long r_ = (long)(expr);                                       \
        probe_report(#expr, r_, errno);                               \
        if (r_ >= 0)                                                  \
            printf("  buf: \"%.*s\" then '%c'\n", (int)r_, buf, buf[r_]); \
    } while (0)

static void setup(void)
{
    scratch(DIR_);
    put("f", "hello\n", 0644);
    put("x", "#!/bin/sh\n", 0755);
    mkd("d");
    mkd("d/sub");
    put("d/inner", "inner\n", 0644);
    mkd("empty");
    sym("f", "sf");
    sym("d", "sd");
    sym("empty", "se");
    sym("nowhere", "dangling");
    sym("loop2", "loop1");
    sym("loop1", "loop2");
}

static void mkdirs(void)
{
    SECTION("mkdir");
    CHECK(mkdir("m1", 0755));
    show_path("m1", 0);
    CHECK(mkdir("m1", 0755));
    CHECK(mkdir("m1/", 0755));
    CHECK(mkdir("m2/", 0755));          /* a trailing slash is fine for mkdir */
    CHECK(mkdir("m3//", 0700));
    show_path("m3", 0);
    CHECK(mkdir("f", 0755));
    CHECK(mkdir("f/", 0755));
    CHECK(mkdir("sd", 0755));
    CHECK(mkdir("missing/x", 0755));
    CHECK(mkdir("f/x", 0755));
    CHECK(mkdir("sd/viasym", 0755));
    show_path("d/viasym", 0);
    CHECK(mkdir("/", 0755));
    CHECK(mkdir(".", 0755));
    CHECK(mkdir("..", 0755));
    CHECK(mkdir("m1/.", 0755));
    CHECK(mkdir("m1/..", 0755));
    CHECK(mkdir(STR(""), 0755));
    CHECK(mkdir(BADPTR(0), 0755));
    CHECK(syscall(SYS_mkdir, "m4", 0750));
    show_path("m4", 0);
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    CHECK(mkdirat(dfd, "at1", 0755));
    show_path("d/at1", 0);
    CHECK(mkdirat(dfd, "at1", 0755));
    CHECK(mkdirat(dfd, "../at2", 0755));
    show_path("at2", 0);
    CHECK(mkdirat(ffd, "x", 0755));
    CHECK(mkdirat(987, "x", 0755));
    CHECK(mkdirat(987, DIR_ "/at3", 0755));
    CHECK(mkdirat(dfd, STR(""), 0755));
    mode_t old = umask(027);
    CHECK(mkdir("um1", 0777));
    show_path("um1", 0);
    umask(0);
    CHECK(mkdir("um2", 01777));
    show_path("um2", 0);
    CHECK(mkdir("um3", 07777));
    show_path("um3", 0);
    umask(old);
    close(dfd);
    close(ffd);
}

static void rmdirs(void)
{
    SECTION("rmdir");
    mkd("r1");
    mkd("r2");
    mkd("r3");
    CHECK(rmdir("r1"));
    show_path("r1", 0);
    CHECK(rmdir("r1"));
    CHECK(rmdir("r2/"));
    CHECK(rmdir("r3//"));
    CHECK(rmdir("d"));                /* ENOTEMPTY */
    CHECK(rmdir("f"));
    CHECK(rmdir("f/"));
    CHECK(rmdir("se"));               /* a symlink to a directory: ENOTDIR */
    CHECK(rmdir("se/"));
    show_path("empty", 0);
    CHECK(rmdir("dangling"));
    CHECK(rmdir("missing"));
    CHECK(rmdir("missing/x"));
    CHECK(rmdir("."));
    CHECK(rmdir(".."));
    CHECK(rmdir("empty/."));
    CHECK(rmdir("empty/.."));
    CHECK(rmdir("/"));
    CHECK(rmdir("/."));
    CHECK(rmdir("/.."));
    CHECK(rmdir("//"));
    CHECK(rmdir(STR("")));
    CHECK(rmdir(BADPTR(0)));
    CHECK(syscall(SYS_rmdir, "missing"));
    mkd("r4");
    CHECK(syscall(SYS_rmdir, "r4"));
    /* the cwd itself */
    mkd("cwdgone");
    REQUIRE(chdir("cwdgone") == 0);
    CHECK(rmdir(DIR_ "/cwdgone"));
    CHECK(mkdir("x", 0755));           /* ENOENT in a removed directory */
    CHECK(open("x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    REQUIRE(chdir(DIR_) == 0);
}

static void unlinks(void)
{
    SECTION("unlink");
    put("u1", "u", 0644);
    put("u2", "u", 0644);
    put("u3", "u", 0644);
    put("u4", "u", 0644);
    sym("u4", "su4");
    mkd("ud");
    CHECK(unlink("u1"));
    show_path("u1", 0);
    CHECK(unlink("u1"));
    CHECK(unlink("missing/"));
    CHECK(unlink("d"));                 /* EISDIR */
    CHECK(unlink("d/"));
    CHECK(unlink("su4"));               /* the link, not its target */
    show_path("su4", 0);
    show_path("u4", 0);
    sym("nowhere", "dang2");
    CHECK(unlink("dang2"));
    show_path("dang2", 0);
    CHECK(unlink("."));
    CHECK(unlink(".."));
    CHECK(unlink("d/."));
    CHECK(unlink(STR("")));
    CHECK(unlink(BADPTR(0)));
    CHECK(syscall(SYS_unlink, "u3"));
    show_path("u3", 0);
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    put("d/ua", "u", 0644);
    mkd("d/uad");
    CHECK(unlinkat(dfd, "ua", 0));
    show_path("d/ua", 0);
    CHECK(unlinkat(dfd, "uad", 0));     /* EISDIR */
    CHECK(unlinkat(dfd, "uad", AT_REMOVEDIR));
    show_path("d/uad", 0);
    CHECK(unlinkat(dfd, "inner", AT_REMOVEDIR));
    CHECK(unlinkat(AT_FDCWD, "ud", AT_REMOVEDIR));
    CHECK(unlinkat(AT_FDCWD, "d", AT_REMOVEDIR));
    CHECK(unlinkat(AT_FDCWD, ".", AT_REMOVEDIR));
    CHECK(unlinkat(AT_FDCWD, "f", 0x1));
    CHECK(unlinkat(AT_FDCWD, "f", AT_SYMLINK_NOFOLLOW));
    CHECK(unlinkat(ffd, "x", 0));
    CHECK(unlinkat(987, "x", 0));
    close(dfd);
    close(ffd);
}

static void show_two(const char *a, const char *b)
{
    show_path(a, 0);
    show_path(b, 0);
}

static void renames(void)
{
    SECTION("rename");
    put("n1", "one\n", 0644);
    put("n2", "two\n", 0600);
    CHECK(rename("n1", "n1b"));
    show_two("n1", "n1b");
    CHECK(rename("n1b", "n2"));          /* replaces */
    show_path("n2", 0);
    show_file(AT_FDCWD, "n2");
    CHECK(rename("n2", "n2"));           /* the same name: nothing happens */
    REQUIRE(link("n2", "n2h") == 0);
    CHECK(rename("n2", "n2h"));          /* two links of one inode: nothing happens */
    show_two("n2", "n2h");
    mkd("rd1");
    mkd("rd2");
    put("rd2/in", "x", 0644);
    mkd("rd3");
    CHECK(rename("n2", "rd1"));          /* EISDIR */
    CHECK(rename("rd1", "n2"));          /* ENOTDIR */
    CHECK(rename("rd1", "rd2"));         /* ENOTEMPTY */
    CHECK(rename("rd1", "rd3"));         /* replaces the empty directory */
    show_two("rd1", "rd3");
    CHECK(rename("rd3", "rd3/sub"));     /* EINVAL: into itself */
    CHECK(rename("rd2", "rd2/in/x"));
    CHECK(rename("rd3/", "rd4/"));       /* trailing slashes on directories */
    show_path("rd4", 0);
    CHECK(rename("missing", "n3"));
    CHECK(rename("n2", "missing/n3"));
    CHECK(rename("n2", "f/n3"));
    CHECK(rename("/", "x"));
    CHECK(rename("rd4", "/"));
    CHECK(rename(STR(""), "x"));
    CHECK(rename("n2", STR("")));
    CHECK(rename(BADPTR(0), "x"));
    CHECK(rename("n2", BADPTR(0)));
    show_path("n2", 0);
    sym("n2", "sn2");
    CHECK(rename("sn2", "sn3"));         /* the link moves, not its target */
    show_two("sn3", "n2");
    sym("nowhere", "dang3");
    CHECK(rename("dang3", "dang4"));
    show_path("dang4", 0);
    CHECK(rename("n2", "dang4"));        /* replaces the link itself */
    show_two("dang4", "nowhere");
    CHECK(syscall(SYS_rename, "dang4", "n5"));
    show_path("n5", 0);
    /* renameat */
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    CHECK(renameat(AT_FDCWD, "n5", dfd, "n6"));
    show_path("d/n6", 0);
    CHECK(renameat(dfd, "n6", dfd, "../n7"));
    show_path("n7", 0);
    CHECK(renameat(ffd, "x", AT_FDCWD, "y"));
    CHECK(renameat(AT_FDCWD, "n7", ffd, "y"));
    CHECK(renameat(987, "n7", AT_FDCWD, "y"));
    CHECK(renameat(AT_FDCWD, "n7", 987, "y"));
    CHECK(renameat(987, DIR_ "/n7", 987, DIR_ "/n8"));
    show_path("n8", 0);
    close(dfd);
    close(ffd);
}

static void renames2(void)
{
    SECTION("renameat2");
    put("a", "A\n", 0644);
    put("b", "B\n", 0644);
    mkd("dir");
    CHECK(renameat2(AT_FDCWD, "a", AT_FDCWD, "b", RENAME_NOREPLACE));
    show_file(AT_FDCWD, "b");
    CHECK(renameat2(AT_FDCWD, "a", AT_FDCWD, "c", RENAME_NOREPLACE));
    show_two("a", "c");
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "dangling", RENAME_NOREPLACE));  /* a dangling link exists */
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "b", RENAME_EXCHANGE));
    show_file(AT_FDCWD, "b");
    show_file(AT_FDCWD, "c");
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "dir", RENAME_EXCHANGE));       /* file <-> directory */
    show_two("c", "dir");
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "dir", RENAME_EXCHANGE));
    show_two("c", "dir");
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "nothere", RENAME_EXCHANGE));   /* ENOENT */
    CHECK(renameat2(AT_FDCWD, "nothere", AT_FDCWD, "c", RENAME_EXCHANGE));
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "b", RENAME_EXCHANGE | RENAME_NOREPLACE));  /* EINVAL */
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "b", 1 << 5));                  /* unknown flag */
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "c", RENAME_NOREPLACE));        /* EEXIST */
    CHECK(renameat2(AT_FDCWD, "c", AT_FDCWD, "c", RENAME_EXCHANGE));
    CHECK(renameat2(AT_FDCWD, "dir", AT_FDCWD, "dir/in", RENAME_EXCHANGE));
    sym("c", "sc");
    CHECK(renameat2(AT_FDCWD, "sc", AT_FDCWD, "b", RENAME_EXCHANGE));        /* the link itself moves */
    show_two("sc", "b");
    CHECK(renameat2(AT_FDCWD, "b", AT_FDCWD, "c/", RENAME_NOREPLACE));
    CHECK(syscall(SYS_renameat2, AT_FDCWD, "b", AT_FDCWD, "e", 0));
    show_path("e", 0);
}

static void links(void)
{
    SECTION("link");
    struct stat sb;
    put("l1", "L\n", 0644);
    CHECK(link("l1", "l2"));
    REQUIRE(stat("l1", &sb) == 0);
    printf("  nlink after link: %lu\n", (unsigned long)sb.st_nlink);
    same_inode("l1", "l2");
    CHECK(link("l1", "l2"));             /* EEXIST */
    CHECK(link("d", "dl"));              /* EPERM: a directory */
    CHECK(link("missing", "x"));
    CHECK(link("l1", "missing/x"));
    CHECK(link("l1", "f/x"));
    CHECK(link("l1/", "x"));
    CHECK(link("l1", "d/"));
    CHECK(link("l1", "."));
    CHECK(link("l1", "/"));
    CHECK(link(".", "x"));
    CHECK(link(STR(""), "x"));
    CHECK(link("l1", STR("")));
    CHECK(link(BADPTR(0), "x"));
    CHECK(link("sf", "hsf"));            /* link(2) does not follow: a link to the symlink */
    show_path("hsf", 0);
    CHECK(linkat(AT_FDCWD, "sf", AT_FDCWD, "hsf2", AT_SYMLINK_FOLLOW));
    show_path("hsf2", 0);
    same_inode("hsf2", "f");
    CHECK(linkat(AT_FDCWD, "dangling", AT_FDCWD, "hd", 0));
    show_path("hd", 0);
    CHECK(linkat(AT_FDCWD, "dangling", AT_FDCWD, "hd2", AT_SYMLINK_FOLLOW));
    nowhere();
    CHECK(linkat(AT_FDCWD, "loop1", AT_FDCWD, "hl", AT_SYMLINK_FOLLOW));
    CHECK(linkat(AT_FDCWD, "sd", AT_FDCWD, "hsd", AT_SYMLINK_FOLLOW));       /* EPERM */
    CHECK(linkat(AT_FDCWD, "l1", AT_FDCWD, "x", 0x1));                       /* EINVAL */
    CHECK(linkat(AT_FDCWD, "l1", AT_FDCWD, "x", AT_SYMLINK_NOFOLLOW));       /* EINVAL */
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("l1", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    CHECK(linkat(AT_FDCWD, "l1", dfd, "l4", 0));
    show_path("d/l4", 0);
    CHECK(linkat(dfd, "l4", dfd, "../l5", 0));
    show_path("l5", 0);
    CHECK(linkat(ffd, "", AT_FDCWD, "l6", AT_EMPTY_PATH));   /* root: CAP_DAC_READ_SEARCH */
    show_path("l6", 0);
    CHECK(linkat(ffd, "", AT_FDCWD, "l7", 0));               /* ENOENT */
    CHECK(linkat(dfd, "", AT_FDCWD, "l8", AT_EMPTY_PATH));   /* EPERM: a directory */
    CHECK(linkat(ffd, "x", AT_FDCWD, "l9", 0));              /* ENOTDIR */
    CHECK(linkat(987, "x", AT_FDCWD, "l9", 0));
    CHECK(linkat(AT_FDCWD, "l1", 987, "l9", 0));
    CHECK(syscall(SYS_link, "l1", "l10"));
    REQUIRE(stat("l1", &sb) == 0);
    printf("  nlink at the end: %lu\n", (unsigned long)sb.st_nlink);
    close(dfd);
    close(ffd);
}

static void symlinks(void)
{
    SECTION("symlink");
    CHECK(symlink("target", "s1"));
    show_path("s1", 0);
    CHECK(symlink("f", "d"));
    CHECK(symlink(STR(""), "s2"));          /* ENOENT: an empty target */
    CHECK(symlink("t", STR("")));
    CHECK(symlink("t", "missing/s"));
    CHECK(symlink("t", "f/s"));
    CHECK(symlink("t", "d/"));              /* EEXIST */
    CHECK(symlink("t", "."));
    CHECK(symlink("t", "/"));
    CHECK(symlink(BADPTR(0), "s4"));
    CHECK(symlink("t", BADPTR(0)));
    CHECK(symlink("/", "s5"));
    CHECK(symlink("../../../../../..", "s6"));
    CHECK(symlink("a/b/../../c//d/", "s7"));
    show_path("s7", 0);
    char *p = long_path("t", "x", 4095);    /* the longest target */
    CHECK(symlink(p, "s8"));
    show_path("s8", 0);
    free(p);
    p = long_path("t", "x", 4096);
    CHECK(symlink(p, "s9"));
    free(p);
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    CHECK(symlinkat("inner", dfd, "sa"));
    show_path("d/sa", 0);
    show_file(AT_FDCWD, "d/sa");
    CHECK(symlinkat("inner", ffd, "sa"));
    CHECK(symlinkat("inner", 987, "sa"));
    CHECK(symlinkat("inner", 987, DIR_ "/sb"));
    show_path("sb", 0);
    CHECK(syscall(SYS_symlink, "f", "s10"));
    show_file(AT_FDCWD, "s10");
    close(dfd);
    close(ffd);
}

static void readlinks(void)
{
    SECTION("readlink");
    char buf[64];
    sym("a-rather-long-target", "rl");
    RL(readlink("rl", buf, sizeof buf));
    RL(readlink("rl", buf, 3));            /* truncated, no NUL */
    RL(readlink("rl", buf, 1));
    RL(syscall(SYS_readlink, "rl", buf, 0));         /* EINVAL */
    RL(syscall(SYS_readlink, "rl", buf, -1));        /* EINVAL */
    RL(readlink("f", buf, sizeof buf));    /* EINVAL: not a symlink */
    RL(readlink("d", buf, sizeof buf));
    RL(readlink("d/", buf, sizeof buf));
    RL(readlink("missing", buf, sizeof buf));
    RL(readlink("dangling", buf, sizeof buf));
    RL(readlink("loop1", buf, sizeof buf));
    RL(readlink("sd/", buf, sizeof buf));  /* the trailing slash follows: EINVAL */
    RL(readlink("sf/", buf, sizeof buf));
    RL(readlink("/", buf, sizeof buf));
    RL(readlink(".", buf, sizeof buf));
    RL(readlink(BADPTR(0), buf, sizeof buf));
    RL(readlink("rl", BADPTR(1), sizeof buf));
    RL(readlink("f", BADPTR(1), sizeof buf));
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    sym("inner", "d/rli");
    RL(readlinkat(dfd, "rli", buf, sizeof buf));
    RL(readlinkat(dfd, "../rl", buf, sizeof buf));
    RL(readlinkat(ffd, "x", buf, sizeof buf));
    RL(readlinkat(987, "rl", buf, sizeof buf));
    RL(readlinkat(AT_FDCWD, "rl", buf, 5));
    RL(syscall(SYS_readlinkat, AT_FDCWD, "rl", buf, 0));
    close(dfd);
    close(ffd);
}

static void chmods(void)
{
    SECTION("chmod");
    put("cm", "c", 0644);
    CHECK(chmod("cm", 0600));
    show_path("cm", 0);
    CHECK(chmod("cm", 07777));
    show_path("cm", 0);
    CHECK(chmod("cm", 0100644));           /* the type bits are ignored */
    show_path("cm", 0);
    sym("cm", "scm");
    CHECK(chmod("scm", 0640));             /* follows */
    show_path("cm", 0);
    show_path("scm", 0);
    CHECK(chmod("d", 0700));
    show_path("d", 0);
    CHECK(chmod("d", 0755));
    CHECK(chmod("missing", 0644));
    CHECK(chmod("dangling", 0644));
    nowhere();
    CHECK(chmod("cm/", 0644));
    CHECK(chmod(STR(""), 0644));
    CHECK(chmod(BADPTR(0), 0644));
    CHECK(syscall(SYS_chmod, "cm", 0604));
    show_path("cm", 0);
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("cm", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    put("d/cm2", "c", 0644);
    CHECK(fchmodat(dfd, "cm2", 0611, 0));
    show_path("d/cm2", 0);
    CHECK(fchmodat(ffd, "x", 0611, 0));
    CHECK(fchmodat(987, "cm2", 0611, 0));
    CHECK(syscall(SYS_fchmodat, AT_FDCWD, "scm", 0644));
    show_path("cm", 0);
    CHECK(syscall(SYS_fchmodat2, AT_FDCWD, "scm", 0600, AT_SYMLINK_NOFOLLOW));  /* EOPNOTSUPP */
    CHECK(syscall(SYS_fchmodat2, AT_FDCWD, "cm", 0640, AT_SYMLINK_NOFOLLOW));
    show_path("cm", 0);
    CHECK(syscall(SYS_fchmodat2, AT_FDCWD, "cm", 0640, 0x1));                   /* EINVAL */
    CHECK(syscall(SYS_fchmodat2, ffd, "", 0604, AT_EMPTY_PATH));
    show_path("cm", 0);
    CHECK(syscall(SYS_fchmodat2, ffd, "", 0604, 0));
    close(dfd);
    close(ffd);
}

static void truncates(void)
{
    SECTION("truncate");
    put("tr", "0123456789", 0644);
    CHECK(truncate("tr", 4));
    show_path("tr", 0);
    show_file(AT_FDCWD, "tr");
    CHECK(truncate("tr", 100));
    show_path("tr", 0);
    CHECK(truncate("tr", 0));
    show_path("tr", 0);
    CHECK(truncate("tr", -1));
    sym("tr", "str");
    CHECK(truncate("str", 7));
    show_path("tr", 0);
    CHECK(truncate("d", 0));
    CHECK(truncate("missing", 0));
    CHECK(truncate("dangling", 0));
    nowhere();
    CHECK(truncate("tr/", 0));
    CHECK(truncate(STR(""), 0));
    CHECK(truncate(BADPTR(0), 0));
    CHECK(syscall(SYS_truncate, "tr", 3));
    show_path("tr", 0);
    REQUIRE(chmod("tr", 0444) == 0);
    CHECK(truncate("tr", 1));              /* root may write */
    show_path("tr", 0);
    REQUIRE(chmod("tr", 0644) == 0);
}

static void show_times(const char *path, int follow)
{
    struct stat sb;
    if ((follow ? stat(path, &sb) : lstat(path, &sb)) != 0) {
        printf("  times %s: -1 %s\n", path, errname(errno));
        return;
    }
    printf("  times %s: atime=%lld.%09ld mtime=%lld.%09ld\n", path, (long long)sb.st_atim.tv_sec,
           sb.st_atim.tv_nsec, (long long)sb.st_mtim.tv_sec, sb.st_mtim.tv_nsec);
}

static void utimes_(void)
{
    SECTION("utimensat");
    put("ut", "u", 0644);
    sym("ut", "sut");
    struct timespec ts[2] = { { 1000000000, 0 }, { 1234567890, 500 } };
    CHECK(utimensat(AT_FDCWD, "ut", ts, 0));
    show_times("ut", 1);
    ts[0].tv_sec = 1100000000;
    ts[1].tv_sec = 1200000000;
    ts[1].tv_nsec = 0;
    CHECK(utimensat(AT_FDCWD, "sut", ts, 0));             /* follows */
    show_times("ut", 1);
    struct timespec omit[2] = { { 0, UTIME_OMIT }, { 1500000000, 7 } };
    CHECK(utimensat(AT_FDCWD, "ut", omit, 0));
    show_times("ut", 1);
    int dfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dfd >= 0);
    ts[0].tv_sec = 1600000000;
    ts[1].tv_sec = 1700000000;
    CHECK(utimensat(dfd, "ut", ts, 0));
    show_times("ut", 1);
    CHECK(utimensat(AT_FDCWD, "d", ts, 0));
    show_times("d", 1);
    struct timespec bad[2] = { { 0, 1000000000 }, { 0, 0 } };
    CHECK(utimensat(AT_FDCWD, "ut", bad, 0));             /* EINVAL */
    CHECK(utimensat(AT_FDCWD, "ut", ts, 0x1));            /* EINVAL */
    CHECK(utimensat(AT_FDCWD, "missing", ts, 0));
    CHECK(utimensat(AT_FDCWD, "dangling", ts, 0));
    nowhere();
    CHECK(utimensat(AT_FDCWD, "ut/", ts, 0));
    CHECK(utimensat(AT_FDCWD, STR(""), ts, 0));
    CHECK(utimensat(AT_FDCWD, "ut", BADPTR(1), 0));
    CHECK(syscall(SYS_utimensat, AT_FDCWD, NULL, ts, 0));  /* a NULL path with AT_FDCWD: EFAULT */
    CHECK(utimensat(dfd, "", ts, AT_EMPTY_PATH));
    show_times(".", 1);
    struct timeval tv[2] = { { 1010101010, 5 }, { 1020202020, 999999 } };
    CHECK(utimes("ut", tv));
    show_times("ut", 1);
    struct timeval tvbad[2] = { { 1, 1000000 }, { 1, 0 } };
    CHECK(utimes("ut", tvbad));                          /* EINVAL */
    CHECK(futimesat(dfd, "ut", tv));
    CHECK(futimesat(987, "ut", tv));
    /* utime(2): whole seconds */
    long ub[2] = { 1030303030, 1040404040 };
    CHECK(syscall(SYS_utime, "ut", ub));
    show_times("ut", 1);
    close(dfd);
}

static void accesses(void)
{
    SECTION("access");
    put("ro", "r", 0444);
    put("none", "n", 0);
    CHECK(access("f", F_OK));
    CHECK(access("f", R_OK));
    CHECK(access("f", W_OK));              /* root */
    CHECK(access("f", X_OK));              /* EACCES: no x bit, even for root */
    CHECK(access("x", X_OK));
    CHECK(access("ro", W_OK));
    CHECK(access("none", R_OK | W_OK));
    CHECK(access("none", X_OK));
    CHECK(access("d", X_OK));
    CHECK(access("d", R_OK | W_OK | X_OK));
    CHECK(access("missing", F_OK));
    CHECK(access("dangling", F_OK));
    nowhere();
    CHECK(access("sf", X_OK));
    CHECK(access("f/", F_OK));
    CHECK(access("f", 8));                 /* EINVAL */
    CHECK(access(STR(""), F_OK));
    CHECK(access(BADPTR(0), F_OK));
    CHECK(syscall(SYS_access, "x", X_OK));
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    CHECK(syscall(SYS_faccessat, dfd, "inner", R_OK));
    CHECK(syscall(SYS_faccessat, dfd, "../x", X_OK));
    CHECK(syscall(SYS_faccessat, ffd, "x", F_OK));
    CHECK(syscall(SYS_faccessat, 987, "x", F_OK));
    CHECK(syscall(SYS_faccessat, AT_FDCWD, "f", 8));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, AT_SYMLINK_NOFOLLOW));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "dangling", F_OK, 0));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "sf", X_OK, AT_SYMLINK_NOFOLLOW));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "x", X_OK, AT_EACCESS));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "f", W_OK, AT_EACCESS));
    CHECK(syscall(SYS_faccessat2, ffd, "", R_OK, AT_EMPTY_PATH));
    CHECK(syscall(SYS_faccessat2, ffd, "", X_OK, AT_EMPTY_PATH));
    CHECK(syscall(SYS_faccessat2, ffd, "", R_OK, 0));
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "f", F_OK, 0x1));      /* EINVAL */
    CHECK(syscall(SYS_faccessat2, AT_FDCWD, "f", 8, 0));           /* EINVAL */
    close(dfd);
    close(ffd);
}

static void show_cwd(void)
{
    char buf[512];
    errno = 0;
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    if (n < 0)
        printf("  getcwd: -1 %s\n", errname(errno));
    else
        printf("  getcwd: %ld \"%s\"\n", n, buf);
}

static void cwds(void)
{
    SECTION("cwd");
    REQUIRE(mkdir("cw", 0755) == 0 && mkdir("cw/a", 0755) == 0 && mkdir("cw/a/b", 0755) == 0 &&
            mkdir("cw/a/b/c", 0755) == 0 && mkdir("cw/a/b/c/d", 0755) == 0);
    sym("cw/a/b", "cl");
    CHECK(chdir(DIR_ "/cw/a/b/c/d"));
    show_cwd();
    CHECK(chdir(".."));
    show_cwd();
    CHECK(chdir("../../.."));
    show_cwd();
    CHECK(chdir("/"));
    show_cwd();
    CHECK(chdir(".."));
    show_cwd();
    CHECK(chdir("../../.."));
    show_cwd();
    CHECK(chdir("/.."));
    show_cwd();
    CHECK(chdir(DIR_ "/cl"));               /* a symlink: the cwd is its target */
    show_cwd();
    CHECK(chdir(".."));
    show_cwd();
    CHECK(chdir(DIR_ "/f"));                /* ENOTDIR */
    CHECK(chdir(DIR_ "/sf"));
    CHECK(chdir(DIR_ "/missing"));
    CHECK(chdir(DIR_ "/dangling"));
    CHECK(chdir(DIR_ "/loop1"));
    CHECK(chdir(STR("")));
    CHECK(chdir(BADPTR(0)));
    show_cwd();
    CHECK(chdir(DIR_ "/cw/a/"));
    show_cwd();
    int dfd = open(DIR_ "/d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open(DIR_ "/f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    CHECK(fchdir(dfd));
    show_cwd();
    CHECK(fchdir(ffd));
    CHECK(fchdir(987));
    /* getcwd's own errors */
    char small[8];
    CHECK(syscall(SYS_getcwd, small, 1));   /* ERANGE */
    CHECK(syscall(SYS_getcwd, small, sizeof small));
    CHECK(syscall(SYS_getcwd, BADPTR(1), 64));
    CHECK(syscall(SYS_getcwd, small, 0));
    REQUIRE(chdir("/") == 0);
    CHECK(syscall(SYS_getcwd, small, 1));   /* "/" needs 2 bytes */
    CHECK(syscall(SYS_getcwd, small, 2));
    /* the directory renamed under the cwd */
    REQUIRE(chdir(DIR_ "/cw/a") == 0);
    CHECK(rename(DIR_ "/cw/a", DIR_ "/cw/moved"));
    show_cwd();
    CHECK(chdir(".."));
    show_cwd();
    REQUIRE(chdir(DIR_) == 0);
    close(dfd);
    close(ffd);
}

static void mknods(void)
{
    SECTION("mknod");
    CHECK(mknod("fifo1", S_IFIFO | 0644, 0));
    show_path("fifo1", 0);
    CHECK(mknod("fifo1", S_IFIFO | 0644, 0));
    CHECK(mknodat(AT_FDCWD, "reg1", S_IFREG | 0600, 0));
    show_path("reg1", 0);
    CHECK(mknod("reg2", 0600, 0));         /* type 0: a regular file */
    show_path("reg2", 0);
    CHECK(mknod("d", S_IFIFO | 0644, 0));
    CHECK(mknod("missing/x", S_IFIFO | 0644, 0));
    CHECK(mknod("bad", 0170000 | 0644, 0));  /* EINVAL */
    mode_t old = umask(077);
    CHECK(mknod("fifo2", S_IFIFO | 0666, 0));
    show_path("fifo2", 0);
    umask(old);
    CHECK(syscall(SYS_mknod, "fifo3", S_IFIFO | 0640, 0));
    show_path("fifo3", 0);
}

/* Creating a name where a dangling symlink is: the name exists (EEXIST);
 * the link is never followed to create its target. */
static void over_dangling(void)
{
    SECTION("create_over_dangling_symlink");
    CHECK(mkdir("dangling", 0755));
    nowhere();
    CHECK(mkdir("dangling/", 0755));
    nowhere();
    put("lt", "T\n", 0644);
    CHECK(link("lt", "dangling"));
    nowhere();
    CHECK(symlink("x", "dangling"));
    nowhere();
    sym("target", "s1");
    CHECK(symlink("target", "s1"));
    show_path("target", 0);
    zp_rmtree("target");
    CHECK(mknod("dangling", S_IFIFO | 0644, 0));
    nowhere();
}

/* A trailing slash on a name that is not (or would not be) a directory. */
static void trailing_slash(void)
{
    SECTION("trailing_slash");
    put("u2", "u", 0644);
    CHECK(unlink("u2/"));                 /* ENOTDIR, and the file stays */
    show_path("u2", 0);
    put("t1", "t\n", 0644);
    CHECK(rename("t1", "t1b/"));          /* ENOTDIR */
    show_two("t1", "t1b");
    put("t2", "t\n", 0644);
    CHECK(rename("t2/", "t2b"));
    show_two("t2", "t2b");
    put("t3", "t\n", 0644);
    put("t3b", "t\n", 0644);
    CHECK(rename("t3", "t3b/"));
    show_two("t3", "t3b");
    put("lt2", "T\n", 0644);
    CHECK(link("lt2", "l3/"));            /* ENOENT: a trailing slash asks for a directory */
    show_path("l3", 0);
    CHECK(symlink("t", "s3/"));           /* ENOENT */
    show_path("s3", 0);
    CHECK(mknod("fifo4/", S_IFIFO | 0644, 0));
    show_path("fifo4", 0);
}

/* ".", ".." and "/" as the entry to remove or rename. */
static void dot_names(void)
{
    SECTION("dot_names");
    put("x", "x", 0644);
    mkd("rdot");
    CHECK(unlink("/"));                   /* EISDIR: not a plain name */
    CHECK(unlink("//"));
    CHECK(rename(".", "x"));              /* EBUSY */
    CHECK(rename("..", "x"));
    CHECK(rename("x", "."));
    CHECK(rename("x", ".."));
    CHECK(rename("rdot", "."));
    CHECK(rename("d/.", "x"));
    CHECK(rename("rdot", "d/.."));
    CHECK(renameat2(AT_FDCWD, "x", AT_FDCWD, ".", RENAME_NOREPLACE));   /* EEXIST before EBUSY */
    CHECK(renameat2(AT_FDCWD, "x", AT_FDCWD, ".", RENAME_EXCHANGE));
    CHECK(link("x", "."));
    CHECK(link("x", ".."));
    CHECK(symlink("t", ".."));
    CHECK(mkdir("d/..", 0755));
}

/* Which error comes first when one name is bad and the other missing:
 * rename(2) looks up both parents (EFAULT from the new name) before either
 * last component (ENOENT); link(2) looks the old name up first. */
static void name_order(void)
{
    SECTION("names_read_first");
    CHECK(rename("missing", BADPTR(0)));
    CHECK(rename("missing", BADPTR(1)));
    CHECK(link("missing", BADPTR(1)));
    CHECK(renameat2(AT_FDCWD, "missing", AT_FDCWD, BADPTR(1), RENAME_NOREPLACE));
    CHECK(linkat(987, "x", AT_FDCWD, BADPTR(1), 0));
}

/* readlink of "" or of a non-symlink by fd: ENOENT (EINVAL only names a non-symlink by a path). */
static void readlink_empty(void)
{
    SECTION("readlink_empty");
    char buf[64];
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    RL(readlink(STR(""), buf, sizeof buf));
    RL(readlinkat(dfd, "", buf, sizeof buf));
    RL(readlinkat(ffd, "", buf, sizeof buf));
    RL(readlinkat(AT_FDCWD, "", buf, sizeof buf));
    close(dfd);
    close(ffd);
}

/* An empty path is ENOENT before the dirfd is looked at. */
static void empty_bad_dirfd(void)
{
    SECTION("empty_path_bad_dirfd");
    struct stat sb;
    char buf[64];
    CHECK(openat(987, "", O_RDONLY | O_CLOEXEC));
    CHECK(mkdirat(987, "", 0755));
    CHECK(unlinkat(987, "", 0));
    CHECK(unlinkat(987, "", AT_REMOVEDIR));
    CHECK(fstatat(987, "", &sb, 0));
    CHECK(readlinkat(987, "", buf, sizeof buf));
    CHECK(fchmodat(987, "", 0644, 0));
    CHECK(syscall(SYS_faccessat, 987, "", F_OK));
    CHECK(symlinkat("t", 987, ""));
    CHECK(renameat(987, "", AT_FDCWD, "x"));
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dfd >= 0);
    CHECK(unlinkat(dfd, "", 0));
    CHECK(unlinkat(dfd, "", AT_REMOVEDIR));
    close(dfd);
}

/* utimensat(AT_SYMLINK_NOFOLLOW) sets a symlink's own times. */
static void utimens_nofollow(void)
{
    SECTION("utimensat_nofollow");
    put("ut2", "u", 0644);
    sym("ut2", "sut2");
    struct timespec ts[2] = { { 1300000000, 0 }, { 1400000000, 0 } };
    CHECK(utimensat(AT_FDCWD, "sut2", ts, AT_SYMLINK_NOFOLLOW));
    show_times("sut2", 0);
    struct timespec ts2[2] = { { 1310000000, 0 }, { 1410000000, 0 } };
    CHECK(utimensat(AT_FDCWD, DIR_ "/sut2", ts2, AT_SYMLINK_NOFOLLOW));
    show_times("sut2", 0);
    CHECK(utimensat(AT_FDCWD, "ut2", ts2, AT_SYMLINK_NOFOLLOW));   /* not a symlink: as without the flag */
    show_times("ut2", 0);
}

/* getcwd when the cwd has been removed: ENOENT. */
static void cwd_removed(void)
{
    SECTION("cwd_removed");
    REQUIRE(mkdir("gone", 0755) == 0 && mkdir("gone/sub", 0755) == 0);
    REQUIRE(chdir("gone/sub") == 0);
    CHECK(rmdir(DIR_ "/gone/sub"));
    show_cwd();
    CHECK(chdir(".."));                   /* ".." of a removed directory still works */
    show_cwd();
    REQUIRE(chdir(DIR_) == 0);
}

int main(void)
{
    setup();
    mkdirs();
    rmdirs();
    unlinks();
    renames();
    renames2();
    links();
    symlinks();
    readlinks();
    chmods();
    truncates();
    utimes_();
    accesses();
    cwds();
    mknods();
    over_dangling();
    trailing_slash();
    dot_names();
    name_order();
    readlink_empty();
    empty_bad_dirfd();
    utimens_nofollow();
    cwd_removed();
    REQUIRE(chdir("/") == 0);
    zp_rmtree(DIR_);
    return 0;
}
