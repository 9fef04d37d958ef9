"""System V IPC and POSIX message queues (host-wide namespaces: see note)."""
from .registry import passthrough

_SHARED = "Host IPC namespace: keys and queue names are shared with the host."
passthrough(
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop",
    "msgget", "msgsnd", "msgrcv", "msgctl",
    "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
    note=_SHARED,
)
