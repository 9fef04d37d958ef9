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
