"""A WebSocket client on a bare socket, for the attacks a well-behaved client library will not make:
pings whose pongs are never read, thousands of frames pipelined in one write, invalid UTF-8, a
frame cut off mid-way. Only what the playground's tests need (RFC 6455 client frames, masked).

Every call is bounded by the socket's timeout; callers connect to loopback addresses only.
"""

from __future__ import annotations

import base64
import os
import socket
import struct

TEXT, BINARY, CLOSE, PING = 0x1, 0x2, 0x8, 0x9
MASK = b"\x11\x22\x33\x44"  # any key will do; a fixed one lets a long buffer be built once


def address(url: str) -> tuple[str, int]:
    """(host, port) of http://HOST:PORT/ (an IPv6 HOST in brackets)."""
    host, _, port = url.split("/")[2].rpartition(":")
    return host.strip("[]"), int(port)


def frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """One masked client frame."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 1 << 16:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return head + MASK + masked


def text(message: str | bytes) -> bytes:
    return frame(TEXT, message.encode() if isinstance(message, str) else message)


def connect(host: str, port: int, *, http_host: str | None = None, origin: str | None = None,
            timeout: float = 10.0) -> tuple[socket.socket, bytes]:
    """Open a socket and send the upgrade request: (socket, the response's status line and
    headers). The socket is left positioned after the response headers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect((host, port))
    key = base64.b64encode(os.urandom(16)).decode()
    name = http_host or (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    lines = ["GET /ws HTTP/1.1", f"Host: {name}", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: the frames after the headers stay unread
        if not chunk:
            break
        head += chunk
    return sock, head


def status(head: bytes) -> int:
    """The HTTP status of a response head (0 when there was none)."""
    parts = head.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def http_get(host: str, port: int, http_host: str, timeout: float = 10.0) -> int:
    """GET / with the given Host header: the response's status."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {http_host}\r\nConnection: close\r\n\r\n".encode())
        head = b""
        while b"\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                break
            head += chunk
    return status(head)


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """The next (unmasked, server) frame: (opcode, payload); (-1, b"") at the end of the stream."""
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data
    try:
        b0, b1 = exactly(2)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", exactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", exactly(8))[0]
        return b0 & 0x0F, exactly(n)
    except (EOFError, ConnectionError):
        return -1, b""
