/* zone probe: escapes -- run in a chroot and in an lx zone, transcripts compared. */
/* Every way this probe knows to reach the host's files from inside the zone:
 * ".." chains, symlinks climbing or absolute, dirfds of "/" and "..", a
 * moved cwd, procfs magic links, and racing threads that rewrite the path
 * (in memory and on disk) while the main thread opens it.
 *
 * The zone's /etc/hostname and /data/inside.txt hold texts the test wrote
 * (ZONE_HOSTNAME, INSIDE below), different from anything on the host; each
 * attempt prints which zone file it read.  Where a chroot and lx differ on
 * purpose -- a procfs magic link (/proc/self/root...) leads a chrooted
 * process back to its root, lx refuses it with ELOOP -- the attempt prints
 * only "contained" (zone content or an error) or what else it read. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "zone.h"

#define DIR_ "/tmp/zp-escape"
#define ZONE_HOSTNAME "zone-probe-hostname\n"
#define INSIDE "zone-probe-inside\n"

enum { R_ERROR, R_HOSTNAME, R_INSIDE, R_OTHER };

/* Open path at dirfd and read it: which file it was (errno_out on error). */
static int classify(int dirfd, const char *path, int *errno_out, char *other, size_t n)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *errno_out = errno;
        return R_ERROR;
    }
    char buf[256];
    ssize_t got = slurp_fd(fd, buf, sizeof buf);
    int e = errno;
    close(fd);
    if (got < 0) {
        *errno_out = e;
        return R_ERROR;
    }
    if (strcmp(buf, ZONE_HOSTNAME) == 0)
        return R_HOSTNAME;
    if (strcmp(buf, INSIDE) == 0)
        return R_INSIDE;
    if (other) {
        size_t i = 0;
        for (; i + 1 < n && buf[i]; i++)
            other[i] = (buf[i] >= ' ' && buf[i] < 127) ? buf[i] : '?';
        other[i] = 0;
    }
    return R_OTHER;
}

/* An attempt whose result must be exactly the chroot's. */
static void attempt_at(const char *what, int dirfd, const char *path)
{
    int e = 0;
    char other[64] = "";
    switch (classify(dirfd, path, &e, other, sizeof other)) {
    case R_HOSTNAME: printf("%s: the zone's /etc/hostname\n", what); break;
    case R_INSIDE: printf("%s: the zone's /data/inside.txt\n", what); break;
    case R_ERROR: printf("%s: -1 %s\n", what, errname(e)); break;
    default: printf("%s: ESCAPED, read \"%s\"\n", what, other); break;
    }
}

static void attempt(const char *path)
{
    attempt_at(path, AT_FDCWD, path);
}

/* An attempt where the chroot and lx may differ in how they stay inside. */
static void contained(const char *path)
{
    int e = 0;
    char other[64] = "";
    if (classify(AT_FDCWD, path, &e, other, sizeof other) == R_OTHER)
        printf("%s: ESCAPED, read \"%s\"\n", path, other);
    else
        printf("%s: contained\n", path);
}

static void show_link(const char *path)
{
    char buf[256];
    errno = 0;
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n < 0)
        printf("readlink %s: -1 %s\n", path, errname(errno));
    else
        printf("readlink %s: \"%.*s\"\n", path, (int)n, buf);
}

static void show_cwd(void)
{
    char buf[256];
    errno = 0;
    long n = syscall(SYS_getcwd, buf, sizeof buf);
    if (n < 0)
        printf("  getcwd: -1 %s\n", errname(errno));
    else
        printf("  getcwd: \"%s\"\n", buf);
}

static void dotdot(void)
{
    SECTION("dotdot");
    REQUIRE(chdir("/") == 0);
    attempt("/etc/hostname");
    attempt("../../../../../../../../etc/hostname");
    attempt("/../../../../etc/hostname");
    attempt("/data/../../../../etc/hostname");
    attempt("/data/./../data/../../../data/inside.txt");
    attempt("..//..//.//..//etc//hostname");
    REQUIRE(chdir("/data") == 0);
    attempt("../../../../../../etc/hostname");
    attempt("inside.txt");
    {
        char up[4096] = "";
        for (int i = 0; i < 1300; i++)
            strcat(up, "../");
        strcat(up, "etc/hostname");
        attempt_at("1300 x ../etc/hostname", AT_FDCWD, up);
    }
    REQUIRE(chdir("/") == 0);
    same_inode("/..", "/");
    same_inode("/../..", "/");
    same_inode("/data/../..", "/");
}

static void symlinks(void)
{
    SECTION("symlinks");
    scratch(DIR_);
    attempt("/data/link-out");
    attempt("/data/abs-root/etc/hostname");
    attempt("/data/abs-root/../../etc/hostname");
    sym("../../../../../../../..", "up");
    attempt(DIR_ "/up/etc/hostname");
    attempt(DIR_ "/up/../../etc/hostname");
    sym("/", "root");
    attempt(DIR_ "/root/etc/hostname");
    attempt(DIR_ "/root/../etc/hostname");
    sym("/../../../../etc/hostname", "abs-up");
    attempt(DIR_ "/abs-up");
    mkd("b");
    sym("b/../../../../../../../etc/hostname", "via-b");
    attempt(DIR_ "/via-b");
    sym("up/tmp/zp-escape/up/tmp/zp-escape/up/../../etc/hostname", "chain");
    attempt(DIR_ "/chain");
    sym("../../../../../../../data/link-out", "to-link-out");
    attempt(DIR_ "/to-link-out");
    same_inode(DIR_ "/up", "/");
    same_inode(DIR_ "/root/..", "/");
    /* link and rename through climbing symlinks land in the zone */
    CHECK(link(DIR_ "/up/etc/hostname", DIR_ "/hard"));
    attempt(DIR_ "/hard");
    CHECK(symlink("../../../../../../etc/hostname", DIR_ "/made"));
    attempt(DIR_ "/made");
    CHECK(mkdir(DIR_ "/up/tmp/zp-escape/made-dir", 0755));
    show_path(DIR_ "/made-dir", 0);
    CHECK(rename(DIR_ "/made-dir", DIR_ "/up/../../tmp/zp-escape/renamed-dir"));
    show_path(DIR_ "/renamed-dir", 0);
}

static void dirfds(void)
{
    SECTION("dirfds");
    int rfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ufd = open("/..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int dfd = open("/data", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(rfd >= 0 && ufd >= 0 && dfd >= 0);
    attempt_at("openat(/, \"../../etc/hostname\")", rfd, "../../etc/hostname");
    attempt_at("openat(/, \"/etc/hostname\")", rfd, "/etc/hostname");
    attempt_at("openat(/.., \"etc/hostname\")", ufd, "etc/hostname");
    attempt_at("openat(/.., \"../etc/hostname\")", ufd, "../etc/hostname");
    attempt_at("openat(/data, \"../../../etc/hostname\")", dfd, "../../../etc/hostname");
    attempt_at("openat(/data, \"link-out\")", dfd, "link-out");
    int ud = openat(rfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(ud >= 0);
    struct stat a, b;
    REQUIRE(fstat(rfd, &a) == 0 && fstat(ud, &b) == 0);
    printf("openat(/, \"..\") is /: %s\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev ? "yes" : "no");
    close(ud);
    /* fchdir to "/" and climb */
    CHECK(fchdir(ufd));
    CHECK(chdir(".."));
    CHECK(chdir("../.."));
    show_cwd();
    attempt("etc/hostname");
    close(rfd);
    close(ufd);
    close(dfd);
}

static void moved_cwd(void)
{
    SECTION("moved_cwd");
    /* the cwd's directory renamed away: ".." still stops at the root */
    REQUIRE(mkdir(DIR_ "/m", 0755) == 0 && mkdir(DIR_ "/m/a", 0755) == 0 && mkdir(DIR_ "/m/a/b", 0755) == 0);
    REQUIRE(chdir(DIR_ "/m/a/b") == 0);
    CHECK(rename(DIR_ "/m/a", DIR_ "/moved"));
    show_cwd();
    attempt("../../../../../../../../etc/hostname");
    CHECK(rename(DIR_ "/moved", DIR_ "/m/a"));
    show_cwd();
    /* a dirfd whose directory was removed */
    int dfd = open(DIR_ "/m/a/b", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(dfd >= 0);
    REQUIRE(chdir("/") == 0);
    CHECK(rmdir(DIR_ "/m/a/b"));
    attempt_at("openat(removed dir, \"../../../../../../etc/hostname\")", dfd, "../../../../../../etc/hostname");
    close(dfd);
}

static void proc_links(void)
{
    SECTION("proc");
    REQUIRE(chdir("/") == 0);
    show_link("/proc/self/root");
    REQUIRE(chdir("/data") == 0);
    show_link("/proc/self/cwd");
    REQUIRE(chdir("/") == 0);
    int rfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    REQUIRE(rfd >= 0);
    char p[128];
    contained("/data/proc-root/etc/hostname");
    contained("/proc/self/root/etc/hostname");
    contained("/proc/self/root/../../etc/hostname");
    contained("/proc/thread-self/root/etc/hostname");
    contained("/proc/self/cwd/../../../etc/hostname");
    contained("/proc/1/root/etc/hostname");
    contained("/proc/1/cwd/etc/hostname");
    contained("/proc/self/task/../root/etc/hostname");
    snprintf(p, sizeof p, "/proc/self/fd/%d/etc/hostname", rfd);
    contained(p);
    snprintf(p, sizeof p, "/proc/self/fd/%d/../../etc/hostname", rfd);
    contained(p);
    snprintf(p, sizeof p, "/dev/fd/%d/etc/hostname", rfd);
    contained(p);
    snprintf(p, sizeof p, "/proc/%d/root/etc/hostname", (int)getpid());
    if (classify(AT_FDCWD, p, &(int){0}, NULL, 0) == R_OTHER)
        printf("/proc/GETPID/root/etc/hostname: ESCAPED\n");
    else
        printf("/proc/GETPID/root/etc/hostname: contained\n");
    int pfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (pfd >= 0) {
        int e = 0;
        char other[64] = "";
        int r = classify(pfd, "self/root/etc/hostname", &e, other, sizeof other);
        printf("openat(/proc, \"self/root/etc/hostname\"): %s%s\n", r == R_OTHER ? "ESCAPED, read " : "contained",
               r == R_OTHER ? other : "");
        r = classify(pfd, "1/root/etc/hostname", &e, other, sizeof other);
        printf("openat(/proc, \"1/root/etc/hostname\"): %s%s\n", r == R_OTHER ? "ESCAPED, read " : "contained",
               r == R_OTHER ? other : "");
        close(pfd);
    }
    close(rfd);
}

/* -- races ----------------------------------------------------------------------------------- */

static char shared[64];
static atomic_int stop;

static const char *const flips[] = { "/data/inside.txt", "/data/link-out", "../../../../../../../etc/hostname" };

/* Rewrite the path buffer the main thread passes to open, as fast as possible. */
static void *flipper(void *arg)
{
    (void)arg;
    unsigned i = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        const char *s = flips[i++ % 3];
        size_t n = strlen(s) + 1;
        for (size_t k = 0; k < n; k++)      /* byte by byte: torn strings are the point */
            ((volatile char *)shared)[k] = s[k];
    }
    return NULL;
}

/* Swap a symlink between a zone file and a climbing target, atomically by rename. */
static void *swapper(void *arg)
{
    (void)arg;
    unsigned i = 0;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        rename(i++ % 2 ? DIR_ "/sw-in" : DIR_ "/sw-out", DIR_ "/sw");
        symlink("/data/inside.txt", DIR_ "/sw-in");
        symlink("../../../../../../../etc/hostname", DIR_ "/sw-out");
    }
    return NULL;
}

/* Move a directory the main thread's path climbs out of, up and down. */
static void *mover(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        rename(DIR_ "/r/a/b", DIR_ "/r/b");
        rename(DIR_ "/r/b", DIR_ "/r/a/b");
    }
    return NULL;
}

static void race(const char *name, void *(*fn)(void *), const char *path, int n)
{
    int count[4] = { 0 };
    char other[64] = "";
    pthread_t t;
    atomic_store(&stop, 0);
    REQUIRE(pthread_create(&t, NULL, fn, NULL) == 0);
    for (int i = 0; i < n; i++) {
        int e = 0;
        count[classify(AT_FDCWD, path ? path : shared, &e, other, sizeof other)]++;
    }
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("%s: %d opens\n", name, n);
    printf("  read something else than the zone's files: %d%s%s\n", count[R_OTHER],
           count[R_OTHER] ? ", e.g. " : "", count[R_OTHER] ? other : "");
    printf("  read the zone's files: %s\n", count[R_HOSTNAME] + count[R_INSIDE] ? "yes" : "never");
    fflush(stdout);
}

static void races(void)
{
    SECTION("races");
    REQUIRE(chdir("/") == 0);
    strcpy(shared, flips[0]);
    race("path rewritten in memory", flipper, NULL, 20000);
    sym("/data/inside.txt", DIR_ "/sw");
    race("symlink swapped on disk", swapper, DIR_ "/sw", 2000);
    REQUIRE(mkdir(DIR_ "/r", 0755) == 0 && mkdir(DIR_ "/r/a", 0755) == 0 && mkdir(DIR_ "/r/a/b", 0755) == 0 &&
            mkdir(DIR_ "/r/a/b/c", 0755) == 0);
    race("directory moved under the walk", mover,
         DIR_ "/r/a/b/c/../../../../../../../../../../etc/hostname", 2000);
}

int main(void)
{
    dotdot();
    symlinks();
    dirfds();
    moved_cwd();
    proc_links();
    races();
    REQUIRE(chdir("/") == 0);
    zp_rmtree(DIR_);
    return 0;
}
