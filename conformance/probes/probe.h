/* probe.h -- shared helpers for the conformance probes.
 *
 * A probe prints a deterministic transcript to stdout: results and errno
 * NAMES, never addresses, pids or times.  The test suite runs each probe
 * natively and under lx and compares the transcripts.
 *
 *   CHECK(expr)   evaluates expr (errno cleared first) and prints
 *                 "expr -> VALUE", or "expr -> -1 ENAME" when it fails.
 *   errname(e)    the symbolic name of errno value e ("E123" if unknown).
 *   BADPTR(v), LEN(v)  a bad pointer / length the compiler cannot see through.
 *
 * stdout is made line buffered (also on pipes) so output is never
 * duplicated into forked children nor reordered against exec'd programs.
 */
#ifndef LX_PROBE_H
#define LX_PROBE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *errname(int e)
{
    static char other[16];
    switch (e) {
#define PROBE_E(x) case x: return #x;
    case 0: return "0";
    PROBE_E(EPERM) PROBE_E(ENOENT) PROBE_E(ESRCH) PROBE_E(EINTR) PROBE_E(EIO)
    PROBE_E(ENXIO) PROBE_E(E2BIG) PROBE_E(ENOEXEC) PROBE_E(EBADF) PROBE_E(ECHILD)
    PROBE_E(EAGAIN) PROBE_E(ENOMEM) PROBE_E(EACCES) PROBE_E(EFAULT) PROBE_E(EBUSY)
    PROBE_E(EEXIST) PROBE_E(EXDEV) PROBE_E(ENODEV) PROBE_E(ENOTDIR) PROBE_E(EISDIR)
    PROBE_E(EINVAL) PROBE_E(ENFILE) PROBE_E(EMFILE) PROBE_E(ENOTTY) PROBE_E(EFBIG)
    PROBE_E(ENOSPC) PROBE_E(ESPIPE) PROBE_E(EROFS) PROBE_E(EMLINK) PROBE_E(EPIPE)
    PROBE_E(EDOM) PROBE_E(ERANGE) PROBE_E(EDEADLK) PROBE_E(ENAMETOOLONG)
    PROBE_E(ENOLCK) PROBE_E(ENOSYS) PROBE_E(ENOTEMPTY) PROBE_E(ELOOP)
    PROBE_E(ENOMSG) PROBE_E(EOVERFLOW) PROBE_E(EILSEQ) PROBE_E(ENOTSOCK)
    PROBE_E(EDESTADDRREQ) PROBE_E(EMSGSIZE) PROBE_E(EPROTOTYPE) PROBE_E(ENOPROTOOPT)
    PROBE_E(EPROTONOSUPPORT) PROBE_E(EOPNOTSUPP) PROBE_E(EAFNOSUPPORT)
    PROBE_E(EADDRINUSE) PROBE_E(EADDRNOTAVAIL) PROBE_E(ENETUNREACH)
    PROBE_E(ECONNABORTED) PROBE_E(ECONNRESET) PROBE_E(ENOBUFS) PROBE_E(EISCONN)
    PROBE_E(ENOTCONN) PROBE_E(ETIMEDOUT) PROBE_E(ECONNREFUSED) PROBE_E(EALREADY)
    PROBE_E(EINPROGRESS) PROBE_E(ESTALE) PROBE_E(EDQUOT) PROBE_E(ECANCELED)
    PROBE_E(EOWNERDEAD) PROBE_E(ENOTRECOVERABLE) PROBE_E(ERESTART)
#undef PROBE_E
    default:
        snprintf(other, sizeof other, "E%d", e);
        return other;
    }
}

static inline long probe_report(const char *expr, long r, int e)
{
    if (r == -1 && e != 0)
        printf("%s -> -1 %s\n", expr, errname(e));
    else
        printf("%s -> %ld\n", expr, r);
    return r;
}

/* A GNU statement expression: errno is read right after expr, whatever the
 * evaluation order of function arguments. */
#define CHECK(expr) ({                                   \
        errno = 0;                                       \
        long probe_r_ = (long)(expr);                    \
        int probe_e_ = errno;                            \
        probe_report(#expr, probe_r_, probe_e_);         \
    })

/* Print a wait status as text: "exit N", "signal NAME", ... */
#include <signal.h>
#include <sys/wait.h>
static inline const char *probe_status(int st)
{
    static char buf[64];
    if (WIFEXITED(st))
        snprintf(buf, sizeof buf, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, sizeof buf, "signal %s%s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?",
                 WCOREDUMP(st) ? " (core)" : "");
    else if (WIFSTOPPED(st))
        snprintf(buf, sizeof buf, "stopped %d", WSTOPSIG(st));
    else
        snprintf(buf, sizeof buf, "status 0x%x", st);
    return buf;
}

/* Hide a deliberately bad pointer or length from the compiler, so that its
 * -Wnonnull/-Wstringop-* checks (errors under -Werror) do not reject the
 * very calls the probe exists to make. */
static inline void *probe_launder(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}
static inline size_t probe_launder_size(size_t n)
{
    __asm__ volatile("" : "+r"(n));
    return n;
}
#define BADPTR(v) probe_launder((void *)(unsigned long)(v))
#define LEN(v) probe_launder_size((size_t)(v))

/* Abort the probe loudly when a setup step (not a behaviour under test) fails. */
#define REQUIRE(cond) do {                                                          \
        if (!(cond)) {                                                              \
            fprintf(stderr, "probe setup failed: %s (%s)\n", #cond, errname(errno)); \
            exit(99);                                                               \
        }                                                                           \
    } while (0)

__attribute__((constructor)) static void probe_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

#endif
