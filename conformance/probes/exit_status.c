/* exit_status MODE N: "exit N" exits with status N; "signal N" dies of
 * signal N (default disposition, unblocked).  Used by the tests of lx's
 * exit status mapping (code, -N from lx.run, 128+N from the CLI). */
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>

#include "probe.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: exit_status exit|signal N\n");
        return 2;
    }
    int n = atoi(argv[2]);
    if (strcmp(argv[1], "exit") == 0)
        _exit(n);
    if (strcmp(argv[1], "signal") == 0) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, n);
        sigprocmask(SIG_UNBLOCK, &s, NULL);
        signal(n, SIG_DFL);
        raise(n);
        fprintf(stderr, "still alive after signal %d\n", n);
        return 3;
    }
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
