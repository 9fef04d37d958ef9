"""File descriptors and I/O: read/write, fd plumbing, polling, event fds.

On the host's own root these calls need no translation; the zone issues give
the path-taking ones (path.py, stat.py) their handlers.
"""
from .registry import Reason, nosys, passthrough

passthrough(
    "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev",
    "preadv2", "pwritev2", "lseek", "close", "close_range", "dup", "dup2", "dup3",
    "fcntl", "flock", "fsync", "fdatasync", "sync_file_range", "syncfs", "sync",
    "ftruncate", "fallocate", "fadvise64", "readahead", "sendfile", "splice", "tee",
    "vmsplice", "copy_file_range", "pipe", "pipe2", "ioctl",
    "poll", "ppoll", "select", "pselect6",
    "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2",
    "eventfd", "eventfd2", "signalfd", "signalfd4",
    "timerfd_create", "timerfd_settime", "timerfd_gettime",
    "inotify_init", "inotify_init1", "inotify_rm_watch",
    "fanotify_init",
    "io_setup", "io_destroy", "io_getevents", "io_pgetevents", "io_submit", "io_cancel",
    "memfd_create", "memfd_secret", "userfaultfd",
    "getdents", "getdents64",
    "fsetxattr", "fgetxattr", "flistxattr", "fremovexattr",
    "fchmod", "fchown", "fstatfs",
    "fchdir",
)

nosys("epoll_ctl_old", "epoll_wait_old", reason=Reason.OBSOLETE,
      note="Never implemented on x86-64; Linux itself returns ENOSYS.")
nosys("io_uring_setup", "io_uring_enter", "io_uring_register", reason=Reason.SECURITY,
      note="io_uring operations run in the kernel without passing seccomp, so they would "
           "bypass the table; programs fall back to ordinary calls.")
