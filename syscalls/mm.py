"""Memory management: mappings, protection, NUMA policy, locking."""
from .registry import passthrough

passthrough(
    "mmap", "mprotect", "munmap", "brk", "mremap", "msync", "mincore", "madvise",
    "mlock", "mlock2", "munlock", "mlockall", "munlockall", "remap_file_pages",
    "mbind", "set_mempolicy", "get_mempolicy", "set_mempolicy_home_node",
    "migrate_pages", "move_pages", "pkey_mprotect", "pkey_alloc", "pkey_free",
    "process_madvise", "process_mrelease", "membarrier", "map_shadow_stack", "mseal",
    "cachestat", "modify_ldt", "arch_prctl", "set_thread_area", "get_thread_area",
)
