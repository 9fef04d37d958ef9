/* loop.c -- the notification loop and guest memory access (see lxfast.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lxfast.h"

/* ---- guest memory ---- */

long lx_mem_read(int pid, uint64_t addr, void *buf, uint64_t len)
{
    struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
    return n < 0 ? -errno : n;
}

long lx_mem_write(int pid, uint64_t addr, const void *buf, uint64_t len)
{
    struct iovec l = { (void *)buf, len }, r = { (void *)(uintptr_t)addr, len };
    ssize_t n = process_vm_writev(pid, &l, 1, &r, 1, 0);
    return n < 0 ? -errno : n;
}

/* Read a NUL-terminated string of at most max bytes (NUL included).
 * Returns its length, -EFAULT, or -ENAMETOOLONG when no NUL within max. */
long lx_mem_read_str(int pid, uint64_t addr, char *buf, uint64_t max)
{
    uint64_t got = 0;
    while (got < max) {
        uint64_t page_left = 4096 - ((addr + got) & 4095);
        uint64_t want = max - got < page_left ? max - got : page_left;
        long n = lx_mem_read(pid, addr + got, buf + got, want);
        if (n <= 0)
            return -EFAULT;
        char *z = memchr(buf + got, 0, (size_t)n);
        if (z)
            return z - buf;
        got += (uint64_t)n;
    }
    return -ENAMETOOLONG;
}

int lx_notif_id_valid(int listener, uint64_t id)
{
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* ---- the notification loop ---- */

/* Returns 1 when resp must be sent, 0 when the call was answered already. */
static int handle(struct lx_loop *L, struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
    int nr = req->data.nr;
    int act = LX_ACT_PYTHON;
    if (nr >= 0 && nr < LX_NR_MAX) {
        act = L->actions[nr];
        L->counts[nr]++;
    } else {
        L->unknown++;
    }
    resp->id = req->id;
    resp->val = 0;
    resp->error = 0;
    resp->flags = 0;
    switch (act) {
    case LX_ACT_CONTINUE:
        resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
        break;
    case LX_ACT_UNAME:
        if (lx_mem_write(req->pid, req->data.args[0], L->utsname, LX_UTSNAME_SIZE) != LX_UTSNAME_SIZE)
            resp->error = -EFAULT;
        break;
    case LX_ACT_ENOSYS:
        resp->error = -ENOSYS;
        break;
    default:
        switch (lx_py_handle(req, resp)) {
        case 0:
            break;
        case LX_PY_REPLIED: /* answered already (SECCOMP_ADDFD_FLAG_SEND) */
            return 0;
        default:
            L->py_error = 1;
        }
        resp->id = req->id;
        break;
    }
    return 1;
}

/* Answer notification id from outside the loop (a worker thread that
 * finished a call the loop handed over).  Returns 0 or -errno. */
int lx_notif_reply(int listener, uint64_t id, int64_t val, int32_t error)
{
    struct seccomp_notif_resp r = { .id = id, .val = val, .error = error, .flags = 0 };
    return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &r) < 0 ? -errno : 0;
}

/* Install fd in the guest waiting on notification id, answering it with
 * the new fd number (SECCOMP_ADDFD_FLAG_SEND): the guest's open returns it.
 * Returns the guest's fd or -errno. */
int lx_addfd_send(int listener, uint64_t id, int fd, unsigned int newfd_flags)
{
    struct seccomp_notif_addfd a = { .id = id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = (uint32_t)fd,
                                     .newfd = 0, .newfd_flags = newfd_flags };
    int r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
    return r < 0 ? -errno : r;
}

/* Serve notifications until the anchor writes a record or exits (returns 1)
 * or Python sets L->stop (returns 0).  Negative: -errno of a failed call. */
int lx_loop_run(struct lx_loop *L)
{
    struct seccomp_notif_sizes sz;
    if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) < 0)
        return -errno;
    size_t reqsz = sz.seccomp_notif > sizeof(struct seccomp_notif) ? sz.seccomp_notif : sizeof(struct seccomp_notif);
    size_t respsz = sz.seccomp_notif_resp > sizeof(struct seccomp_notif_resp) ? sz.seccomp_notif_resp : sizeof(struct seccomp_notif_resp);
    struct seccomp_notif *req = calloc(1, reqsz);
    struct seccomp_notif_resp *resp = calloc(1, respsz);
    if (!req || !resp) {
        free(req);
        free(resp);
        return -ENOMEM;
    }
    /* Block in RECV itself: a poll() before each notification would cost
     * ~0.5 us a call (bench/bench_syscalls.py).  RECV fails with ENOENT
     * once no task uses the filter any more (or when the waiting task went
     * away); only then is the anchor's status pipe looked at. */
    struct pollfd pfd[2] = { { L->listener, POLLIN, 0 }, { L->status_fd, POLLIN, 0 } };
    int listening = 1, ret = 0;
    while (!L->stop) {
        if (listening) {
            memset(req, 0, reqsz);
            if (ioctl(L->listener, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
                memset(resp, 0, respsz);
                /* ENOENT: the guest was interrupted or died meanwhile. */
                if (handle(L, req, resp) && ioctl(L->listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 &&
                    errno != ENOENT && errno != EINTR) {
                    ret = -errno;
                    break;
                }
                continue;
            }
            if (errno != EINTR && errno != ENOENT) {
                ret = -errno;
                break;
            }
        }
        if (poll(pfd, 2, listening ? 0 : -1) < 0) {
            if (errno == EINTR)
                continue;
            ret = -errno;
            break;
        }
        if (pfd[1].revents) {
            ret = 1;
            break;
        }
        if (pfd[0].revents & (POLLHUP | POLLERR)) {
            listening = 0; /* no task uses the filter: wait for the anchor */
            pfd[0].fd = -1;
        }
    }
    free(req);
    free(resp);
    return ret;
}
