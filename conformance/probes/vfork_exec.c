/* differential */
/* vfork + execve, a failed execve in a vfork child, and posix_spawn. */
#define _GNU_SOURCE
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

static void reap(const char *what, pid_t p)
{
    int st = 0;
    pid_t r = waitpid(p, &st, 0);
    printf("%s: waitpid %s, %s\n", what, r == p ? "ok" : "WRONG", probe_status(st));
}

int main(void)
{
    char *true_argv[] = { "true", NULL };
    pid_t p = vfork();
    REQUIRE(p >= 0);
    if (p == 0) {
        execve("/bin/true", true_argv, environ);
        _exit(127);
    }
    reap("vfork /bin/true", p);

    char *false_argv[] = { "false", NULL };
    p = vfork();
    REQUIRE(p >= 0);
    if (p == 0) {
        execve("/bin/false", false_argv, environ);
        _exit(127);
    }
    reap("vfork /bin/false", p);

    /* execve fails: the child reports errno through its exit status. */
    char *none_argv[] = { "none", NULL };
    p = vfork();
    REQUIRE(p >= 0);
    if (p == 0) {
        execve("/nonexistent/lx-probe", none_argv, environ);
        _exit(errno == ENOENT ? 42 : 43);
    }
    reap("vfork missing program", p);

    /* posix_spawn of /bin/echo writing to our stdout. */
    char *echo_argv[] = { "echo", "spawned", "by", "posix_spawn", NULL };
    fflush(stdout);
    int r = posix_spawn(&p, "/bin/echo", NULL, NULL, echo_argv, environ);
    int st = 0;
    pid_t w = r == 0 ? waitpid(p, &st, 0) : -1;   /* echo's line comes first */
    printf("posix_spawn -> %s\n", errname(r));
    if (r == 0)
        printf("echo: waitpid %s, %s\n", w == p ? "ok" : "WRONG", probe_status(st));

    /* posix_spawnp through PATH, with its output redirected to a pipe. */
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    char *sh_argv[] = { "sh", "-c", "echo via-pipe; exit 5", NULL };
    r = posix_spawnp(&p, "sh", &fa, NULL, sh_argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    printf("posix_spawnp sh -> %s\n", errname(r));
    char buf[64] = { 0 };
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    printf("read %zd: %s", n, buf);
    if (r == 0)
        reap("sh", p);

    /* posix_spawn of a missing program: glibc reports the exec errno. */
    r = posix_spawn(&p, "/nonexistent/lx-probe", NULL, NULL, none_argv, environ);
    printf("posix_spawn missing -> %s\n", errname(r));
    return 0;
}
