/* differential */
/* pipe + fork + dup2 + execvp of sh: read its output and its status. */
#define _GNU_SOURCE
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

static void run(const char *script)
{
    int p[2];
    REQUIRE(pipe(p) == 0);
    pid_t c = fork();
    REQUIRE(c >= 0);
    if (c == 0) {
        close(p[0]);
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[1]);
        char *argv[] = { "sh", "-c", (char *)script, NULL };
        execvp("sh", argv);
        _exit(127);
    }
    close(p[1]);
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf - 1 && (n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
        got += (size_t)n;
    buf[got] = 0;
    close(p[0]);
    int st;
    pid_t r = waitpid(c, &st, 0);
    printf("sh -c '%s'\n  output (%zu bytes): %s", script, got, buf);
    if (got == 0 || buf[got - 1] != '\n')
        printf("\n");
    printf("  waitpid %s, %s\n", r == c ? "ok" : "WRONG", probe_status(st));
}

int main(void)
{
    run("echo hello; exit 7");
    run("echo a | tr a b; printf '%s\\n' x y | wc -l");
    run("kill -TERM $$");
    run("exec 3>&1; echo to-fd3 >&3; (exit 3); echo sub=$?");
    run("/nonexistent/lx-probe 2>/dev/null; echo rc=$?");
    run("{ for i in 3 1 2; do (echo $i) & done; wait; } | sort; echo done");
    return 0;
}
