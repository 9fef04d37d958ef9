/* differential */
/* Signals: handlers, masks and pending sets, SIGCHLD, EINTR without
 * SA_RESTART, restarted read() with SA_RESTART, sigqueue values.  Each
 * signal meant to interrupt a read() is sent once the reader sleeps in it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static volatile sig_atomic_t usr1, usr2, chld, alrm, last_value, last_code_queue;

static void on_usr1(int sig) { (void)sig; usr1++; }
static void on_usr2(int sig) { (void)sig; usr2++; }
static void on_chld(int sig) { (void)sig; chld++; }
static void on_alrm(int sig) { (void)sig; alrm++; }
static void on_info(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    last_value = si->si_value.sival_int;
    last_code_queue = si->si_code == SI_QUEUE;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    REQUIRE(sigaction(sig, &sa, NULL) == 0);
}

static void msleep(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Wait (up to 10 s) until process pid sleeps in read(2): /proc/PID/syscall
 * starts with the number of the call it is blocked in; when that file is
 * not readable, fall back to the state in /proc/PID/stat. */
static void wait_blocked_in_read(pid_t pid)
{
    char path[64], buf[256];
    for (int i = 0; i < 10000; i++) {
        snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
        FILE *f = fopen(path, "r");
        if (f) {
            int ok = fgets(buf, sizeof buf, f) != NULL;
            fclose(f);
            if (ok && strncmp(buf, "0 ", 2) == 0)
                break;
            if (ok && strncmp(buf, "running", 7) != 0 && isdigit((unsigned char)buf[0])) {
                msleep(1);
                continue;
            }
        }
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        f = fopen(path, "r");
        char state = 0;
        if (f) {
            if (fgets(buf, sizeof buf, f)) {
                char *p = strrchr(buf, ')');
                if (p)
                    state = p[2];
            }
            fclose(f);
        }
        if (state == 'S')
            break;
        msleep(1);
    }
    msleep(5);
}

int main(void)
{
    /* 1. A handler, three times. */
    set_handler(SIGUSR1, on_usr1, 0);
    CHECK(kill(getpid(), SIGUSR1));
    CHECK(raise(SIGUSR1));
    CHECK(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
    printf("usr1 handled %d times\n", usr1);

    /* 2. Blocked: pending, not delivered; delivered once on unblock. */
    set_handler(SIGUSR2, on_usr2, 0);
    sigset_t set, old, pend;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &set, &old));
    CHECK(kill(getpid(), SIGUSR2));
    CHECK(kill(getpid(), SIGUSR2));   /* standard signals do not queue */
    sigpending(&pend);
    printf("usr2 pending %d, handled %d\n", sigismember(&pend, SIGUSR2), usr2);
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL));
    sigpending(&pend);
    printf("after unblock: usr2 pending %d, handled %d\n", sigismember(&pend, SIGUSR2), usr2);

    /* 3. Real-time signals queue, with values. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    REQUIRE(sigaction(SIGRTMIN, &sa, NULL) == 0);
    union sigval v = { .sival_int = 1234 };
    CHECK(sigqueue(getpid(), SIGRTMIN, v));
    printf("rt value %d, SI_QUEUE %d\n", last_value, last_code_queue);

    /* 4. SIGCHLD on a child's exit, waited for with sigsuspend. */
    set_handler(SIGCHLD, on_chld, 0);
    sigset_t chldset, waitmask;
    sigemptyset(&chldset);
    sigaddset(&chldset, SIGCHLD);
    REQUIRE(sigprocmask(SIG_BLOCK, &chldset, &old) == 0);
    pid_t c = fork();
    REQUIRE(c >= 0);
    if (c == 0)
        _exit(9);
    waitmask = old;
    sigdelset(&waitmask, SIGCHLD);
    while (!chld)
        sigsuspend(&waitmask);
    REQUIRE(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    int st;
    printf("sigchld handled %d, child %s\n", chld, waitpid(c, &st, 0) == c ? probe_status(st) : "LOST");
    set_handler(SIGCHLD, SIG_DFL, 0);

    /* 5. A timer interrupts pause(): EINTR (no SA_RESTART). */
    set_handler(SIGALRM, on_alrm, 0);
    /* Periodic: should the first tick come before pause(), a later one ends it. */
    struct itimerval it = { { 0, 20000 }, { 0, 20000 } }, off = { { 0, 0 }, { 0, 0 } };
    REQUIRE(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(pause());
    REQUIRE(setitimer(ITIMER_REAL, &off, NULL) == 0);
    printf("alrm handled at least once: %s\n", alrm >= 1 ? "yes" : "no");
    /* alarm(2) itself: the remaining seconds of a cancelled alarm. */
    CHECK(alarm(100));
    CHECK(alarm(0));

    /* 6. read() on a pipe interrupted without SA_RESTART: EINTR. */
    int p[2];
    REQUIRE(pipe(p) == 0);
    set_handler(SIGUSR1, on_usr1, 0);
    usr1 = 0;
    pid_t parent = getpid();
    c = fork();
    REQUIRE(c >= 0);
    if (c == 0) {
        wait_blocked_in_read(parent);
        kill(parent, SIGUSR1);
        _exit(0);
    }
    char buf[16];
    CHECK(read(p[0], buf, sizeof buf));
    printf("usr1 handled %d\n", usr1);
    REQUIRE(waitpid(c, &st, 0) == c);

    /* 7. The same with SA_RESTART: read() restarts and gets the data the
     *    child writes after the signal. */
    set_handler(SIGUSR1, on_usr1, SA_RESTART);
    usr1 = 0;
    c = fork();
    REQUIRE(c >= 0);
    if (c == 0) {
        wait_blocked_in_read(parent);
        kill(parent, SIGUSR1);
        msleep(50);
        if (write(p[1], "after", 5) != 5)
            _exit(1);
        _exit(0);
    }
    memset(buf, 0, sizeof buf);
    CHECK(read(p[0], buf, sizeof buf));
    printf("read got \"%s\", usr1 handled %d\n", buf, usr1);
    REQUIRE(waitpid(c, &st, 0) == c);

    /* 8. Ignored and default dispositions. */
    set_handler(SIGUSR2, SIG_IGN, 0);
    CHECK(kill(getpid(), SIGUSR2));
    CHECK(kill(getpid(), 0));
    CHECK(kill(999999999, 0));
    CHECK(kill(getpid(), 65));
    c = fork();
    REQUIRE(c >= 0);
    if (c == 0) {
        signal(SIGUSR2, SIG_DFL);
        raise(SIGUSR2);
        _exit(0);
    }
    printf("default SIGUSR2 child: %s\n", waitpid(c, &st, 0) == c ? probe_status(st) : "LOST");
    return 0;
}
