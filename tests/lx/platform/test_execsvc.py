"""Exec through lx's loader (what zones do), compared with the kernel's own exec.

Each program is run natively and with ``lx.run(loader=True)``: the stub maps
the program and its interpreter from lx.loader's plan; outputs must match.
"""
import subprocess
import sys
import textwrap

import pytest

import lx

ENV = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}


def both(argv, **kw):
    native = subprocess.run(argv, capture_output=True, text=True, env=ENV, timeout=60, **kw)
    under = lx.run(argv, capture_output=True, text=True, env=ENV, loader=True, timeout=60, **kw)
    return native, under


def same(argv, **kw):
    native, under = both(argv, **kw)
    assert (under.returncode, under.stdout, under.stderr) == (native.returncode, native.stdout, native.stderr)
    return under


@pytest.fixture(scope="module")
def progs(tmp_path_factory):
    d = tmp_path_factory.mktemp("progs")
    src = d / "hello.c"
    src.write_text(textwrap.dedent("""\
        #include <stdio.h>
        #include <stdlib.h>
        #include <sys/auxv.h>
        int main(int argc, char **argv, char **envp) {
            int n = 0;
            while (envp[n]) n++;
            printf("argc=%d argv0=%s last=%s envc=%d pagesz=%lu\\n", argc, argv[0], argv[argc - 1], n,
                   getauxval(AT_PAGESZ));
            void *p = malloc(1 << 20);
            printf("malloc %s\\n", p ? "ok" : "failed");
            return argc;
        }
        """))
    out = {}
    for kind, flags in (("dynamic", []), ("static", ["-static"]), ("static-pie", ["-static-pie"]),
                        ("nopie", ["-no-pie"])):
        exe = d / f"hello-{kind}"
        subprocess.run(["gcc", "-O1", *flags, "-o", str(exe), str(src)], check=True)
        out[kind] = str(exe)
    script = d / "script.sh"
    script.write_text("#!/bin/sh -e\necho script \"$0\" \"$@\"\n")
    script.chmod(0o755)
    nested = d / "nested"
    nested.write_text(f"#!{script} from-nested\n")
    nested.chmod(0o755)
    out["script"], out["nested"] = str(script), str(nested)
    return out


@pytest.mark.parametrize("kind", ["dynamic", "static", "static-pie", "nopie"])
def test_elf_kinds(progs, kind):
    r = same([progs[kind], "a", "b c"])
    assert r.returncode == 3 and r.lx.execs == 1


def test_scripts_and_nested_scripts(progs):
    same([progs["script"], "x", "y"])
    same([progs["nested"], "z"])


def test_shell_pipelines_exec_many_programs():
    r = same(["/bin/sh", "-c", "echo a b | tr a-z A-Z | sed s/B/bee/; ls -d / /etc | sort -r; exit 5"])
    assert r.lx.execs >= 5


def test_busybox_static_applets():
    same(["/bin/busybox", "sh", "-c", "busybox echo hi; busybox seq 3 | busybox wc -l"])


def test_cmdline_comm_and_auxv_look_native():
    r = same(["/bin/sh", "-c", "tr '\\0' ' ' < /proc/self/cmdline; echo; cat /proc/self/comm"])
    assert "tr \\0" not in r.stdout
    native, under = both(["/bin/sh", "-c", "LD_SHOW_AUXV=1 /bin/true | cut -d: -f1"])
    assert under.stdout == native.stdout and "AT_SYSINFO_EHDR" in under.stdout


def test_exec_errors_are_the_kernel_s(tmp_path):
    plain = tmp_path / "plain"
    plain.write_text("echo from-plain\n")
    plain.chmod(0o644)
    noexec = tmp_path / "notelf"
    noexec.write_bytes(b"\x7fELF garbage")
    noexec.chmod(0o755)
    code = textwrap.dedent(f"""\
        import os
        for p in ("/nonexistent", {str(plain)!r}, {str(noexec)!r}, "/etc"):
            try:
                os.execv(p, [p])
            except OSError as e:
                print(p, e.errno)
        """)
    same([sys.executable, "-c", code])


def test_fexecve_and_relative_paths(tmp_path):
    code = ("import os; fd = os.open('/bin/echo', os.O_RDONLY); "
            "os.execve(fd, ['echo', 'fexecve'], {})")
    same([sys.executable, "-c", code])
    same(["/bin/sh", "-c", "cd /bin && ./echo relative"])


def test_threads_and_big_environments():
    env_big = " ".join(f"V{i}={'x' * 100}" for i in range(500))
    same(["/bin/sh", "-c", f"env -i {env_big} /usr/bin/env | wc -l"])
    same([sys.executable, "-c", "import subprocess, threading; "
          "ts=[threading.Thread(target=subprocess.run, args=(['true'],)) for _ in range(8)]; "
          "[t.start() for t in ts]; [t.join() for t in ts]; print('ok')"])


@pytest.mark.parametrize("machine, em, word", [("i386", 3, "32-bit ELF (i386) is not supported yet"),
                                               ("arm64", 183, "arm64 ELF is not supported yet")])
def test_foreign_elf_gets_one_clear_line_and_enoexec(tmp_path, machine, em, word):
    data = bytearray(open("/bin/true", "rb").read())
    data[18:20] = em.to_bytes(2, "little")
    if machine == "i386":
        data[4] = 1                     # ELFCLASS32
    exe = tmp_path / f"prog-{machine}"
    exe.write_bytes(bytes(data))
    exe.chmod(0o755)
    code = f"import os\ntry:\n    os.execv({str(exe)!r}, ['x'])\nexcept OSError as e:\n    print(e.errno)"
    import io
    log = io.StringIO()                 # lx's own messages (the CLI's stderr)
    r = lx.run([sys.executable, "-c", code], capture_output=True, text=True, loader=True, timeout=60, log=log)
    assert r.stdout == "8\n"            # ENOEXEC, as the kernel gives for a foreign ELF
    assert log.getvalue() == f"lx: {exe}: {word}\n"
