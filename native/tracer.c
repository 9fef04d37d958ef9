/* tracer.c -- the anchor as the guest's ptracer (see lxfast.h).
 *
 * Two modes.  By default only the guest's first process is traced, for
 * its fatal faults (and EXITKILL); its children are not, so a guest can
 * still ptrace its own (gdb, strace inside lx).  With trace_all every
 * process and thread of the guest is traced (fork/vfork/clone events),
 * which zones need for execve through lx's loader (SECCOMP_RET_TRACE) and
 * which kills every guest process should the anchor die.
 *
 * Every stop is restarted the way Linux would have gone on without a
 * tracer (strace -f's logic): signals are delivered, group-stops are
 * kept with PTRACE_LISTEN so job control is unchanged.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lxfast.h"

/* Pids whose first stop has been seen: a new auto-attached tracee's first
 * stop (PTRACE_EVENT_STOP) is only a start signal, never a group-stop. */
#define PID_BITS (1u << 22) /* pid_max on 64-bit */
static uint8_t seen[PID_BITS / 8];

static int was_seen(int pid) { return (unsigned)pid < PID_BITS && (seen[pid >> 3] >> (pid & 7)) & 1; }
static void mark(int pid, int on)
{
    if ((unsigned)pid >= PID_BITS)
        return;
    if (on)
        seen[pid >> 3] |= (uint8_t)(1u << (pid & 7));
    else
        seen[pid >> 3] &= (uint8_t)~(1u << (pid & 7));
}

/* ---- fault explanation ---- */

/* A signal mask line of /proc/PID/status ("SigCgt:\t0000000000004a02"). */
static uint64_t status_mask(const char *status, const char *key)
{
    const char *p = strstr(status, key);
    return p ? strtoull(p + strlen(key), NULL, 16) : 0;
}

/* True when sig, now being delivered, will kill pid: not caught, or (for a
 * fault the kernel raised) blocked or ignored, which the kernel overrides. */
static int fatal_for(int pid, int sig, int kernel_sent)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 1;
    buf[n] = 0;
    uint64_t bit = 1ULL << (sig - 1);
    if (kernel_sent && ((status_mask(buf, "SigBlk:") | status_mask(buf, "SigIgn:")) & bit))
        return 1;
    return !(status_mask(buf, "SigCgt:") & bit) && !(status_mask(buf, "SigIgn:") & bit);
}

static void report_fault(int status_w, int pid, int sig)
{
    siginfo_t si;
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) < 0)
        return;
    int kernel_sent = si.si_code > 0;
    if (!fatal_for(pid, sig, kernel_sent))
        return;
    struct lx_record r;
    memset(&r, 0, sizeof r);
    r.kind = LX_REC_FAULT;
    r.pid = pid;
    r.value = sig;
    r.code = si.si_code;
    if (kernel_sent)
        r.addr = (uint64_t)(uintptr_t)si.si_addr;
    else
        r.sender = si.si_pid;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) == 0) {
        r.ip = regs.rip;
        for (int i = 0; i < 2; i++) {
            errno = 0;
            long w = ptrace(PTRACE_PEEKTEXT, pid, (void *)(uintptr_t)(regs.rip + 8 * i), 0);
            if (errno)
                break;
            memcpy(r.insn + 8 * i, &w, 8);
            r.insn_len += 8;
        }
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/exe", pid);
    ssize_t n = readlink(path, r.exe, sizeof r.exe - 1);
    if (n > 0)
        r.exe[n] = 0;
    (void)lx_write_full(status_w, &r, sizeof r);
}

/* Ask the exec service; no service (or it went away) means "continue". */
static void ask(struct lx_tracer *T, struct lx_exec_msg *m, struct lx_exec_reply *r)
{
    memset(r, 0, sizeof *r);
    if (T->exec_chan < 0)
        return;
    if (lx_write_full(T->exec_chan, m, sizeof *m) < 0 || lx_read_full(T->exec_chan, r, sizeof *r) != 0) {
        close(T->exec_chan);
        T->exec_chan = -1;
        memset(r, 0, sizeof *r);
    }
}

/* An execve/execveat stopped by SECCOMP_RET_TRACE, before the kernel runs it. */
static void exec_enter(struct lx_tracer *T, int pid)
{
    struct user_regs_struct regs;
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
        return;
    struct lx_exec_msg m = { .kind = LX_EXEC_ENTER, .pid = pid, .nr = (int32_t)regs.orig_rax,
                             .args = { regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9 },
                             .rsp = regs.rsp, .rip = regs.rip };
    struct lx_exec_reply r;
    ask(T, &m, &r);
    switch (r.action) {
    case LX_EXEC_FAIL: /* skip the call; it returns -err */
        regs.orig_rax = (unsigned long long)-1;
        regs.rax = (unsigned long long)(long long)-r.err;
        ptrace(PTRACE_SETREGS, pid, 0, &regs);
        break;
    case LX_EXEC_REWRITE: /* make another call instead (the loader's exec) */
        regs.orig_rax = (unsigned long long)r.nr;
        regs.rdi = r.args[0];
        regs.rsi = r.args[1];
        regs.rdx = r.args[2];
        ptrace(PTRACE_SETREGS, pid, 0, &regs);
        break;
    case LX_EXEC_KILL:
        kill(pid, SIGKILL);
        break;
    default:
        break;
    }
}

/* After a successful exec (PTRACE_EVENT_EXEC): the new image is in place. */
static void exec_done(struct lx_tracer *T, int pid)
{
    struct user_regs_struct regs;
    unsigned long former = (unsigned long)pid;
    ptrace(PTRACE_GETEVENTMSG, pid, 0, &former);
    if ((int)former != pid) /* a non-leader thread exec'd: it took the leader's pid */
        mark((int)former, 0);
    if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
        return;
    struct lx_exec_msg m = { .kind = LX_EXEC_DONE, .pid = pid, .former_tid = (int32_t)former,
                             .rsp = regs.rsp, .rip = regs.rip };
    struct lx_exec_reply r;
    ask(T, &m, &r);
    if (r.action == LX_EXEC_KILL)
        kill(pid, SIGKILL);
}

void lx_tracer_seize(struct lx_tracer *T, int pid)
{
    long opts = PTRACE_O_EXITKILL;
    if (T->trace_all)
        opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
                PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP;
    if (ptrace(PTRACE_SEIZE, pid, 0, opts) == 0)
        mark(pid, 1);
}

void lx_tracer_gone(struct lx_tracer *T, int pid)
{
    (void)T;
    mark(pid, 0);
}

void lx_tracer_stop(struct lx_tracer *T, int pid, int st)
{
    int sig = WSTOPSIG(st), event = (unsigned)st >> 16;
    if (!was_seen(pid)) {
        /* A new tracee (auto-attached at fork/clone) starts stopped. */
        mark(pid, 1);
        ptrace(PTRACE_CONT, pid, 0, 0);
        return;
    }
    switch (event) {
    case 0: /* signal-delivery-stop: deliver it */
        if (pid == T->first && (sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE))
            report_fault(T->status_w, pid, sig);
        ptrace(PTRACE_CONT, pid, 0, sig);
        return;
    case PTRACE_EVENT_STOP:
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
            ptrace(PTRACE_LISTEN, pid, 0, 0); /* group-stop: stay stopped */
        else
            ptrace(PTRACE_CONT, pid, 0, 0);
        return;
    case PTRACE_EVENT_SECCOMP:
        exec_enter(T, pid);
        ptrace(PTRACE_CONT, pid, 0, 0);
        return;
    case PTRACE_EVENT_EXEC:
        exec_done(T, pid);
        ptrace(PTRACE_CONT, pid, 0, 0);
        return;
    default: /* fork/vfork/clone events: nothing to do */
        ptrace(PTRACE_CONT, pid, 0, 0);
        return;
    }
}
