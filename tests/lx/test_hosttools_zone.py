"""A zone of the host's own dynamically linked tools: an empty root with /usr
bound read-only (Debian's merged /usr: bin, lib, lib64 and sbin are links
into it).  bash, coreutils, python3 with its stdlib and gcc run from it
through lx's loader, with the zone's dynamic linker; outputs are compared
with the same commands run natively.
"""
import os
import subprocess

import pytest

import lx

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/root", "LC_ALL": "C"}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    if not os.path.isdir("/usr/lib64") or not os.path.islink("/bin"):
        pytest.skip("needs a merged-/usr host (Debian 12)")
    r = tmp_path_factory.mktemp("hostzone")
    for d in ("usr", "etc", "tmp", "proc", "dev", "root", "work"):
        (r / d).mkdir()
    (r / "tmp").chmod(0o1777)
    for name, target in (("bin", "usr/bin"), ("lib", "usr/lib"), ("lib64", "usr/lib64"), ("sbin", "usr/sbin")):
        (r / name).symlink_to(target)
    for f in ("passwd", "group"):
        (r / "etc" / f).write_bytes(open(f"/etc/{f}", "rb").read())
    for dev in ("null", "zero", "urandom", "tty"):
        (r / "dev" / dev).touch()
    return r


SCRIPTS = {
    "bash": "set -e; a=(3 1 2); echo ${#a[@]} $((a[0]*7)); printf '%s\\n' c b a | sort | tr '\\n' ,; echo; "
            "declare -A m=([k]=v); echo ${m[k]}; f() { local x=$1; echo ${x^^}; }; f word",
    "coreutils": "cd $W && seq 1 500 > n && sort -rn n | head -3 && wc -l < n && sha256sum n | cut -c1-16 "
                 "&& cut -c1 n | sort | uniq -c | head -3 && mkdir -p d/e && touch d/e/f && find d | sort "
                 "&& stat -c '%s %F' n d && du -s d | cut -f2 && rm -r d n",
    "python": "cd $W && python3 -c \"import json, sqlite3, hashlib, subprocess, threading, multiprocessing, "
              "tempfile, os; db = sqlite3.connect(':memory:'); db.execute('create table t(x)'); "
              "db.executemany('insert into t values (?)', [(i,) for i in range(100)]); "
              "print(db.execute('select sum(x) from t').fetchone()[0]); "
              "print(hashlib.sha256(b'lx').hexdigest()[:12]); "
              "print(subprocess.run(['echo', 'sub'], capture_output=True, text=True).stdout.strip()); "
              "p = multiprocessing.Pool(2); print(sum(p.map(abs, range(-10, 10)))); p.close(); p.join(); "
              "d = tempfile.mkdtemp(dir='.'); open(os.path.join(d, 'f'), 'w').write('x'); "
              "print(sorted(os.listdir(d))); print(json.dumps({'a': [1, 2]}))\"; rm -rf tmp*",
    "gcc": "cd $W && printf '#include <stdio.h>\\nint main(void){puts(\"compiled\");return 7;}\\n' > h.c "
           "&& gcc -O1 -o h h.c && ./h; echo rc=$?; rm -f h h.c",
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_host_tools_in_a_zone_match_native(root, tmp_path, name):
    native_work = tmp_path / "native"
    native_work.mkdir()
    n = subprocess.run(["/bin/bash", "-c", SCRIPTS[name]], capture_output=True, text=True,
                       env=dict(ENV, W=str(native_work)), timeout=120)
    z = lx.run(["/bin/bash", "-c", SCRIPTS[name]], root=root, binds=["/usr:/usr:ro"], capture_output=True,
               text=True, env=dict(ENV, W="/work"), timeout=120)
    assert (z.returncode, z.stdout, z.stderr) == (n.returncode, n.stdout, n.stderr)
    assert z.lx.execs >= 1


def test_unix_socket_paths_are_zone_paths(root, tmp_path):
    """A host socket cannot be reached by its path from the zone; a zone's own
    socket is created inside the zone and works, with the guest's names."""
    import socket as pysocket
    import threading
    host_sock = tmp_path / "host.sock"
    srv = pysocket.socket(pysocket.AF_UNIX)
    srv.bind(str(host_sock))
    srv.listen()
    reached = []
    srv.settimeout(10)

    def watch() -> None:
        try:
            reached.append(srv.accept())
        except OSError:               # closed or timed out: nobody came, as it should be
            pass
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    code = f"""
import socket, os, threading
try:
    c = socket.socket(socket.AF_UNIX); c.connect({str(host_sock)!r}); print('REACHED THE HOST')
except OSError as e:
    print('host socket:', e.strerror)
s = socket.socket(socket.AF_UNIX); s.bind('/tmp/zone.sock'); s.listen()
print('bound', s.getsockname(), os.path.exists('/tmp/zone.sock'))
def serve():
    c, _ = s.accept(); c.sendall(b'zone hello'); c.close()
t = threading.Thread(target=serve); t.start()
c = socket.socket(socket.AF_UNIX); c.connect('/tmp/zone.sock'); print(c.recv(100).decode(), c.getpeername())
t.join(); os.unlink('/tmp/zone.sock')
"""
    z = lx.run(["/usr/bin/python3", "-c", code], root=root, binds=["/usr:/usr:ro"], capture_output=True,
               text=True, env=ENV, timeout=60)
    srv.shutdown(pysocket.SHUT_RDWR)   # wakes the watcher's accept()
    srv.close()
    t.join(timeout=10)
    assert z.stdout.splitlines() == ["host socket: No such file or directory", "bound /tmp/zone.sock True",
                                     "zone hello /tmp/zone.sock"], z.stderr
    assert not reached
    assert not (root / "tmp" / "zone.sock").exists()
