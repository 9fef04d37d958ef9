"""How lx intercepts a guest's syscalls: the seccomp filter built from the
table, the supervisor that answers user notifications, the per-call context."""
