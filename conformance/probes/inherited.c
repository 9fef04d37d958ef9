/* differential */
/* What a program inherits at exec: ignored and blocked signals, umask,
 * open descriptors above 2, rlimits, process group and session roles,
 * argv and the environment (hashed), AT_SECURE. */
#define _GNU_SOURCE
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    sigset_t mask;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    printf("ignored:");
    for (int s = 1; s < NSIG; s++) {
        struct sigaction sa;
        if (s != SIGKILL && s != SIGSTOP && sigaction(s, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            printf(" %d", s);
    }
    printf("\nblocked:");
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&mask, s) == 1)
            printf(" %d", s);
    sigset_t pend;
    sigpending(&pend);
    printf("\npending:");
    for (int s = 1; s < NSIG; s++)
        if (sigismember(&pend, s) == 1)
            printf(" %d", s);
    printf("\n");

    mode_t um = umask(0);
    umask(um);
    printf("umask %03o\n", (unsigned)um);

    printf("open fds above 2:");
    DIR *d = opendir("/proc/self/fd");
    REQUIRE(d != NULL);
    int self = dirfd(d);
    struct dirent *de;
    int fds[1024], n = 0;
    while ((de = readdir(d)) != NULL && n < 1024) {
        int fd = atoi(de->d_name);
        if (de->d_name[0] != '.' && fd > 2 && fd != self)
            fds[n++] = fd;
    }
    closedir(d);
    for (int i = 0; i < n; i++)
        printf(" %d", fds[i]);
    printf("\n");

    static const struct { int res; const char *name; } lims[] = {
        { RLIMIT_NOFILE, "NOFILE" }, { RLIMIT_STACK, "STACK" }, { RLIMIT_CORE, "CORE" },
        { RLIMIT_NPROC, "NPROC" }, { RLIMIT_AS, "AS" }, { RLIMIT_FSIZE, "FSIZE" },
    };
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
        struct rlimit rl;
        REQUIRE(getrlimit(lims[i].res, &rl) == 0);
        printf("rlimit %s %lld %lld\n", lims[i].name, (long long)rl.rlim_cur, (long long)rl.rlim_max);
    }
    errno = 0;
    printf("nice %d\n", getpriority(PRIO_PROCESS, 0));
    printf("process group leader %s, session leader %s\n", getpgrp() == getpid() ? "yes" : "no",
           getsid(0) == getpid() ? "yes" : "no");
    printf("uid %d euid %d gid %d egid %d\n", (int)getuid(), (int)geteuid(), (int)getgid(), (int)getegid());
    printf("AT_SECURE %lu\n", getauxval(AT_SECURE));

    printf("argc %d:", argc);
    for (int i = 0; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");

    int envc = 0;
    while (environ[envc])
        envc++;
    char **env = calloc((size_t)envc + 1, sizeof *env);
    REQUIRE(env != NULL);
    memcpy(env, environ, (size_t)envc * sizeof *env);
    qsort(env, (size_t)envc, sizeof *env, cmp);
    uint64_t h = 1469598103934665603ULL;    /* FNV-1a over the sorted entries */
    for (int i = 0; i < envc; i++)
        for (const char *p = env[i]; ; p++) {
            h = (h ^ (unsigned char)*p) * 1099511628211ULL;
            if (!*p)
                break;
        }
    printf("environment: %d entries, hash %016llx\n", envc, (unsigned long long)h);
    return 0;
}
