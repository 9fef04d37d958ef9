"""The command line: subcommands, formats, and one-line errors."""
import csv
import io
import json
import subprocess
import sys

from syscalls.table import TABLE


def lx(*args, input=None):
    return subprocess.run([sys.executable, "-m", "lx", *args], capture_output=True, text=True, input=input)


def test_version():
    r = lx("version")
    assert r.returncode == 0
    assert r.stdout.startswith("lx ") and f"{len(TABLE)} syscalls" in r.stdout


def test_syscalls_formats_carry_every_entry():
    rows = json.loads(lx("syscalls", "--format", "json").stdout)
    assert len(rows) == len(TABLE)
    assert {r["name"] for r in rows} == {e.name for e in TABLE.values()}
    table = list(csv.DictReader(io.StringIO(lx("syscalls", "--format", "csv").stdout)))
    assert len(table) == len(TABLE)
    text = lx("syscalls").stdout.splitlines()
    assert len(text) == len(TABLE) + 2 and "in all" in text[-1]


def test_syscalls_level_filter():
    rows = json.loads(lx("syscalls", "--format", "json", "--level", "nosys").stdout)
    assert rows and all(r["support"] == "nosys" and r["reason"] for r in rows)


def test_bad_format_is_one_line_and_exit_2():
    r = lx("syscalls", "--format", "nope")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1
    assert "invalid choice: 'nope'" in r.stderr and "usage:" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_subcommand_and_flag():
    for args in (("frobnicate",), ("version", "--frob")):
        r = lx(*args)
        assert r.returncode == 2
        assert len(r.stderr.strip().splitlines()) == 1 and "usage:" in r.stderr


def test_python_m_lx_and_console_script_agree():
    import shutil
    exe = shutil.which("lx", path=sys.prefix + "/bin")
    if exe is None:
        import pytest
        pytest.skip("lx console script not installed in this environment")
    r = subprocess.run([exe, "version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == lx("version").stdout
