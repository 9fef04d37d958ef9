"""What fits no family: prctl, keys, perf, seccomp, landlock, and host administration."""
from .registry import Reason, nosys, passthrough

passthrough(
    "prctl", "personality", "seccomp", "getrandom", "rseq", "futex", "futex_waitv",
    "futex_wake", "futex_wait", "futex_requeue", "set_robust_list", "get_robust_list",
    "add_key", "request_key", "keyctl", "perf_event_open", "getcpu",
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules",
    "kcmp", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd",
    "capget", "capset", "uretprobe", "uprobe",
)

nosys("uselib", "create_module", "get_kernel_syms", "query_module", "nfsservctl", "getpmsg",
      "putpmsg", "afs_syscall", "tuxcall", "security", "vserver", "_sysctl", "lookup_dcookie",
      reason=Reason.OBSOLETE, note="Removed from or never implemented in Linux x86-64.")
nosys("reboot", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
      "swapon", "swapoff", "acct", "iopl", "ioperm", "vhangup", "syslog", "bpf",
      "quotactl", "quotactl_fd",
      reason=Reason.SECURITY,
      note="Administers the host kernel; a zone must not reach it.")
nosys("mount", "umount2", "pivot_root", "fsopen", "fsconfig", "fsmount", "fspick",
      "move_mount", "open_tree", "open_tree_attr", "mount_setattr", "statmount", "listmount",
      "unshare", "setns",
      reason=Reason.SECURITY,
      note="Mounts and namespaces belong to the host; a zone's mounts are lx binds.")
