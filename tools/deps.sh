#!/bin/sh
# Install the Debian packages lx's build and tests need; quiet and quick when
# they are already there.  Run by `make deps` (which `make test` calls).
set -eu
# python3-venv/-dev: the rootless tests build lx for Debian's own python3,
# which an unprivileged user can run (a root-only pyenv may not be).
PKGS="gcc make libc6-dev busybox-static proot strace python3 python3-venv python3-dev"
# A system Python needs its venv and headers packages to build lx.
if ! python3 -c 'import ensurepip' >/dev/null 2>&1; then PKGS="$PKGS python3-venv"; fi
if ! python3 -c 'import os, sysconfig; assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' >/dev/null 2>&1; then
    PKGS="$PKGS python3-dev"
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "lx: missing Debian packages:$missing; run: sudo apt-get install$missing" >&2
    exit 1
fi
echo "lx: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $missing >/dev/null
