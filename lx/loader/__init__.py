"""lx's ELF loader, supervisor side: from a guest execve to a load plan.

The kernel never sees the guest's PT_INTERP or ``#!`` line: the supervisor
follows scripts (interp), reads program headers (elf), builds the auxiliary
vector (auxv) and the initial stack (stack), and puts it all in a
:class:`LoadPlan` (plan) that the static loader stub carries out in the guest.
See DESIGN.md, "Exec and the loader".
"""
from .auxv import HostAuxv, build_auxv, host_auxv, read_auxv
from .elf import ELFError, ElfImage, ExecError, Segment, cache_clear, cache_info, parse, parse_cached
from .interp import (BINPRM_BUF_SIZE, MAX_SCRIPT_DEPTH, ExecTarget, Shebang, check_exec_access,
                     host_resolve, parse_shebang, resolve_exec)
from .plan import (ELF_ET_DYN_BASE, STACK_TOP, TASK_SIZE, Fixup, ImagePlan, LoadPlan, Mapping, MmLayout,
                   mmap_base_for, plan_exec)
from .stack import StackImage, arg_space, build_stack, check_strings

__all__ = [
    "ELFError", "ExecError", "ElfImage", "Segment", "parse", "parse_cached", "cache_clear", "cache_info",
    "Shebang", "ExecTarget", "parse_shebang", "resolve_exec", "check_exec_access", "host_resolve",
    "BINPRM_BUF_SIZE", "MAX_SCRIPT_DEPTH",
    "HostAuxv", "build_auxv", "host_auxv", "read_auxv",
    "StackImage", "build_stack", "arg_space", "check_strings",
    "LoadPlan", "ImagePlan", "Mapping", "Fixup", "MmLayout", "plan_exec", "mmap_base_for",
    "TASK_SIZE", "STACK_TOP", "ELF_ET_DYN_BASE",
]
