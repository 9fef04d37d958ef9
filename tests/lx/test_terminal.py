"""lx on a terminal: Ctrl-C reaches the guest, job control works both ways.

Each test drives a real pseudo-terminal: a session leader owns it, keys
are written to the master, the screen is read back.
"""
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

import pytest

LX = [sys.executable, "-m", "lx", "run", "--"]


class Term:
    """A process on its own pty, driven by keys."""

    def __init__(self, argv, env=None):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                                     env=env, preexec_fn=lambda: __import__("fcntl").ioctl(
                                         0, __import__("termios").TIOCSCTTY, 0))
        os.close(slave)
        self.screen = ""

    def send(self, text: str) -> None:
        os.write(self.master, text.encode())

    def expect(self, pattern: str, timeout: float = 15.0) -> re.Match:
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.screen)
            if m:
                self.screen = self.screen[m.end():]
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {pattern!r}; screen: {self.screen!r}")
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if not data:
                    time.sleep(0.05)
                    if self.proc.poll() is not None and not re.search(pattern, self.screen):
                        raise AssertionError(f"exited waiting for {pattern!r}; screen: {self.screen!r}")
                self.screen += data.decode(errors="replace")

    def close(self) -> int:
        try:
            rc = self.proc.wait(timeout=15)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            os.close(self.master)
        return rc


@pytest.fixture
def env():
    return dict(os.environ, PS1="$ ", TERM="dumb", HISTFILE="/dev/null")


def test_ctrl_c_reaches_the_guest_not_lx(env):
    t = Term([*LX, "sh", "-c", "trap 'echo got-int; exit 7' INT; echo ready; while :; do sleep 0.05; done"], env)
    t.expect("ready")
    t.send("\x03")
    t.expect("got-int")
    assert t.close() == 7
    assert "Traceback" not in t.screen and "KeyboardInterrupt" not in t.screen


def test_ctrl_c_kills_a_plain_command_with_130(env):
    t = Term([*LX, "sh", "-c", "echo ready; exec sleep 30"], env)
    t.expect("ready")
    time.sleep(0.2)
    t.send("\x03")
    assert t.close() == 128 + signal.SIGINT


def test_lx_is_a_job_of_the_outer_shell(env):
    """Ctrl-Z stops `lx run` as a whole, fg resumes it, the status comes back."""
    t = Term(["bash", "--norc", "--noprofile", "-i"], env)
    t.expect(r"\$ ")
    t.send(" ".join(LX) + " sh -c 'echo begin; sleep 1; echo end; exit 4'\n")
    t.expect(r"\nbegin")          # the output, not the echo of the typed line
    t.send("\x1a")
    t.expect(r"Stopped")
    t.expect(r"\$ ")
    t.send("fg\n")
    t.expect(r"\nend")
    t.expect(r"\$ ")
    t.send("echo rc=$?\n")
    t.expect(r"\nrc=4")
    t.send("exit\n")
    t.close()


def test_job_control_inside_the_guest(env):
    """An interactive bash under lx: Ctrl-Z, jobs, fg and Ctrl-C on its own jobs."""
    t = Term([*LX, "bash", "--norc", "--noprofile", "-i"], env)
    t.expect(r"\$ ")
    t.send("sleep 30\n")
    time.sleep(0.3)
    t.send("\x1a")
    t.expect(r"Stopped\s+sleep 30")
    t.expect(r"\$ ")
    t.send("jobs\n")
    t.expect(r"\[1\]\+\s+Stopped\s+sleep 30")
    t.send("fg\n")
    t.expect("sleep 30")
    time.sleep(0.3)
    t.send("\x03")
    t.expect(r"\$ ")
    t.send("echo rc=$?\n")
    t.expect(r"\nrc=130")
    t.send("exit 9\n")
    assert t.close() == 9
