/* zone probe: open, openat, creat -- run in a chroot and in an lx zone, transcripts compared. */
/* Creating, excluding, truncating, O_DIRECTORY, O_NOFOLLOW, O_PATH, O_TMPFILE,
 * trailing slashes, dirfds, bad arguments, long paths, umask. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zone.h"

#define DIR_ "/tmp/zp-open"

static void fstat_of(int fd)
{
    struct stat sb;
    if (fd < 0)
        return;
    if (fstat(fd, &sb) != 0) {
        printf("  fstat: -1 %s\n", errname(errno));
        return;
    }
    printf("  fstat:");
    show_stat(&sb);
}

static void done(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Print whether "nowhere" (the dangling symlink's target) was created, and remove it. */
static void nowhere(void)
{
    show_path("nowhere", 0);
    unlink("nowhere");
}

static void setup(void)
{
    scratch(DIR_);
    put("f", "hello\n", 0644);
    mkd("d");
    mkd("d/sub");
    put("d/inner", "inner\n", 0644);
    sym("f", "sf");
    sym("d", "sd");
    sym("nowhere", "dangling");
    sym("d/sub", "dirlink");
    sym("loop2", "loop1");
    sym("loop1", "loop2");
}

static void create(void)
{
    SECTION("create");
    int fd = CHECKFD(open("new1", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    fstat_of(fd);
    CHECK(write(fd, "abc", 3));
    done(fd);
    fd = CHECKFD(openat(AT_FDCWD, "new1", O_CREAT | O_RDONLY | O_CLOEXEC, 0600));   /* exists: mode ignored */
    fstat_of(fd);
    show_read(fd);
    done(fd);
    fd = CHECKFD(open(DIR_ "/new2", O_CREAT | O_RDWR | O_CLOEXEC, 0755));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(open("new3", O_CREAT | O_WRONLY | O_CLOEXEC, 0));
    fstat_of(fd);
    done(fd);
    /* O_CREAT through a dangling symlink creates its target */
    fd = CHECKFD(open("dangling", O_CREAT | O_WRONLY | O_CLOEXEC, 0640));
    done(fd);
    show_path("dangling", 0);
    nowhere();
    /* O_CREAT on a directory */
    CHECKFD(open("d", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
    CHECKFD(open("d", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open(".", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
    CHECKFD(open("/", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
    CHECKFD(open("..", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
    /* a file in a symlinked directory */
    fd = CHECKFD(open("sd/viasym", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    done(fd);
    show_path("d/viasym", 0);
}

static void excl(void)
{
    SECTION("excl");
    CHECKFD(open("f", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open("d", O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0644));
    CHECKFD(open("sf", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    int fd = CHECKFD(open("x1", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    done(fd);
    CHECKFD(open("x1", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    /* O_EXCL without O_CREAT: ignored for a regular file */
    fd = CHECKFD(open("f", O_EXCL | O_RDONLY | O_CLOEXEC));
    done(fd);
    CHECKFD(open("/", O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0644));
}

static void trunc_(void)
{
    SECTION("trunc");
    put("t", "0123456789\n", 0644);
    int fd = CHECKFD(open("t", O_WRONLY | O_TRUNC | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    put("t", "0123456789\n", 0644);
    fd = CHECKFD(open("t", O_RDONLY | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(open("t", O_RDONLY | O_TRUNC | O_CLOEXEC));   /* Linux truncates even so */
    fstat_of(fd);
    done(fd);
    put("t", "0123456789\n", 0644);
    fd = CHECKFD(open("t", O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600));
    fstat_of(fd);
    done(fd);
    CHECKFD(open("d", O_TRUNC | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("d", O_TRUNC | O_WRONLY | O_CLOEXEC));
}

static void directory(void)
{
    SECTION("directory");
    CHECKFD(open("f", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("sf", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    int fd = CHECKFD(open("d", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(open("sd", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    CHECKFD(open("missing", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("dangling", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("d", O_WRONLY | O_CLOEXEC));
    CHECKFD(open("d", O_RDWR | O_CLOEXEC));
    CHECKFD(open("d", O_DIRECTORY | O_WRONLY | O_CLOEXEC));
    CHECKFD(open("newdir", O_DIRECTORY | O_CREAT | O_RDONLY | O_CLOEXEC, 0755));   /* EINVAL since 6.4 */
    show_path("newdir", 0);
    fd = CHECKFD(open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
}

static void nofollow(void)
{
    SECTION("nofollow");
    CHECKFD(open("sf", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("sd", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("sd", O_NOFOLLOW | O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("dangling", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("dangling", O_NOFOLLOW | O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    nowhere();
    CHECKFD(open("sf", O_NOFOLLOW | O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    /* only the last component is not followed */
    int fd = CHECKFD(open("sd/inner", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    fd = CHECKFD(open("f", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    done(fd);
    CHECKFD(open("loop1", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("loop1", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    CHECKFD(open("loop1/x", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("sf/", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    fd = CHECKFD(open("sd/", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));   /* a trailing slash follows */
    fstat_of(fd);
    done(fd);
}

static void opath(void)
{
    SECTION("o_path");
    char c;
    int fd = CHECKFD(open("f", O_PATH | O_CLOEXEC));
    fstat_of(fd);
    CHECK(read(fd, &c, 1));
    CHECK(write(fd, "x", 1));
    show_file(fd, "");   /* openat(fd, "") without AT_EMPTY_PATH */
    done(fd);
    fd = CHECKFD(open("sf", O_PATH | O_NOFOLLOW | O_CLOEXEC));   /* the symlink itself */
    fstat_of(fd);
    {
        char buf[64] = "";
        long n = CHECK(readlinkat(fd, "", buf, sizeof buf - 1));
        if (n >= 0)
            printf("  target: %.*s\n", (int)n, buf);
    }
    done(fd);
    fd = CHECKFD(open("dangling", O_PATH | O_NOFOLLOW | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    CHECKFD(open("dangling", O_PATH | O_CLOEXEC));
    fd = CHECKFD(open("sf", O_PATH | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(open("d", O_PATH | O_DIRECTORY | O_CLOEXEC));
    fstat_of(fd);
    if (fd >= 0)
        show_file(fd, "inner");   /* an O_PATH directory works as a dirfd */
    done(fd);
    fd = CHECKFD(open("d", O_PATH | O_CLOEXEC));   /* without O_DIRECTORY */
    if (fd >= 0) {
        int in = CHECKFD(openat(fd, "inner", O_RDONLY | O_CLOEXEC));
        show_read(in);
        done(in);
        in = CHECKFD(openat(fd, "../f", O_RDONLY | O_CLOEXEC));
        show_read(in);
        done(in);
        in = CHECKFD(openat(fd, "new-via-opath", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
        done(in);
        show_path("d/new-via-opath", 0);
    }
    done(fd);
    CHECKFD(open("f", O_PATH | O_DIRECTORY | O_CLOEXEC));
    CHECKFD(open("sd", O_PATH | O_NOFOLLOW | O_DIRECTORY | O_CLOEXEC));
    CHECKFD(open("missing", O_PATH | O_CLOEXEC));
    fd = CHECKFD(open("newpath", O_PATH | O_CREAT | O_CLOEXEC, 0644));   /* O_CREAT is ignored */
    done(fd);
    show_path("newpath", 0);
}

/* O_PATH ignores O_TRUNC (and O_CREAT, above); still the "o_path" section. */
static void opath_trunc(void)
{
    put("t", "0123456789\n", 0644);
    int fd = CHECKFD(open("t", O_PATH | O_TRUNC | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
}

/* O_CREAT|O_EXCL never follows a symlink in the last position: EEXIST. */
static void excl_symlink(void)
{
    SECTION("excl_symlink");
    CHECKFD(open("dangling", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    nowhere();
    CHECKFD(openat(AT_FDCWD, DIR_ "/dangling", O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600));
    nowhere();
    CHECKFD(open("loop1", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(syscall(SYS_open, "dangling", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    nowhere();
}

/* O_CREAT with O_DIRECTORY: EINVAL whether or not the name exists (Linux 6.4+). */
static void directory_creat(void)
{
    SECTION("directory_creat");
    CHECKFD(open("d", O_DIRECTORY | O_CREAT | O_RDONLY | O_CLOEXEC, 0755));
    CHECKFD(open("f", O_DIRECTORY | O_CREAT | O_RDONLY | O_CLOEXEC, 0755));
    CHECKFD(open("sd", O_DIRECTORY | O_CREAT | O_RDONLY | O_CLOEXEC, 0755));
}

/* O_CREAT with a trailing slash: EISDIR, whatever the name is. */
static void creat_trailing_slash(void)
{
    SECTION("creat_trailing_slash");
    CHECKFD(open("f/", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open("f/", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
    CHECKFD(open("f/", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open("sf/", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(creat("f/", 0644));
    CHECKFD(syscall(SYS_creat, "f/", 0644));
    show_path("f", 0);
}

static void tmpfile_(void)
{
    SECTION("tmpfile");
    int fd = CHECKFD(open("d", O_TMPFILE | O_RDWR | O_CLOEXEC, 0640));
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
        printf("  (O_TMPFILE not supported here)\n");
        return;
    }
    fstat_of(fd);
    CHECK(write(fd, "tmp\n", 4));
    CHECK(linkat(fd, "", AT_FDCWD, "d/linked", AT_EMPTY_PATH));
    fstat_of(fd);
    show_path("d/linked", 0);
    show_file(AT_FDCWD, "d/linked");
    CHECK(linkat(fd, "", AT_FDCWD, "d/linked", AT_EMPTY_PATH));   /* EEXIST */
    done(fd);
    fd = CHECKFD(open("d", O_TMPFILE | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
    CHECK(linkat(fd, "", AT_FDCWD, "d/never", AT_EMPTY_PATH));    /* ENOENT: O_EXCL */
    done(fd);
    show_path("d/never", 0);
    CHECKFD(open("f", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    CHECKFD(open("d", O_TMPFILE | O_RDONLY | O_CLOEXEC, 0600));     /* EINVAL: needs write */
    CHECKFD(open("missing", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    fd = CHECKFD(open(".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    done(fd);
    fd = CHECKFD(openat(AT_FDCWD, "sd", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600));
    done(fd);
}

/* open(2)'s documented way to give an O_TMPFILE file a name as an
 * unprivileged user: linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW. */
static void tmpfile_proc(void)
{
    SECTION("tmpfile_proc");
    int fd = CHECKFD(open("d", O_TMPFILE | O_RDWR | O_CLOEXEC, 0640));
    if (fd < 0)
        return;
    CHECK(write(fd, "tmp\n", 4));
    char p[64];
    snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
    errno = 0;
    long r = linkat(AT_FDCWD, p, AT_FDCWD, "d/viaproc", AT_SYMLINK_FOLLOW);
    probe_report("linkat(AT_FDCWD, \"/proc/self/fd/N\", AT_FDCWD, \"d/viaproc\", AT_SYMLINK_FOLLOW)", r, errno);
    show_path("d/viaproc", 0);
    show_file(AT_FDCWD, "d/viaproc");
    done(fd);
}

static void trailing_slash(void)
{
    SECTION("trailing_slash");
    CHECKFD(open("f/", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("f/", O_WRONLY | O_CLOEXEC));
    CHECKFD(open("f//", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("f/.", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("f/..", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("sf/", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("newslash/", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    show_path("newslash", 0);
    CHECKFD(open("newslash/", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("d/", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
    CHECKFD(open("dangling/", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    nowhere();
    CHECKFD(open("f/", O_PATH | O_CLOEXEC));
    int fd = CHECKFD(open("d/", O_RDONLY | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(open("d//", O_RDONLY | O_CLOEXEC));
    done(fd);
    fd = CHECKFD(open("sd/", O_RDONLY | O_CLOEXEC));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(open("d/.", O_RDONLY | O_CLOEXEC));
    done(fd);
    CHECKFD(open("d/", O_WRONLY | O_CLOEXEC));
}

static void dirfds(void)
{
    SECTION("dirfd");
    int dfd = open("d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ffd = open("f", O_RDONLY | O_CLOEXEC);
    REQUIRE(dfd >= 0 && ffd >= 0);
    int fd = CHECKFD(openat(dfd, "inner", O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    fd = CHECKFD(openat(dfd, "../f", O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    fd = CHECKFD(openat(dfd, "sub/../inner", O_RDONLY | O_CLOEXEC));
    done(fd);
    fd = CHECKFD(openat(dfd, "made", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    done(fd);
    show_path("d/made", 0);
    fd = CHECKFD(openat(AT_FDCWD, "d/inner", O_RDONLY | O_CLOEXEC));
    done(fd);
    fd = CHECKFD(openat(AT_FDCWD, "./d/../f", O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    /* a dirfd that is a file */
    CHECKFD(openat(ffd, "x", O_RDONLY | O_CLOEXEC));
    CHECKFD(openat(ffd, "x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(openat(ffd, ".", O_RDONLY | O_CLOEXEC));
    CHECKFD(openat(ffd, "", O_RDONLY | O_CLOEXEC));
    fd = CHECKFD(openat(ffd, DIR_ "/f", O_RDONLY | O_CLOEXEC));   /* absolute: dirfd ignored */
    done(fd);
    /* bad dirfds */
    CHECKFD(openat(-1, "f", O_RDONLY | O_CLOEXEC));
    CHECKFD(openat(-2, "f", O_RDONLY | O_CLOEXEC));
    CHECKFD(openat(987, "f", O_RDONLY | O_CLOEXEC));
    CHECKFD(openat(987, "new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    fd = CHECKFD(openat(987, DIR_ "/f", O_RDONLY | O_CLOEXEC));
    done(fd);
    fd = CHECKFD(openat(-1, DIR_ "/f", O_RDONLY | O_CLOEXEC));
    done(fd);
    /* the dirfd's directory moved: openat follows the directory, not its old name */
    mkd("mv1");
    put("mv1/in", "moved\n", 0644);
    int mfd = open("mv1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(mfd >= 0);
    REQUIRE(rename("mv1", "d/mv2") == 0);
    show_file(mfd, "in");
    show_file(mfd, "../inner");
    /* the dirfd's directory removed */
    REQUIRE(unlink("d/mv2/in") == 0 && rmdir("d/mv2") == 0);
    CHECKFD(openat(mfd, "in", O_RDONLY | O_CLOEXEC));
    CHECKFD(openat(mfd, "new", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(openat(mfd, ".", O_RDONLY | O_CLOEXEC));
    fd = CHECKFD(openat(mfd, "..", O_RDONLY | O_CLOEXEC));
    if (fd >= 0)
        show_file(fd, "inner");
    done(fd);
    close(mfd);
    close(dfd);
    close(ffd);
}

static void bad_args(void)
{
    SECTION("bad_args");
    CHECKFD(open(BADPTR(0), O_RDONLY | O_CLOEXEC));
    CHECKFD(open(BADPTR(1), O_RDONLY | O_CLOEXEC));
    CHECKFD(openat(AT_FDCWD, BADPTR(0), O_RDONLY | O_CLOEXEC));
    CHECKFD(open(BADPTR(0), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(syscall(SYS_open, NULL, O_RDONLY));
    CHECKFD(syscall(SYS_creat, NULL, 0644));
    CHECKFD(open(STR(""), O_RDONLY | O_CLOEXEC));
    CHECKFD(open(STR(""), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(openat(AT_FDCWD, STR(""), O_RDONLY | O_CLOEXEC));
    CHECKFD(syscall(SYS_creat, "", 0644));
    CHECKFD(open("missing", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("missing/x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open("/tmp/zp-open-missing/x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open("f/x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open("f/x", O_RDONLY | O_CLOEXEC));
    CHECKFD(open("dangling/x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open("f", O_RDONLY | O_CLOEXEC | 0x40000000));   /* unknown flag bits are ignored by open */
    CHECK(syscall(SYS_openat, AT_FDCWD, "f", O_RDONLY | O_CLOEXEC, 0) >= 0);
}

static void long_paths(void)
{
    SECTION("long_paths");
    /* 4095 bytes (+ NUL = PATH_MAX) is the longest path; 4096 is too long */
    char *p = long_path(DIR_, "f", 4095);
    int fd = CHECKFD(open(p, O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    free(p);
    p = long_path(DIR_, "f", 4096);
    CHECKFD(open(p, O_RDONLY | O_CLOEXEC));
    free(p);
    p = long_path(".", "f", 4095);
    fd = CHECKFD(open(p, O_RDONLY | O_CLOEXEC));
    done(fd);
    free(p);
    p = long_path(".", "f", 4096);
    CHECKFD(open(p, O_RDONLY | O_CLOEXEC));
    free(p);
    p = long_path(".", "f", 10000);
    CHECKFD(open(p, O_RDONLY | O_CLOEXEC));
    free(p);
    p = long_path(DIR_, "longnew", 4095);
    fd = CHECKFD(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    done(fd);
    free(p);
    show_path("longnew", 0);
    p = long_path(DIR_, "longnew2", 4096);
    CHECKFD(open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    free(p);
    /* a relative 4095-byte path from a dirfd deep in the tree */
    int dfd = open("d/sub", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dfd >= 0);
    p = long_path("..", "inner", 4095);
    fd = CHECKFD(openat(dfd, p, O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    free(p);
    close(dfd);
    /* components: 255 bytes is the longest name */
    char name[300];
    memset(name, 'n', 255);
    name[255] = 0;
    fd = CHECKFD(open(name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    done(fd);
    fd = CHECKFD(open(name, O_RDONLY | O_CLOEXEC));
    done(fd);
    name[255] = 'n';
    name[256] = 0;
    CHECKFD(open(name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    CHECKFD(open(name, O_RDONLY | O_CLOEXEC));
    char deep[600];
    snprintf(deep, sizeof deep, "%s/x", name);
    CHECKFD(open(deep, O_RDONLY | O_CLOEXEC));
    snprintf(deep, sizeof deep, "missing/%s", name);
    CHECKFD(open(deep, O_RDONLY | O_CLOEXEC));
    /* many .. from a long chain of directories */
    {
        char up[4200] = "";
        for (int i = 0; i < 1300; i++)
            strcat(up, "../");
        strcat(up, "etc/hostname");
        printf("strlen(up) = %zu\n", strlen(up));
        fd = CHECKFD(open(up, O_RDONLY | O_CLOEXEC));
        show_read(fd);
        done(fd);
    }
}

static void umask_(void)
{
    SECTION("umask");
    mode_t old = umask(027);
    int fd = CHECKFD(open("um1", O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(openat(AT_FDCWD, "um2", O_CREAT | O_WRONLY | O_CLOEXEC, 0777));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(creat("um3", 0666));
    fstat_of(fd);
    done(fd);
    umask(0);
    fd = CHECKFD(open("um4", O_CREAT | O_WRONLY | O_CLOEXEC, 0777));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(open("um5", O_CREAT | O_WRONLY | O_CLOEXEC, 01755));
    fstat_of(fd);
    done(fd);
    umask(0777);
    fd = CHECKFD(open("um6", O_CREAT | O_WRONLY | O_CLOEXEC, 0666));
    fstat_of(fd);
    done(fd);
    umask(022);
    fd = CHECKFD(open("d", O_TMPFILE | O_RDWR | O_CLOEXEC, 0666));
    fstat_of(fd);
    done(fd);
    umask(old);
}

static void creat_(void)
{
    SECTION("creat");
    char c;
    int fd = CHECKFD(creat("c1", 0600));
    fstat_of(fd);
    CHECK(read(fd, &c, 1));   /* write only */
    CHECK(write(fd, "abc", 3));
    done(fd);
    fd = CHECKFD(creat("c1", 0644));   /* truncates, keeps the mode */
    fstat_of(fd);
    done(fd);
    CHECKFD(creat("d", 0644));
    CHECKFD(creat("missing/c", 0644));
    fd = CHECKFD(syscall(SYS_creat, "c2", 0640));
    fstat_of(fd);
    done(fd);
    fd = CHECKFD(creat("sf", 0644));   /* follows, truncates the target */
    done(fd);
    show_path("f", 0);
    put("f", "hello\n", 0644);
}

static void legacy(void)
{
    SECTION("legacy_open");
    int fd = CHECKFD(syscall(SYS_open, "f", O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    fd = CHECKFD(syscall(SYS_open, "lg", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
    fstat_of(fd);
    done(fd);
    CHECKFD(syscall(SYS_open, "lg", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
    CHECKFD(syscall(SYS_open, "sf", O_NOFOLLOW | O_RDONLY | O_CLOEXEC));
    CHECKFD(syscall(SYS_open, "f/", O_RDONLY | O_CLOEXEC));
    CHECKFD(syscall(SYS_open, "d", O_WRONLY | O_CLOEXEC));
}

static void symlink_dotdot(void)
{
    SECTION("dotdot_after_symlink");
    /* dirlink -> d/sub: "dirlink/.." is d, not the scratch directory */
    int fd = CHECKFD(open("dirlink/../inner", O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    CHECKFD(open("dirlink/../f", O_RDONLY | O_CLOEXEC));
    fd = CHECKFD(open("dirlink/../../f", O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    fd = CHECKFD(open("sd/../f", O_RDONLY | O_CLOEXEC));
    show_read(fd);
    done(fd);
    fd = CHECKFD(open("dirlink/../sub/../inner", O_CREAT | O_RDONLY | O_CLOEXEC, 0644));
    show_read(fd);
    done(fd);
    fd = CHECKFD(open("dirlink/../created", O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    done(fd);
    show_path("d/created", 0);
    show_path("created", 0);
}

int main(void)
{
    setup();
    create();
    excl();
    trunc_();
    directory();
    nofollow();
    opath();
    opath_trunc();
    tmpfile_();
    tmpfile_proc();
    trailing_slash();
    dirfds();
    bad_args();
    long_paths();
    umask_();
    creat_();
    legacy();
    symlink_dotdot();
    excl_symlink();
    directory_creat();
    creat_trailing_slash();
    REQUIRE(chdir("/") == 0);
    zp_rmtree(DIR_);
    return 0;
}
