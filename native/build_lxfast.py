"""cffi (out-of-line API mode) build of lx.native._lxfast from native/lxfast.c.

Used by setup.py through ``cffi_modules=``; the cdef below is the Python
view of native/lxfast.h, and the seccomp structs are declared partially
(``...``) so their real layout comes from the kernel headers at build time.
"""
import os
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent

ffibuilder = FFI()
ffibuilder.cdef("""
    /* <linux/seccomp.h>: __u64 is unsigned long long there. */
    struct seccomp_data {
        int nr;
        unsigned int arch;
        unsigned long long instruction_pointer;
        unsigned long long args[6];
    };
    struct seccomp_notif {
        unsigned long long id;
        unsigned int pid;
        unsigned int flags;
        struct seccomp_data data;
    };
    struct seccomp_notif_resp {
        unsigned long long id;
        long long val;
        int error;
        unsigned int flags;
    };

    enum { LX_ACT_PYTHON, LX_ACT_CONTINUE, LX_ACT_UNAME, LX_ACT_ENOSYS };
    #define LX_NR_MAX 1024
    #define LX_UTSNAME_SIZE 390
    enum { LX_REC_EXEC_ERRNO = 1, LX_REC_GUEST_STATUS = 2, LX_REC_SETUP_ERRNO = 3,
           LX_REC_FAULT = 4 };

    struct lx_spawn {
        const char *path;
        char *const *argv;
        char *const *envp;
        const void *filter;
        unsigned short filter_len;
        unsigned int filter_flags;
        int stdio[3];
        const char *cwd;
        int close_fds;
        uint64_t ign_mask;
        int trace_all;
        int landlock_fd;
        int exec_fd;
        int anchor_pid;
        int guest_pid;
        int listener;
        int status_fd;
        int life_fd;
        int sync_wakeup;
        int err;
        const char *err_step;
    };
    struct lx_loop {
        int listener;
        int status_fd;
        uint8_t actions[1024];
        uint64_t counts[1024];
        uint64_t unknown;
        char utsname[390];
        int stop;
        int py_error;
    };
    struct lx_record {
        int32_t kind; int32_t pid; int32_t value; int32_t code; int32_t sender;
        int32_t insn_len; uint64_t addr; uint64_t ip; uint8_t insn[16]; char exe[256];
    };

    struct lx_exec_msg {
        int32_t kind; int32_t pid; int32_t former_tid; int32_t nr;
        uint64_t args[6]; uint64_t rsp; uint64_t rip;
    };
    struct lx_exec_reply {
        int32_t action; int32_t err; int32_t nr; int32_t pad; uint64_t args[3];
    };
    enum { LX_EXEC_ENTER = 1, LX_EXEC_DONE = 2 };
    enum { LX_EXEC_CONTINUE = 0, LX_EXEC_FAIL = 1, LX_EXEC_REWRITE = 2, LX_EXEC_KILL = 3 };

    int lx_spawn(struct lx_spawn *s);
    int lx_loop_run(struct lx_loop *L);
    int lx_read_status(int fd, struct lx_record *rec);
    long lx_mem_read(int pid, uint64_t addr, void *buf, uint64_t len);
    long lx_mem_write(int pid, uint64_t addr, const void *buf, uint64_t len);
    long lx_mem_read_str(int pid, uint64_t addr, char *buf, uint64_t max);
    int lx_notif_id_valid(int listener, uint64_t id);
    #define LX_PY_REPLIED 2
    int lx_addfd_send(int listener, uint64_t id, int fd, unsigned int newfd_flags);
    int lx_notif_reply(int listener, uint64_t id, int64_t val, int32_t error);
    int lx_wait_anchor(int pid, int *status);

    extern "Python+C" int lx_py_handle(struct seccomp_notif *, struct seccomp_notif_resp *);
""")

SOURCES = ("anchor.c", "tracer.c", "loop.c")

ffibuilder.set_source(
    "lx.native._lxfast",
    '#include "lxfast.h"\n',
    # setuptools wants paths relative to the project (the cwd of a pip build)
    sources=[os.path.relpath(HERE / name) for name in SOURCES],
    depends=[os.path.relpath(HERE / "lxfast.h")],
    include_dirs=[str(HERE)],
    extra_compile_args=["-O2", "-Wall", "-Wno-unused-function"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
