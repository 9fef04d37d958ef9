"""lx: run unmodified Linux programs in user-space zones through a syscall table."""
__version__ = "0.1.0"


def run(*args, **kwargs):
    """Run a command under lx; see lx.runner.run (mirrors subprocess.run)."""
    from lx.runner import run as _run
    return _run(*args, **kwargs)
