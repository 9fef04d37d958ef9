"""Clocks, timers and sleeping."""
from .registry import Reason, nosys, passthrough

passthrough(
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
    "getitimer", "setitimer", "alarm", "times",
    "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
)
nosys("settimeofday", "clock_settime", "clock_adjtime", "adjtimex", reason=Reason.SECURITY,
      note="Setting or steering the host's clock is not the zone's to do; "
           "a read-only adjtimex query is not emulated yet.")
