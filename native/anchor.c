/* anchor.c -- the launcher: anchor and guest processes (see lxfast.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lxfast.h"

/* Newer than the installed (6.1) headers. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)   /* 6.6 */
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)          /* 6.6 */
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)      /* 5.19 */
#endif

/* ---- small helpers (async-signal-safe where used after fork) ---- */

int lx_write_full(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int lx_read_full(int fd, void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = read(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -1 : 1; /* 1: EOF before len */
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static void send_record(int fd, int kind, int pid, int value)
{
    struct lx_record r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.pid = pid;
    r.value = value;
    (void)lx_write_full(fd, &r, sizeof r);
}

/* The ppid field of /proc/PID/stat, or -1. */
static int proc_ppid(const char *pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%s/stat", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces and ')' */
    int ppid;
    char state;
    if (!p || sscanf(p + 1, " %c %d", &state, &ppid) != 2)
        return -1;
    return ppid;
}

/* SIGKILL every child of this process; returns how many were signalled. */
static int kill_children(void)
{
    int self = getpid(), n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        if (proc_ppid(de->d_name) == self) {
            kill(atoi(de->d_name), SIGKILL);
            n++;
        }
    }
    closedir(d);
    return n;
}

/* The anchor is a child subreaper: every orphan of the guest tree becomes
 * its child.  Killing children until none is left therefore ends the whole
 * tree, whatever sessions or process groups the guest made. */
static void kill_tree(pid_t g, int *g_status)
{
    for (;;) {
        kill_children();
        int st;
        pid_t p = waitpid(-1, &st, __WALL);
        if (p < 0 && errno == ECHILD)
            return;
        if (p == g && g_status && (WIFEXITED(st) || WIFSIGNALED(st)))
            *g_status = st;
    }
}

/* ---- the guest: after fork from the anchor, before exec ---- */

static void guest_main(struct lx_spawn *s, int chan, int status_w, int go_r, uint64_t ign_mask)
{
    /* Wait until the anchor has attached (or given up): a fault from the
     * very first instruction of the program must be seen. */
    char go;
    (void)lx_read_full(go_r, &go, 1);
    close(go_r);

    sigset_t none;
    sigemptyset(&none);
    /* Dispositions the supervisor or anchor changed go back to default,
     * except those the user's own environment had ignored (nohup): the
     * caller computes that mask before it ignores anything itself. */
    static const int reset[] = { SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGPIPE, SIGXFSZ,
                                 SIGCHLD, SIGTSTP, SIGTTIN, SIGTTOU };
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        signal(reset[i], (ign_mask >> reset[i]) & 1 ? SIG_IGN : SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);

    for (int i = 0; i < 3; i++)
        if (s->stdio[i] >= 0 && s->stdio[i] != i && dup2(s->stdio[i], i) < 0)
            goto setup_fail;
    if (s->close_fds)
        syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
    if (s->cwd && chdir(s->cwd) < 0)
        goto setup_fail;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        goto setup_fail;
    /* The second wall (lx/platform/landlock.py): once, here, before the
     * seccomp filter, so that restrict_self never reaches the supervisor.
     * Inherited by every process of the guest, never to be left. */
    if (s->landlock_fd >= 0) {
        if (syscall(SYS_landlock_restrict_self, s->landlock_fd, 0) < 0)
            goto setup_fail;
        close(s->landlock_fd);
    }

    struct sock_fprog prog = { s->filter_len, (struct sock_filter *)s->filter };
    unsigned int flags = SECCOMP_FILTER_FLAG_NEW_LISTENER | s->filter_flags;
    int lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    if (lfd < 0 && errno == EINVAL && (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
        lfd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                           flags & ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
    if (lfd < 0)
        goto setup_fail;

    /* From here on every call goes through the filter: only read, write,
     * close and execve are made, and the filter builder keeps the first
     * three ALLOWed.  The supervisor takes the listener with pidfd_getfd. */
    int msg[2] = { getpid(), lfd }, ack;
    if (lx_write_full(chan, msg, sizeof msg) < 0 || lx_read_full(chan, &ack, sizeof ack) != 0)
        _exit(127);
    close(lfd);
    close(chan);
    execve(s->path, s->argv, s->envp ? s->envp : environ);
    send_record(status_w, LX_REC_EXEC_ERRNO, getpid(), errno);
    _exit(errno == ENOENT ? 127 : 126);

setup_fail:
    send_record(status_w, LX_REC_SETUP_ERRNO, getpid(), errno);
    _exit(127);
}

/* ---- the anchor ---- */

static void anchor_main(struct lx_spawn *s, int chan, int status_w, int life_r, int exec_chan,
                        uint64_t ign_mask)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    prctl(PR_SET_NAME, "lx-anchor", 0, 0, 0);
    /* Terminal signals belong to the guest; the anchor lives exactly as long
     * as the guest and the supervisor.  Stop signals keep their default so
     * a Ctrl-Z of the whole job stops it like any process of the job. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    /* It traces the guest: a stopped anchor would keep the guest from
     * stopping or going on, so job-control stops are not for it. */
    signal(SIGTSTP, SIG_IGN);
    signal(SIGTTIN, SIG_IGN);
    signal(SIGTTOU, SIG_IGN);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0) {
        send_record(status_w, LX_REC_SETUP_ERRNO, 0, errno);
        _exit(1);
    }

    pid_t g = fork();
    if (g == 0) {
        close(life_r);
        close(go[1]);
        if (sfd >= 0)
            close(sfd);
        if (exec_chan >= 0)
            close(exec_chan);
        guest_main(s, chan, status_w, go[0], ign_mask);
    }
    close(chan);
    close(go[0]);
    struct lx_tracer T = { .status_w = status_w, .first = g, .trace_all = s->trace_all,
                           .exec_chan = exec_chan };
    if (g > 0)
        lx_tracer_seize(&T, g);
    (void)lx_write_full(go[1], "g", 1);
    close(go[1]);
    if (g < 0 || sfd < 0) {
        send_record(status_w, LX_REC_SETUP_ERRNO, 0, errno);
        _exit(1);
    }

    struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { life_r, POLLIN, 0 } };
    int status = 0;
    for (;;) {
        if (poll(pfd, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfd[1].revents) {
            /* The supervisor let go (it died, or it gives up on the guest):
             * end the guest tree; report its status in case it listens. */
            kill_tree(g, &status);
            break;
        }
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0)
            ;
        int done = 0;
        pid_t p;
        int st;
        while ((p = waitpid(-1, &st, WNOHANG | __WALL)) > 0) {
            if (WIFSTOPPED(st))
                lx_tracer_stop(&T, p, st);
            else {
                lx_tracer_gone(&T, p);
                if (p == g) {
                    status = st;
                    done = 1;
                }
            }
        }
        if (done)
            break;
    }
    kill_tree(g, NULL);
    send_record(status_w, LX_REC_GUEST_STATUS, g, status);
    _exit(0);
}

int lx_spawn(struct lx_spawn *s)
{
    int chan[2] = { -1, -1 }, st[2] = { -1, -1 }, life[2] = { -1, -1 }, ex[2] = { -1, -1 };
    s->anchor_pid = s->guest_pid = s->listener = s->status_fd = s->exec_fd = -1;
    s->sync_wakeup = 0;
    s->err = 0;
    s->err_step = NULL;

    uint64_t ign_mask = s->ign_mask;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, chan) < 0) {
        s->err_step = "socketpair";
        goto fail;
    }
    if (pipe2(st, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0) {
        s->err_step = "pipe2";
        goto fail;
    }
    if (s->trace_all && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ex) < 0) {
        s->err_step = "socketpair";
        goto fail;
    }
    pid_t a = fork();
    if (a < 0) {
        s->err_step = "fork";
        goto fail;
    }
    if (a == 0) {
        close(chan[0]);
        close(st[0]);
        close(life[1]);
        if (ex[0] >= 0)
            close(ex[0]);
        anchor_main(s, chan[1], st[1], life[0], ex[1], ign_mask);
        _exit(1);
    }
    s->anchor_pid = a;
    close(chan[1]);
    close(st[1]);
    close(life[0]);
    if (ex[1] >= 0)
        close(ex[1]);
    chan[1] = st[1] = life[0] = ex[1] = -1;
    s->status_fd = st[0];
    s->exec_fd = ex[0];
    s->life_fd = life[1];

    int msg[2];
    if (lx_read_full(chan[0], msg, sizeof msg) != 0) {
        /* The guest failed before it had a filter: the anchor says why. */
        s->err_step = "guest setup";
        s->err = 0;
        close(chan[0]);
        return -1;
    }
    s->guest_pid = msg[0];
    int pidfd = (int)syscall(SYS_pidfd_open, msg[0], 0);
    if (pidfd < 0) {
        s->err_step = "pidfd_open";
        goto fail_chan;
    }
    s->listener = (int)syscall(SYS_pidfd_getfd, pidfd, msg[1], 0);
    close(pidfd);
    if (s->listener < 0) {
        s->err_step = "pidfd_getfd";
        goto fail_chan;
    }
    fcntl(s->listener, F_SETFD, FD_CLOEXEC);
    __u64 fl = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
    if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, fl) == 0)
        s->sync_wakeup = 1;
    int ack = 0;
    lx_write_full(chan[0], &ack, sizeof ack);
    close(chan[0]);
    return 0;

fail_chan:
    s->err = errno;
    close(chan[0]);
    return -1;
fail:
    s->err = errno;
    for (int i = 0; i < 2; i++) {
        if (chan[i] >= 0) close(chan[i]);
        if (ex[i] >= 0) close(ex[i]);
        if (st[i] >= 0) close(st[i]);
        if (life[i] >= 0) close(life[i]);
    }
    return -1;
}

int lx_read_status(int fd, struct lx_record *rec)
{
    int r = lx_read_full(fd, rec, sizeof *rec);
    return r == 0 ? 1 : 0; /* 1: a record, 0: EOF or error */
}

int lx_wait_anchor(int pid, int *status)
{
    for (;;) {
        pid_t r = waitpid(pid, status, 0);
        if (r >= 0 || errno != EINTR)
            return r < 0 ? -errno : 0;
    }
}

