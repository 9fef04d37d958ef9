"""Sockets (AF_UNIX paths become zone paths with the zones issue)."""
from .registry import passthrough

passthrough(
    "socket", "socketpair", "bind", "connect", "listen", "accept", "accept4",
    "getsockname", "getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg",
    "sendmmsg", "recvmmsg", "shutdown", "setsockopt", "getsockopt",
)
