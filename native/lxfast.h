/* lxfast: lx's platform in C -- the launcher and the seccomp notification loop.
 *
 * Process tree of one `lx run`:
 *
 *   supervisor (Python + this loop)
 *     `-- anchor (C only, forked here): child subreaper, reaps orphans,
 *           |                           kills the whole guest tree when the
 *           |                           guest ends or the supervisor dies
 *           `-- guest: installs the seccomp filter (NEW_LISTENER), hands the
 *                      listener to the supervisor over a socketpair, execs.
 *
 * The supervisor answers notifications: C fast handlers where they exist
 * (LX_ACT_* below), otherwise the Python dispatcher through an extern
 * "Python" callback.  Everything the anchor does happens after fork() in a
 * process that never runs Python again.
 */
#ifndef LXFAST_H
#define LXFAST_H
#include <stddef.h>
#include <stdint.h>
#include <linux/seccomp.h>

/* What the loop does with a notification, per syscall number. */
enum {
    LX_ACT_PYTHON = 0,   /* call the Python dispatcher */
    LX_ACT_CONTINUE = 1, /* let the call run unchanged */
    LX_ACT_UNAME = 2,    /* answer uname(2) from the identity buffer */
    LX_ACT_ENOSYS = 3,   /* reply -ENOSYS and count it (no Python) */
};

#define LX_NR_MAX 1024
#define LX_UTSNAME_SIZE 390

struct lx_spawn {
    /* in */
    const char *path;
    char *const *argv;
    char *const *envp;       /* NULL: the supervisor's own environ */
    const void *filter;      /* struct sock_filter[] */
    unsigned short filter_len;
    unsigned int filter_flags; /* extra SECCOMP_FILTER_FLAG_* */
    int stdio[3];            /* fds to become the guest's 0,1,2; -1 = inherit */
    const char *cwd;         /* NULL = inherit */
    int close_fds;           /* mark fds >= 3 close-on-exec in the guest */
    uint64_t ign_mask;       /* bit N: the guest starts with signal N ignored (nohup) */
    int trace_all;           /* ptrace every guest process, not only the first */
    int landlock_fd;         /* a Landlock ruleset the guest restricts itself to, or -1 */
    int exec_fd;             /* out (trace_all): the exec service's end of the anchor's channel */
    /* out */
    int anchor_pid;
    int guest_pid;
    int listener;            /* seccomp listener (supervisor side) */
    int status_fd;           /* anchor -> supervisor: records, EOF at exit */
    int life_fd;             /* held by the supervisor: its death tells the anchor */
    int sync_wakeup;         /* 1 when SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP is set */
    int err;                 /* errno of a failed step */
    const char *err_step;    /* which step failed */
};

struct lx_loop {
    int listener;
    int status_fd;
    uint8_t actions[LX_NR_MAX];
    uint64_t counts[LX_NR_MAX];  /* notifications per nr */
    uint64_t unknown;            /* notifications with nr >= LX_NR_MAX */
    char utsname[LX_UTSNAME_SIZE];
    int stop;                    /* set by Python to leave the loop */
    int py_error;                /* set when a Python handler raised */
};

/* Records the anchor writes on status_fd: fixed size, below PIPE_BUF, so
 * each write is atomic. */
struct lx_record {
    int32_t kind;       /* LX_REC_* */
    int32_t pid;
    int32_t value;      /* wait status / errno / signal number */
    int32_t code;       /* LX_REC_FAULT: si_code */
    int32_t sender;     /* LX_REC_FAULT: si_pid when sent by a process */
    int32_t insn_len;   /* LX_REC_FAULT: bytes of insn that could be read */
    uint64_t addr;      /* LX_REC_FAULT: si_addr */
    uint64_t ip;        /* LX_REC_FAULT: instruction pointer */
    uint8_t insn[16];   /* LX_REC_FAULT: code at ip */
    char exe[256];      /* LX_REC_FAULT: /proc/PID/exe */
};
enum {
    LX_REC_EXEC_ERRNO = 1,   /* the guest's execve failed */
    LX_REC_GUEST_STATUS = 2, /* the guest's first process ended: wait status */
    LX_REC_SETUP_ERRNO = 3,  /* the guest failed before exec */
    LX_REC_FAULT = 4,        /* the guest is about to die of a fault signal */
};

/* The anchor's tracer (tracer.c); used inside the anchor process only. */
struct lx_tracer {
    int status_w;   /* records for the supervisor */
    int first;      /* the guest's first process */
    int trace_all;
    int exec_chan;  /* socket to the supervisor's exec service, or -1 */
};
void lx_tracer_seize(struct lx_tracer *T, int pid);
void lx_tracer_stop(struct lx_tracer *T, int pid, int status);
void lx_tracer_gone(struct lx_tracer *T, int pid);

/* The anchor asks the supervisor's exec service what to do at an execve
 * (SECCOMP_RET_TRACE stop) and after an exec (PTRACE_EVENT_EXEC). */
struct lx_exec_msg {
    int32_t kind;        /* LX_EXEC_ENTER / LX_EXEC_DONE */
    int32_t pid;         /* the thread (ENTER) / the process after exec (DONE) */
    int32_t former_tid;  /* DONE: the thread that called execve */
    int32_t nr;          /* ENTER: execve or execveat */
    uint64_t args[6];
    uint64_t rsp;
    uint64_t rip;
};
struct lx_exec_reply {
    int32_t action;      /* LX_EXEC_* */
    int32_t err;         /* LX_EXEC_FAIL: the errno */
    int32_t nr;          /* LX_EXEC_REWRITE: the call to make instead */
    int32_t pad;
    uint64_t args[3];    /* LX_EXEC_REWRITE: its first three arguments */
};
enum { LX_EXEC_ENTER = 1, LX_EXEC_DONE = 2 };
enum { LX_EXEC_CONTINUE = 0, LX_EXEC_FAIL = 1, LX_EXEC_REWRITE = 2, LX_EXEC_KILL = 3 };

/* write/read exactly len bytes, retrying EINTR (anchor.c; async-signal-safe).
 * lx_read_full returns 1 on EOF before len, -1 on error. */
int lx_write_full(int fd, const void *buf, size_t len);
int lx_read_full(int fd, void *buf, size_t len);

int lx_spawn(struct lx_spawn *s);
/* The Python dispatcher (extern "Python+C" in build_lxfast.py): 0 = send
 * resp, LX_PY_REPLIED = the handler answered itself, else a handler bug. */
#define LX_PY_REPLIED 2
int lx_py_handle(struct seccomp_notif *req, struct seccomp_notif_resp *resp);
int lx_addfd_send(int listener, uint64_t id, int fd, unsigned int newfd_flags);
int lx_notif_reply(int listener, uint64_t id, int64_t val, int32_t error);
int lx_loop_run(struct lx_loop *L);
int lx_read_status(int fd, struct lx_record *rec);
long lx_mem_read(int pid, uint64_t addr, void *buf, uint64_t len);
long lx_mem_write(int pid, uint64_t addr, const void *buf, uint64_t len);
long lx_mem_read_str(int pid, uint64_t addr, char *buf, uint64_t max);
int lx_notif_id_valid(int listener, uint64_t id);
int lx_wait_anchor(int pid, int *status);
#endif
