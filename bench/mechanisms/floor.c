/*
 * floor.c - per-call cost of each syscall-interception mechanism lx can
 * build on ("the floor" under every translated syscall).
 *
 *   usage: floor MODE N
 *   prints: MODE ns_per_call=<float> n=<N>      (stdout, one line)
 *
 * The measured process makes N syscall(SYS_getppid) calls (raw syscall so
 * libc cannot cache anything) under MODE; only the loop is timed
 * (CLOCK_MONOTONIC via the vDSO, so the clock itself is never intercepted).
 * An untimed warm-up precedes it.  Every filter intercepts ONLY getppid on
 * x86_64 and ALLOWs everything else.
 *
 * Every mode checks that each call returned what the mechanism is supposed
 * to produce (an emulated constant, or the real parent pid), and the
 * supervising side checks it saw exactly as many events as the guest made;
 * on any mismatch the program exits non-zero.  Sanity details go to stderr.
 *
 * Modes:
 *   native          no interception: the baseline kernel round trip.
 *   allow           seccomp filter installed, getppid -> RET_ALLOW
 *                   (cost of having a filter on the path; the kernel's
 *                   constant-action bitmap cache may skip BPF entirely).
 *   trap            RET_TRAP -> SIGSYS handler in the same process emulates
 *                   the call by setting RAX in the ucontext (in-process
 *                   signal delivery + rt_sigreturn).
 *   notif           RET_USER_NOTIF; a supervisor process (the parent)
 *                   answers in a C loop with NOTIF_RECV / NOTIF_SEND.
 *                   Two context switches per call, plain wake-ups.
 *   notif_sync      as notif, plus SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP on the
 *                   listener: wake-ups migrate the woken task onto the waker's
 *                   CPU, turning the round trip into a synchronous hand-off.
 *   notif_sync_continue  as notif_sync but the supervisor answers
 *                   SECCOMP_USER_NOTIF_FLAG_CONTINUE (the real syscall runs).
 *   notif_sync_killable  as notif_sync with SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV.
 *   ptrace_pinned   RET_TRACE; tracer waits for PTRACE_EVENT_SECCOMP stops and
 *                   resumes with PTRACE_CONT; tracer+tracee both on CPU 0.
 *   ptrace          same, tracer on CPU 0 and tracee on CPU 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* Newer than the 6.1 uapi headers installed here. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS _IOW('!', 4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP 1UL
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define EMULATED_PPID 424242L /* value the emulating mechanisms return */

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) < 0)
        die("sched_setaffinity");
}

/* Install a filter: getppid on x86_64 -> action, everything else ALLOW.
 * Returns seccomp()'s result (the listener fd with NEW_LISTENER). */
static int install_filter(uint32_t action, unsigned int flags)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, action),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof code / sizeof code[0], .filter = code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        die("prctl(NO_NEW_PRIVS)");
    int r = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (r < 0)
        die("seccomp(SET_MODE_FILTER)");
    return r;
}

/* The measured part, run in the guest.  Makes `warm` untimed and `n` timed
 * calls, counts results != expect, prints the result line, returns the
 * number of bad results. */
static long guest_loop(const char *mode, long warm, long n, long expect)
{
    long bad = 0;
    for (long i = 0; i < warm; i++)
        bad += syscall(SYS_getppid) != expect;
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        bad += syscall(SYS_getppid) != expect;
    double t1 = now_ns();
    printf("%s ns_per_call=%.1f n=%ld\n", mode, (t1 - t0) / (double)n, n);
    fflush(stdout);
    if (bad)
        fprintf(stderr, "%s: guest: %ld of %ld calls did not return %ld\n",
                mode, bad, warm + n, expect);
    return bad;
}

/* ---- trap: SIGSYS handler emulates getppid in-process ------------------ */

static volatile sig_atomic_t trap_bad_nr;

static void sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    ucontext_t *uc = ctx;
    if (si->si_syscall == SYS_getppid)
        uc->uc_mcontext.gregs[REG_RAX] = EMULATED_PPID;
    else
        trap_bad_nr = 1, uc->uc_mcontext.gregs[REG_RAX] = -ENOSYS;
}

static int run_trap(const char *mode, long warm, long n)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sigsys_handler;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        die("sigaction(SIGSYS)");
    install_filter(SECCOMP_RET_TRAP, 0);
    long bad = guest_loop(mode, warm, n, EMULATED_PPID);
    if (!bad && !trap_bad_nr)
        fprintf(stderr, "%s: ok, guest received the emulated %ld on all %ld calls\n",
                mode, EMULATED_PPID, warm + n);
    return bad || trap_bad_nr ? 1 : 0;
}

/* ---- seccomp user notification ----------------------------------------- */

static void on_sigchld(int sig) { (void)sig; } /* only to EINTR a blocked RECV */

static void send_fd(int sock, int fd)
{
    char dummy = 'x', cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    memset(cbuf, 0, sizeof cbuf);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cm), &fd, sizeof(int));
    if (sendmsg(sock, &msg, 0) != 1)
        die("sendmsg(SCM_RIGHTS)");
}

static int recv_fd(int sock)
{
    char dummy, cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = &dummy, .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    if (recvmsg(sock, &msg, 0) != 1)
        die("recvmsg(SCM_RIGHTS)");
    struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
    if (!cm || cm->cmsg_type != SCM_RIGHTS)
        die("recvmsg: no fd");
    int fd;
    memcpy(&fd, CMSG_DATA(cm), sizeof(int));
    return fd;
}

static int run_notif(const char *mode, long warm, long n, int sync,
                     int cont, unsigned int extra_filter_flags)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        die("socketpair");
    long real_ppid = getpid(); /* the guest's parent is us */

    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) { /* guest */
        close(sv[0]);
        int lfd = install_filter(SECCOMP_RET_USER_NOTIF,
                                 SECCOMP_FILTER_FLAG_NEW_LISTENER | extra_filter_flags);
        send_fd(sv[1], lfd);
        close(lfd);
        close(sv[1]);
        long bad = guest_loop(mode, warm, n, cont ? real_ppid : EMULATED_PPID);
        _exit(bad ? 1 : 0);
    }

    /* supervisor */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigchld; /* no SA_RESTART: a dead guest EINTRs RECV */
    sigaction(SIGCHLD, &sa, NULL);
    alarm(30 + (unsigned)(n / 1000)); /* watchdog: <= 1 ms per call */
    close(sv[1]);
    int lfd = recv_fd(sv[0]);
    close(sv[0]);
    if (sync && ioctl(lfd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
                      SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
        die("ioctl(NOTIF_SET_FLAGS, SYNC_WAKE_UP)");

    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    long answered = 0, wrong_nr = 0;
    while (answered < warm + n) {
        memset(&req, 0, sizeof req); /* RECV rejects a non-zeroed struct */
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            perror("ioctl(NOTIF_RECV)");
            break;
        }
        memset(&resp, 0, sizeof resp);
        resp.id = req.id;
        if (req.data.nr != SYS_getppid) {
            wrong_nr++;
            resp.error = -ENOSYS;
        } else if (cont) {
            resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; /* val, error = 0 */
        } else {
            resp.val = EMULATED_PPID;
        }
        if (ioctl(lfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) {
            perror("ioctl(NOTIF_SEND)");
            break;
        }
        answered++;
    }
    close(lfd);
    int st;
    if (waitpid(pid, &st, 0) < 0)
        die("waitpid");
    alarm(0);
    int ok = answered == warm + n && !wrong_nr && WIFEXITED(st) && WEXITSTATUS(st) == 0;
    fprintf(stderr, "%s: %s, supervisor answered %ld/%ld (%s), guest %s\n",
            mode, ok ? "ok" : "FAILED", answered, warm + n,
            cont ? "CONTINUE" : "val=424242",
            WIFEXITED(st) && WEXITSTATUS(st) == 0
                ? "received the expected value on every call" : "saw wrong values or died");
    return ok ? 0 : 1;
}

/* ---- ptrace + SECCOMP_RET_TRACE ----------------------------------------- */

static int run_ptrace(const char *mode, long warm, long n, int pinned)
{
    long real_ppid = getpid();
    if (pinned)
        pin_to_cpu(0); /* inherited by the tracee */

    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) { /* tracee */
        if (!pinned)
            pin_to_cpu(1);
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
            die("PTRACE_TRACEME");
        raise(SIGSTOP); /* let the tracer set options first */
        install_filter(SECCOMP_RET_TRACE, 0);
        long bad = guest_loop(mode, warm, n, real_ppid);
        _exit(bad ? 1 : 0);
    }

    /* tracer */
    if (!pinned)
        pin_to_cpu(0);
    alarm(30 + (unsigned)(n / 1000));
    int st;
    if (waitpid(pid, &st, 0) < 0 || !WIFSTOPPED(st))
        die("waitpid(initial stop)");
    if (ptrace(PTRACE_SETOPTIONS, pid, NULL,
               (void *)(long)(PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL)) < 0)
        die("PTRACE_SETOPTIONS");
    if (ptrace(PTRACE_CONT, pid, NULL, NULL) < 0)
        die("PTRACE_CONT");

    long stops = 0;
    for (;;) {
        if (waitpid(pid, &st, 0) < 0)
            die("waitpid");
        if (WIFEXITED(st) || WIFSIGNALED(st))
            break;
        long sig = 0;
        if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8)))
            stops++;
        else if (WIFSTOPPED(st))
            sig = WSTOPSIG(st); /* pass through anything else */
        if (ptrace(PTRACE_CONT, pid, NULL, (void *)sig) < 0)
            die("PTRACE_CONT");
    }
    alarm(0);
    int guest_ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    int ok = guest_ok && stops == warm + n;
    fprintf(stderr, "%s: %s, tracer saw %ld/%ld seccomp stops, guest %s\n",
            mode, ok ? "ok" : "FAILED", stops, warm + n,
            guest_ok ? "got the real ppid on every call" : "saw wrong values or died");
    return ok ? 0 : 1;
}

/* ------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODE N\n  MODE: native allow trap notif notif_sync "
                "notif_sync_continue notif_sync_killable ptrace_pinned ptrace\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    long n = strtol(argv[2], NULL, 10);
    if (n <= 0) {
        fprintf(stderr, "N must be > 0\n");
        return 2;
    }
    long warm = n / 10 < 1000 ? n / 10 : 1000;

    if (!strcmp(mode, "native"))
        return guest_loop(mode, warm, n, getppid()) ? 1 : 0;
    if (!strcmp(mode, "allow")) {
        long ppid = getppid();
        install_filter(SECCOMP_RET_ALLOW, 0);
        return guest_loop(mode, warm, n, ppid) ? 1 : 0;
    }
    if (!strcmp(mode, "trap"))
        return run_trap(mode, warm, n);
    if (!strcmp(mode, "notif"))
        return run_notif(mode, warm, n, 0, 0, 0);
    if (!strcmp(mode, "notif_sync"))
        return run_notif(mode, warm, n, 1, 0, 0);
    if (!strcmp(mode, "notif_sync_continue"))
        return run_notif(mode, warm, n, 1, 1, 0);
    if (!strcmp(mode, "notif_sync_killable"))
        return run_notif(mode, warm, n, 1, 0, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV);
    if (!strcmp(mode, "ptrace_pinned"))
        return run_ptrace(mode, warm, n, 1);
    if (!strcmp(mode, "ptrace"))
        return run_ptrace(mode, warm, n, 0);
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
}
