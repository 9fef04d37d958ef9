/*
 * loop.c - the guest side of lx's benchmarks: one program that is run
 * natively, under lx and under proot, so every figure compares the same code.
 *
 *   loop CALL N          N timed iterations of CALL, after an untimed warm-up
 *                        of min(N/10, 1000); prints
 *                            CALL ns_per_call=<float> n=<N>
 *                        CALL is one of:
 *                          getpid              syscall(SYS_getpid)
 *                          read1               read 1 byte from /dev/zero (fd
 *                                              opened before timing)
 *                          uname               syscall(SYS_uname)
 *                          sethostname_einval  syscall(SYS_sethostname, buf, -1):
 *                                              must fail with EINVAL, changes
 *                                              nothing (as root; an unprivileged
 *                                              caller gets EPERM natively)
 *                          mmap_munmap         mmap 1 anonymous page + munmap
 *                                              (one iteration = both calls)
 *   loop forkexec N PATH N times fork + execve(PATH) + waitpid, PATH must
 *                        exit 0; prints  forkexec us_per_iter=<float> n=<N>
 *   loop spawn_procs N   forks N children that pause(), prints "ready"
 *   loop spawn_threads N starts N threads blocked on a condition variable,
 *                        prints "ready"
 *
 * The spawn modes then read stdin until EOF (or until SIGTERM/SIGINT/SIGHUP
 * arrives), and only then end their children/threads, reap/join them and
 * exit 0.  The children also die with the parent (PR_SET_PDEATHSIG), so an
 * abandoned run leaves nothing behind.
 *
 * Every mode validates what the calls returned and exits non-zero (1) on an
 * unexpected result, 2 on a usage or setup error; details go to stderr.
 * Timing is CLOCK_MONOTONIC through the vDSO, so no clock call is ever
 * intercepted.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "timing.h"

extern char **environ;

static void die(const char *what)
{
    perror(what);
    exit(2);
}


/* ---- per-call loops ------------------------------------------------------
 * Each `one_*` makes one iteration and returns 0 when its result is what the
 * call must return, 1 otherwise (after saying why, once). */

static long expect_pid;
static int zero_fd = -1;
static struct utsname ref_uts;
static char host_buf[8] = "lxbench";
static int reported;

__attribute__((format(printf, 2, 3)))
static void bad_once(const char *call, const char *fmt, ...)
{
    if (reported++)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: unexpected result: ", call);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int one_getpid(void)
{
    long r = syscall(SYS_getpid);
    if (r != expect_pid) {
        bad_once("getpid", "returned %ld, expected %ld", r, expect_pid);
        return 1;
    }
    return 0;
}

static int one_read1(void)
{
    unsigned char c = 0xff;
    long r = read(zero_fd, &c, 1);
    if (r != 1 || c != 0) {
        bad_once("read1", "returned %ld (errno %d), expected 1 zero byte", r, r < 0 ? errno : 0);
        return 1;
    }
    return 0;
}

static int one_uname(void)
{
    struct utsname u;
    u.sysname[0] = 0;
    long r = syscall(SYS_uname, &u);
    if (r != 0 || strcmp(u.sysname, ref_uts.sysname) != 0 || strcmp(u.release, ref_uts.release) != 0) {
        bad_once("uname", "returned %ld (errno %d) or a different sysname/release", r, r < 0 ? errno : 0);
        return 1;
    }
    return 0;
}

static int one_sethostname_einval(void)
{
    errno = 0;
    long r = syscall(SYS_sethostname, host_buf, -1L);
    if (r != -1 || errno != EINVAL) {
        bad_once("sethostname_einval", "returned %ld errno %d, expected -1/EINVAL (22)", r, errno);
        return 1;
    }
    return 0;
}

static int one_mmap_munmap(void)
{
    void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        bad_once("mmap_munmap", "mmap failed, errno %d", errno);
        return 1;
    }
    if (munmap(p, 4096) != 0) {
        bad_once("mmap_munmap", "munmap failed, errno %d", errno);
        return 1;
    }
    return 0;
}

static const struct {
    const char *name;
    int (*one)(void);
} CALLS[] = {
    { "getpid", one_getpid },
    { "read1", one_read1 },
    { "uname", one_uname },
    { "sethostname_einval", one_sethostname_einval },
    { "mmap_munmap", one_mmap_munmap },
};

static int run_call(const char *name, long n)
{
    int (*one)(void) = NULL;
    for (size_t i = 0; i < sizeof CALLS / sizeof CALLS[0]; i++)
        if (!strcmp(CALLS[i].name, name))
            one = CALLS[i].one;
    if (!one) {
        fprintf(stderr, "unknown CALL %s\n", name);
        return 2;
    }
    expect_pid = getpid();
    zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    if (zero_fd < 0)
        die("open /dev/zero");
    if (uname(&ref_uts) < 0)
        die("uname");

    return time_calls(name, one, n, 0);
}

/* ---- fork + exec + wait ---------------------------------------------------- */

static int run_forkexec(long n, const char *path)
{
    char *argv[] = { (char *)path, NULL };
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0)
            die("fork");
        if (pid == 0) {
            execve(path, argv, environ);
            _exit(127);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
            if (errno != EINTR)
                die("waitpid");
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "forkexec: iteration %ld: %s ended with status 0x%x\n", i, path, st);
            return 1;
        }
    }
    double t1 = now_ns();
    printf("forkexec us_per_iter=%.2f n=%ld\n", (t1 - t0) / 1e3 / (double)n, n);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---- the ready / EOF protocol ------------------------------------------------ */

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
    (void)sig;
    got_term = 1;
}

/* Print "ready", then block until stdin reaches EOF (or errors) or a
 * terminating signal arrives. */
static void ready_then_wait(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term; /* no SA_RESTART: read() returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    if (printf("ready\n") < 0 || fflush(stdout) != 0)
        return; /* nobody is listening: clean up at once */
    char buf[256];
    while (!got_term) {
        ssize_t r = read(0, buf, sizeof buf);
        if (r == 0 || (r < 0 && errno != EINTR))
            break;
    }
}

static int run_spawn_procs(long n)
{
    pid_t *kids = calloc((size_t)n + 1, sizeof *kids);
    if (!kids)
        die("calloc");
    pid_t self = getpid();
    /* Block the terminating signals while forking so no child runs our
     * handler; the children get them back at default. */
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigaddset(&term, SIGHUP);
    sigprocmask(SIG_BLOCK, &term, &old);
    long made = 0;
    int rc = 0;
    for (; made < n; made++) {
        pid_t p = fork();
        if (p < 0) {
            perror("fork");
            rc = 2;
            break;
        }
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
            if (getppid() != self)
                _exit(0); /* the parent is already gone */
            close(0); /* only the parent reads stdin */
            sigprocmask(SIG_SETMASK, &old, NULL);
            for (;;)
                pause();
        }
        kids[made] = p;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (rc == 0)
        ready_then_wait();
    for (long i = 0; i < made; i++)
        kill(kids[i], SIGKILL);
    for (long i = 0; i < made; i++) {
        int st;
        while (waitpid(kids[i], &st, 0) < 0 && errno == EINTR)
            ;
    }
    free(kids);
    return rc;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv_start = PTHREAD_COND_INITIALIZER, cv_stop = PTHREAD_COND_INITIALIZER;
static long started;
static int stopping;

static void *blocker(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    started++;
    pthread_cond_signal(&cv_start);
    while (!stopping)
        pthread_cond_wait(&cv_stop, &mu); /* a futex wait */
    pthread_mutex_unlock(&mu);
    return NULL;
}

static int run_spawn_threads(long n)
{
    pthread_t *th = calloc((size_t)n + 1, sizeof *th);
    if (!th)
        die("calloc");
    /* Keep the signals for the main thread: the others block them. */
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigaddset(&term, SIGHUP);
    sigprocmask(SIG_BLOCK, &term, &old);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    long made = 0;
    int rc = 0;
    for (; made < n; made++) {
        int e = pthread_create(&th[made], &attr, blocker, NULL);
        if (e) {
            fprintf(stderr, "pthread_create: %s\n", strerror(e));
            rc = 2;
            break;
        }
    }
    pthread_attr_destroy(&attr);
    sigprocmask(SIG_SETMASK, &old, NULL);
    pthread_mutex_lock(&mu);
    while (started < made)
        pthread_cond_wait(&cv_start, &mu);
    pthread_mutex_unlock(&mu);
    if (rc == 0)
        ready_then_wait();
    pthread_mutex_lock(&mu);
    stopping = 1;
    pthread_cond_broadcast(&cv_stop);
    pthread_mutex_unlock(&mu);
    for (long i = 0; i < made; i++)
        pthread_join(th[i], NULL);
    free(th);
    return rc;
}

/* ------------------------------------------------------------------------------ */

static void usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s CALL N           CALL: getpid read1 uname sethostname_einval mmap_munmap\n"
            "       %s forkexec N PATH\n"
            "       %s spawn_procs N | spawn_threads N   (prints \"ready\", waits for stdin EOF)\n",
            argv0, argv0, argv0);
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 3)
        usage(argv[0]);
    const char *mode = argv[1];
    char *end;
    errno = 0;
    long n = strtol(argv[2], &end, 10);
    int zero_ok = !strcmp(mode, "spawn_procs") || !strcmp(mode, "spawn_threads");
    if (errno || *end || n < (zero_ok ? 0 : 1)) {
        fprintf(stderr, "bad N: %s\n", argv[2]);
        return 2;
    }
    if (!strcmp(mode, "forkexec")) {
        if (argc != 4)
            usage(argv[0]);
        return run_forkexec(n, argv[3]);
    }
    if (argc != 3)
        usage(argv[0]);
    if (!strcmp(mode, "spawn_procs"))
        return run_spawn_procs(n);
    if (!strcmp(mode, "spawn_threads"))
        return run_spawn_threads(n);
    return run_call(mode, n);
}
