/* timing.h -- the timed loop shared by loop.c and zoneloop.c.
 *
 * time_calls() runs one() a few untimed times (warm-up), then n timed
 * times, and prints "NAME ns_per_call=<float> n=<N>" -- the line the bench
 * files parse.  Every call returns the number of unexpected results it saw
 * (0 when all is well); any makes the program fail, so a benchmark whose
 * calls went wrong cannot report a figure.
 */
#ifndef LX_BENCH_TIMING_H
#define LX_BENCH_TIMING_H
#include <stdio.h>
#include <time.h>

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* bad: unexpected results already seen (setup checks); returns the exit status. */
static int time_calls(const char *name, int (*one)(void), long n, long bad)
{
    long warm = n / 10 < 1000 ? n / 10 : 1000;
    for (long i = 0; i < warm; i++)
        bad += one();
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        bad += one();
    double t1 = now_ns();
    if (bad) {
        fprintf(stderr, "%s: %ld of %ld iterations returned unexpected results\n", name, bad, warm + n);
        return 1;
    }
    printf("%s ns_per_call=%.1f n=%ld\n", name, (t1 - t0) / (double)n, n);
    return fflush(stdout) == 0 ? 0 : 1;
}
#endif
