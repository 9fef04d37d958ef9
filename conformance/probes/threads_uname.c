/* differential */
/* 1000 threads (64 KiB stacks, in batches) each call uname() 10 times and
 * getpid(), checking the nodename and pid agree with the main thread's.
 * The main thread calls uname() once more: 10001 calls in all. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

#define THREADS 1000
#define BATCH 250
#define CALLS 10

static struct utsname main_u;
static pid_t main_pid;
static atomic_int calls, failures, wrong_node, wrong_pid, wrong_other;

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < CALLS; i++) {
        struct utsname u;
        memset(&u, 0xAA, sizeof u);
        atomic_fetch_add(&calls, 1);
        if (uname(&u) != 0) {
            atomic_fetch_add(&failures, 1);
            continue;
        }
        if (strcmp(u.nodename, main_u.nodename) != 0)
            atomic_fetch_add(&wrong_node, 1);
        if (memcmp(&u, &main_u, sizeof u) != 0)
            atomic_fetch_add(&wrong_other, 1);
    }
    if (getpid() != main_pid)
        atomic_fetch_add(&wrong_pid, 1);
    return NULL;
}

int main(void)
{
    main_pid = getpid();
    memset(&main_u, 0, sizeof main_u);
    atomic_fetch_add(&calls, 1);
    REQUIRE(uname(&main_u) == 0);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    REQUIRE(pthread_attr_setstacksize(&attr, 64 * 1024) == 0);
    pthread_t t[BATCH];
    int started = 0, create_errors = 0;
    for (int b = 0; b < THREADS; b += BATCH) {
        int n = 0;
        for (; n < BATCH && b + n < THREADS; n++) {
            int r = pthread_create(&t[n], &attr, worker, NULL);
            if (r != 0) {
                create_errors++;
                break;
            }
            started++;
        }
        for (int i = 0; i < n; i++)
            pthread_join(t[i], NULL);
    }
    pthread_attr_destroy(&attr);
    printf("threads started %d, create errors %d\n", started, create_errors);
    printf("uname calls %d, failures %d\n", atomic_load(&calls), atomic_load(&failures));
    printf("wrong nodename %d, other fields differ %d, wrong pid %d\n", atomic_load(&wrong_node),
           atomic_load(&wrong_other), atomic_load(&wrong_pid));
    if (started == THREADS && !failures && !wrong_node && !wrong_other && !wrong_pid)
        printf("%d threads ok\n", THREADS);
    return 0;
}
