"""Running in a zone: the busybox default zone, compared with a real chroot,
and the escapes a guest would try.

The chroot oracle needs root (CI runs as root); as an ordinary user the
comparisons are skipped and the confinement tests still run.
"""
import http.server
import os
import subprocess
import sys
import threading

import pytest
from lxzones import new_default_zone

import lx

IS_ROOT = os.geteuid() == 0
ENV = {"PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "HOME": "/root", "LC_ALL": "C"}


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    root = new_default_zone(tmp_path_factory)
    (root / "data").mkdir()
    for i in range(30):
        (root / "data" / f"f{i:02d}.txt").write_text(f"line {i}\nalpha {i % 3}\n")
    (root / "data" / "sub").mkdir()
    (root / "data" / "sub" / "deep.txt").write_text("deep\n")
    (root / "data" / "abs-passwd").symlink_to("/etc/passwd")
    (root / "data" / "up").symlink_to("../../../../../../etc/passwd")
    return root


def in_zone(root, script, **kw):
    return lx.run(["/bin/sh", "-c", script], root=root, capture_output=True, text=True, env=ENV,
                  timeout=60, **kw)


def in_chroot(root, script):
    return subprocess.run(["/usr/sbin/chroot", str(root), "/bin/sh", "-c", script], capture_output=True,
                          text=True, env=ENV, timeout=60)


SCRIPTS = {
    "ls": "cd /data && ls && ls -la sub | sed 's/  */ /g' | cut -d' ' -f1,3-5,9",
    "find": "find /data -name '*.txt' | sort | head -40; find / -xdev -maxdepth 1 -type d | sort",
    "grep_sed_awk": "grep -h alpha /data/*.txt | sort | uniq -c | awk '{print $2, $3, $1}' | sed 's/alpha/A/'",
    "tar": "cd /tmp && rm -rf t && mkdir t && cd t && tar cf /tmp/d.tar -C / data && tar xf /tmp/d.tar "
           "&& find . | sort | wc -l && cat data/sub/deep.txt && rm -rf /tmp/t /tmp/d.tar",
    "files": "cd /tmp && mkdir -p a/b && echo 1 > a/b/x && ln -s b/x a/l && ln a/b/x a/h && mv a/b/x a/y "
             "&& cat a/h a/y && readlink a/l && ls a | sort && chmod 600 a/y && stat -c '%a %s' a/y "
             "&& rm -r a && ls /tmp",
    "symlinks": "cat /data/abs-passwd | head -1; cat /data/up | head -1; cd /data/sub && cd ../.. && pwd; "
                "cd / && cd .. && cd .. && pwd && ls / | head -3",
    "shell": "x=$(echo hi); echo $x ${#x}; for i in 1 2 3; do echo $i; done | tr '\\n' ' '; echo; "
             "(exit 3); echo $?; test -d /etc && echo dir; [ -e /nonexistent ] || echo missing",
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_busybox_zone_matches_chroot(zone, name):
    r = in_zone(zone, SCRIPTS[name])
    if not IS_ROOT:
        assert r.returncode == 0, r.stderr
        pytest.skip("the chroot oracle needs root")
    n = in_chroot(zone, SCRIPTS[name])
    assert (r.returncode, r.stdout, r.stderr) == (n.returncode, n.stdout, n.stderr)


def test_the_host_is_not_reachable(zone, tmp_path):
    secret = tmp_path / "host-secret"
    secret.write_text("host only\n")
    depth = "/".join([".."] * 20)
    script = (f"cat {secret}; cat /data/{depth}{secret}; cd /; cd {depth}; ls {tmp_path}; "
              f"ln -s {secret} /tmp/s; cat /tmp/s; ln {secret} /tmp/h; cat /tmp/h; "
              f"cat /proc/1/root{secret}; cat /proc/self/root{secret}; cat /proc/self/cwd/{depth}{secret}; "
              "rm -f /tmp/s /tmp/h")
    r = in_zone(zone, script)
    assert "host only" not in r.stdout + r.stderr
    assert r.stdout == ""


def test_zone_sees_its_own_etc(zone):
    r = in_zone(zone, "head -1 /etc/passwd; cat /etc/os-release | grep ^ID=; uname -n")
    assert r.stdout.splitlines()[:2] == ["root:x:0:0:root:/root:/bin/sh", "ID=lx-busybox"]


def test_proc_self_and_fds_are_the_guest_s(zone):
    r = in_zone(zone, "cd /data; readlink /proc/self/exe; ls -l /proc/self/cwd | sed 's/.* -> //'; "
                      "cat /proc/self/comm; echo via-stdin | cat /dev/stdin; cat /proc/$$/comm; true")
    assert r.stdout.splitlines() == ["/bin/busybox", "/data", "cat", "via-stdin", "sh"], r.stderr


def test_wget_from_a_loopback_server(zone, tmp_path):
    (tmp_path / "page.html").write_text("<p>served</p>\n")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        port = srv.server_address[1]
        r = in_zone(zone, f"cd /tmp && wget -q http://127.0.0.1:{port}/page.html && cat page.html && rm page.html")
    finally:
        srv.shutdown()
    assert r.returncode == 0 and r.stdout == "<p>served</p>\n", r.stderr


def test_lx_run_without_root_or_command_is_the_default_zone_shell(tmp_path):
    env = dict(os.environ, LX_HOME=str(tmp_path / "home"))
    r = subprocess.run([sys.executable, "-m", "lx", "run"], input="grep ^ID= /etc/os-release; echo $0\n",
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ID=lx-busybox\n/bin/sh\n"


def test_bad_roots_and_binds_are_one_line_errors(tmp_path):
    for args, word in ((["--root", str(tmp_path / "missing")], "no such directory"),
                       (["--root", "/etc/hostname"], "not a directory"),
                       (["--root", str(tmp_path), "-b", "/nonexistent-lx:/x"], "does not exist")):
        r = subprocess.run([sys.executable, "-m", "lx", "run", *args, "--", "true"], capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and word in r.stderr, r.stderr


def test_binds_are_visible_and_read_only_binds_refuse_writes(zone, tmp_path):
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "in.txt").write_text("from host\n")
    (zone / "mnt").mkdir(exist_ok=True)
    (zone / "ro").mkdir(exist_ok=True)
    binds = [f"{tmp_path / 'shared'}:/mnt", f"{tmp_path / 'shared'}:/ro:ro"]
    r = lx.run(["/bin/sh", "-c", "cat /mnt/in.txt; echo new > /mnt/out.txt; echo x > /ro/no.txt; "
                "cd /mnt/.. && pwd"], root=zone, binds=binds, capture_output=True, text=True, env=ENV,
               timeout=60)
    assert r.stdout.splitlines() == ["from host", "/"], r.stderr
    assert "Read-only file system" in r.stderr
    assert (tmp_path / "shared" / "out.txt").read_text() == "new\n"
    assert not (tmp_path / "shared" / "no.txt").exists()


def test_landlock_holds_when_the_translation_is_off(zone, tmp_path):
    """The second wall: with mkdir and unlink passed through untranslated, the
    guest's own calls on host paths are refused by Landlock, not by lx."""
    import dataclasses

    from lx.platform import landlock
    from syscalls import _nr_x86_64 as nr
    from syscalls.registry import Support
    from syscalls.table import TABLE
    if landlock.abi_version() == 0:
        pytest.skip("no Landlock on this kernel")
    victim = tmp_path / "host-file"
    victim.write_text("keep me\n")
    table = dict(TABLE)
    for name in ("mkdir", "mkdirat", "unlink", "unlinkat"):
        n = nr.NR[name]
        table[n] = dataclasses.replace(TABLE[n], support=Support.PASSTHROUGH, handler=None, zone=False)
    r = lx.run(["/bin/sh", "-c", f"mkdir {tmp_path}/made; unlink {victim}; echo done"], root=zone,
               capture_output=True, text=True, env=ENV, timeout=60, table=table)
    assert r.stdout == "done\n"
    assert r.stderr.count("Permission denied") == 2, r.stderr
    assert victim.read_text() == "keep me\n" and not (tmp_path / "made").exists()


def test_signals_stay_inside_the_zone(zone):
    from lx.platform import landlock
    if landlock.abi_version() < 6:
        pytest.skip("signal scoping needs Landlock ABI 6")
    r = in_zone(zone, f"kill -0 {os.getpid()}; echo rc=$?")
    assert "rc=1" in r.stdout and "Operation not permitted" in r.stderr


def test_mountpoints_are_made_inside_the_root_only(tmp_path):
    root = tmp_path / "bare"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "busybox").write_bytes(open("/bin/busybox", "rb").read())
    (root / "bin" / "busybox").chmod(0o755)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside)            # a bind under it must not create anything there
    share = tmp_path / "share"
    share.mkdir()
    (share / "f").write_text("shared\n")
    r = lx.run(["/bin/busybox", "sh", "-c", "cat /srv/data/f; echo x > /dev/null && echo null-ok"], root=root,
               binds=[f"{share}:/srv/data", f"{share}:/escape/sub"], capture_output=True, text=True, env=ENV,
               timeout=60)
    assert r.stdout == "shared\nnull-ok\n", r.stderr
    assert (root / "srv" / "data").is_dir() and (root / "dev" / "null").is_file()
    assert list(outside.iterdir()) == []


def test_fifo_opens_do_not_block_the_supervisor(zone):
    """Opening a FIFO waits for its other end in a worker thread; the
    supervisor keeps serving the writer meanwhile."""
    r = in_zone(zone, "rm -f /tmp/fifo; mkfifo /tmp/fifo && (sleep 0.3; uname -s; echo via-fifo > /tmp/fifo) & "
                      "cat /tmp/fifo; wait; rm /tmp/fifo")
    assert r.returncode == 0 and r.stdout == "Linux\nvia-fifo\n", r.stderr


def test_proc_maps_and_mountinfo_show_the_zone(zone, tmp_path):
    (zone / "mnt").mkdir(exist_ok=True)
    r = lx.run(["/bin/sh", "-c", "grep -m1 busybox /proc/self/maps; cat /proc/self/mountinfo; cat /proc/mounts; "
                "cat /proc/self/maps /proc/self/mountinfo /proc/self/mounts | grep -c " + str(zone)],
               root=zone, binds=[f"{tmp_path}:/mnt:ro"], capture_output=True, text=True, env=ENV, timeout=60)
    lines = r.stdout.splitlines()
    assert lines[0].endswith(" /bin/busybox")
    assert lines[-1] == "0"                                   # no host path of the zone anywhere
    info = [ln.split() for ln in lines if ln[:1].isdigit() and " - " in ln]
    points = {f[4]: f for f in info}
    assert points["/"][3] == "/" and points["/mnt"][5].startswith("ro")
    assert any(ln.split()[1] == "/mnt" and " ro" in " " + ln.split()[3] for ln in lines if ln.startswith("/"))


def test_uname_and_proc_identity_files_agree(zone):
    from lx.zone import Zone
    z = Zone.from_root(zone, hostname="zone-one", kernel_release="5.10.0-lx")
    r = lx.run(["/bin/sh", "-c", "uname -n; uname -r; cat /proc/sys/kernel/hostname /proc/sys/kernel/osrelease; "
                "cut -d' ' -f3 /proc/version; hostname renamed; cat /proc/sys/kernel/hostname; uname -n"],
               zone=z, capture_output=True, text=True, env=ENV, timeout=60)
    assert r.stdout.split() == ["zone-one", "5.10.0-lx", "zone-one", "5.10.0-lx", "5.10.0-lx", "renamed",
                                "renamed"], r.stderr
