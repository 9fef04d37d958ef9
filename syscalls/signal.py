"""Signals: actions, masks, waiting, sending within the guest."""
from .registry import passthrough

passthrough(
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigtimedwait",
    "rt_sigsuspend", "sigaltstack", "pause", "restart_syscall",
)
passthrough(
    "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_send_signal",
    note="Host pids: the zone pid view arrives with the identity issue.",
)
