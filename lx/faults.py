"""Explain a guest's death by a fault signal in one line, as a crash
reporter would: program, signal and its cause, faulting address, and the
faulting instruction disassembled with capstone.

The anchor (native/anchor.c) traces the guest's first process and, when a
SIGSEGV/SIGBUS/SIGILL/SIGFPE is about to kill it, records the siginfo, the
instruction pointer and the code bytes there.
"""
from __future__ import annotations

from dataclasses import dataclass

from syscalls import abi

# si_code prefixes for each fault signal (asm-generic/siginfo.h).
_CODE_PREFIX = {abi.SIGSEGV: "SEGV_", abi.SIGBUS: "BUS_", abi.SIGILL: "ILL_", abi.SIGFPE: "FPE_"}


@dataclass(frozen=True)
class Fault:
    pid: int
    signal: int
    code: int          # si_code
    addr: int          # si_addr (kernel-raised faults)
    sender: int        # si_pid (signals sent by a process)
    ip: int
    insn: bytes        # code bytes at ip (up to 16)
    exe: str

    @property
    def kernel_sent(self) -> bool:
        return self.code > 0

    def code_name(self) -> str:
        prefix = _CODE_PREFIX.get(self.signal, "")
        for name, value in abi.SI_CODE.items():
            if value == self.code and name.startswith(prefix):
                return name
        return str(self.code)

    def instruction(self) -> str:
        """The instruction at ip, disassembled ('' when the bytes are unknown)."""
        if not self.insn:
            return ""
        try:
            import capstone
        except ImportError:
            return self.insn[:8].hex(" ")
        md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
        for ins in md.disasm(self.insn, self.ip):
            return f"{ins.mnemonic} {ins.op_str}".strip()
        return f"(undecodable: {self.insn[:8].hex(' ')})"

    def line(self) -> str:
        who = f"{self.exe or '?'} (pid {self.pid})"
        sig = abi.signal_name(self.signal)
        if not self.kernel_sent:
            return f"lx: {who} killed by {sig} sent by pid {self.sender}"
        text = f"lx: {who} killed by {sig} ({self.code_name()}) at address {self.addr:#x}"
        ins = self.instruction()
        if ins:
            text += f": {ins} (at {self.ip:#x})"
        return text
