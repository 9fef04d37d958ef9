/* differential */
/* fork + waitpid: 20 children with distinct exit codes, one killed by
 * SIGTERM, one by SIGKILL, and the errors once none is left. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

#define N 20

int main(void)
{
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        REQUIRE(kids[i] >= 0);
        if (kids[i] == 0)
            _exit(i * 7 + 3);
    }
    /* Reap in reverse order of creation: waitpid(pid) must pick the right one. */
    for (int i = N - 1; i >= 0; i--) {
        int st = 0;
        pid_t r = waitpid(kids[i], &st, 0);
        printf("child %2d: waitpid %s, %s\n", i, r == kids[i] ? "ok" : "WRONG PID", probe_status(st));
    }

    /* Killed by SIGTERM while it waits in pause(). */
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t k = fork();
    REQUIRE(k >= 0);
    if (k == 0) {
        close(p[0]);
        REQUIRE(write(p[1], "r", 1) == 1);   /* ready */
        for (;;)
            pause();
    }
    close(p[1]);
    char c;
    REQUIRE(read(p[0], &c, 1) == 1);
    CHECK(kill(k, SIGTERM));
    int st = 0;
    pid_t r = waitpid(k, &st, 0);
    printf("sigterm child: waitpid %s, WIFSIGNALED=%d WTERMSIG=%d, %s\n", r == k ? "ok" : "WRONG PID",
           WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0, probe_status(st));

    /* SIGKILL, reaped with waitid. */
    k = fork();
    REQUIRE(k >= 0);
    if (k == 0)
        for (;;)
            pause();
    CHECK(kill(k, SIGKILL));
    siginfo_t si;
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, k, &si, WEXITED));
    printf("sigkill child: si_code=%s si_status=%d pid %s\n",
           si.si_code == CLD_KILLED ? "CLD_KILLED" : si.si_code == CLD_EXITED ? "CLD_EXITED" : "other",
           si.si_status, si.si_pid == k ? "ok" : "WRONG");

    /* Exit status 0 and 255 via wait(). */
    k = fork();
    REQUIRE(k >= 0);
    if (k == 0)
        _exit(255);
    r = wait(&st);
    printf("wait(): %s, %s\n", r == k ? "ok" : "WRONG PID", probe_status(st));

    CHECK(waitpid(-1, &st, 0));
    CHECK(waitpid(-1, &st, WNOHANG));
    CHECK(wait(NULL));
    return 0;
}
