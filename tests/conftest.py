"""Fixtures shared by the test suite.

``probe``       name -> executable built from conformance/probes/NAME.c
                (gcc via conformance.build, cached by content).
``run_native``  argv -> CompletedProcess, run directly on the host.
``run_lx``      argv -> CompletedProcess from ``lx.run`` (``.lx`` is the report).

Both runners capture text output and give up after 120 s.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conformance.build import build_c

PROBES = Path(__file__).resolve().parents[1] / "conformance" / "probes"
TIMEOUT = 120


@pytest.fixture(scope="session")
def probe():
    """``probe(name)``: the built probe conformance/probes/NAME.c (a Path)."""
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = build_c(PROBES / f"{name}.c")
        return built[name]
    return get


def run_native(argv, **kw) -> subprocess.CompletedProcess:
    """``argv`` run on the host, text output captured, 120 s at most."""
    kw.setdefault("timeout", TIMEOUT)
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kw)


def run_lx(argv, timeout: float = TIMEOUT, **kw) -> subprocess.CompletedProcess:
    """``argv`` run by ``lx.run`` (capture_output, text), 120 s at most:
    then the guest tree is killed and subprocess.TimeoutExpired raised."""
    import lx

    return lx.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(name="run_native")
def run_native_fixture():
    return run_native


@pytest.fixture(name="run_lx")
def run_lx_fixture():
    return run_lx
