"""Path-taking calls: open, create, link, rename, remove, xattrs by path.

On the host's own root (`lx run` without a zone) the guest's paths are host
paths, so these run unchanged; a zone's root translates every one of them
(the zones issue replaces these entries with handlers).
"""
from .registry import passthrough

_HOST_ROOT = "Paths are host paths: lx does not translate them yet (host root only)."

passthrough(
    "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat",
    "chdir", "getcwd", "mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "unlink", "unlinkat",
    "rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
    "chmod", "fchmodat", "fchmodat2", "chown", "lchown", "fchownat",
    "utime", "utimes", "futimesat", "utimensat", "truncate", "statfs",
    "setxattr", "lsetxattr", "getxattr", "lgetxattr", "listxattr", "llistxattr",
    "removexattr", "lremovexattr", "setxattrat", "getxattrat", "listxattrat", "removexattrat",
    "inotify_add_watch", "chroot", "file_getattr", "file_setattr",
    note=_HOST_ROOT,
)
