"""A tiny QMP (QEMU Machine Protocol) client over a unix socket, stdlib only."""
from __future__ import annotations

import json
import socket
import time
from typing import Any, Dict, Optional


class QMPError(RuntimeError):
    """QEMU answered a command with an error."""


class QMP:
    """Synchronous QMP session: connect, negotiate, run commands."""

    def __init__(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except (FileNotFoundError, ConnectionRefusedError):
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.file = self.sock.makefile("rwb")
        self._read()  # greeting
        self.execute("qmp_capabilities")

    def _read(self) -> Dict[str, Any]:
        line = self.file.readline()
        if not line:
            raise QMPError("QMP socket closed")
        return json.loads(line)

    def execute(self, cmd: str, args: Optional[Dict[str, Any]] = None,
                timeout: Optional[float] = None) -> Any:
        """Run one command and return its result, skipping async events."""
        msg: Dict[str, Any] = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.sock.settimeout(timeout)
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()
        while True:
            reply = self._read()
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise QMPError(f"{cmd}: {reply['error'].get('desc')}")

    def close(self) -> None:
        try:
            self.file.close()
            self.sock.close()
        except OSError:
            pass
