/* signal_flood.h -- shared by uname_eintr.c and uname_restart.c: a second
 * thread tgkill()s the main thread with SIGUSR1 in a loop while the main
 * thread calls uname(); the first failure is printed.  Natively uname(2)
 * never fails: it does not sleep, so a signal cannot interrupt it. */
#ifndef LX_PROBE_SIGNAL_FLOOD_H
#define LX_PROBE_SIGNAL_FLOOD_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

#define MIN_SIGNALS 500

static atomic_int stop;
static pid_t target;
static volatile sig_atomic_t hits;

static void on_usr1(int sig) { (void)sig; hits++; }

static void *pester(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        syscall(SYS_tgkill, getpid(), target, SIGUSR1);
        for (volatile int i = 0; i < 10000; i++)
            ;
    }
    return NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void phase(const char *label, int flags, int min_calls)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
    hits = 0;
    atomic_store(&stop, 0);
    pthread_t t;
    REQUIRE(pthread_create(&t, NULL, pester, NULL) == 0);
    while (hits == 0)
        ;
    int calls = 0, first_errno = 0;
    double deadline = now() + 10.0;
    while ((calls < min_calls || hits < MIN_SIGNALS) && now() < deadline) {
        struct utsname u;
        calls++;
        if (uname(&u) != 0) {
            first_errno = errno;
            break;
        }
    }
    int enough = calls >= min_calls && hits >= MIN_SIGNALS;
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    printf("%s: first uname failure: %s\n", label, first_errno ? errname(first_errno) : "none");
    if (!first_errno)
        printf("%s: at least %d calls and %d signals: %s\n", label, min_calls, MIN_SIGNALS, enough ? "yes" : "no");
}

/* Call uname() at least min_calls times under the flood, or until it fails. */
static void flood(const char *label, int flags, int min_calls)
{
    target = gettid();
    phase(label, flags, min_calls);
}

#endif
