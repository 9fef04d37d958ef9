"""stat family: the results will carry the zone's fake ownership (identity issue)."""
from .registry import passthrough

passthrough("stat", "fstat", "lstat", "newfstatat", "statx", "ustat", "sysfs",
            note="Host results, unchanged: fake ownership arrives with zones.")
