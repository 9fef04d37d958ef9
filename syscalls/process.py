"""Processes and threads: creation, exec, exit, wait, groups, scheduling, limits.

The guest's processes are real host processes; the seccomp filter and its
listener are inherited across fork, clone and exec, so one supervisor sees
the whole tree.  Pids are host pids until the zone pid view arrives.
"""
from .registry import passthrough

passthrough(
    "fork", "vfork", "clone", "clone3", "exit", "exit_group", "wait4", "waitid",
    "set_tid_address", "umask",
    "getpriority", "setpriority", "sched_yield", "sched_setparam", "sched_getparam",
    "sched_setscheduler", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_setaffinity",
    "sched_getaffinity", "sched_setattr", "sched_getattr", "ioprio_set", "ioprio_get",
    "getrlimit", "setrlimit", "prlimit64", "getrusage", "sysinfo",
)
passthrough("execve", "execveat",
            note="Host root: the kernel loads the program; zones route exec through lx's loader.")
passthrough("getpid", "getppid", "gettid", "setpgid", "getpgid", "getpgrp", "setsid", "getsid",
            note="Host pids: the zone pid view arrives with the identity issue.")
