"""A small TCP proxy between the application and a real server, for fault tests.

It forwards bytes both ways until told otherwise:

- `refuse()`: stop listening and drop every open connection, as a database or
  mail server that is down; `restore()` listens again on the same port.
- `hang()`: keep accepting connections but forward nothing in either
  direction, as a server that accepts and never answers; `restore()` lets
  the bytes flow again (held bytes are delivered, so sessions resume).
- `freeze_open()`: forward nothing on the connections open now, while new
  ones work, as one connection whose answer is lost on the way while the
  server answers everyone else; `restore()` lets them flow again.

Used against PostgreSQL (`tests/test_timeouts.py`, the outbox worker's
outage tests) and against SMTP servers.
"""
from __future__ import annotations

import select
import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, listen_port: int = 0):
        self.target = (target_host, target_port)
        self.port = listen_port
        self._flowing = threading.Event()
        self._flowing.set()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._frozen: set[socket.socket] = set()  # clients of the pairs freeze_open() stopped
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None

    # --- life cycle --------------------------------------------------------

    def start(self) -> "TcpProxy":
        self._stopping.clear()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accept_thread = threading.Thread(target=self._accept, name="tcp-proxy-accept", daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._flowing.set()
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
            self._listener = None
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=2)
            self._accept_thread = None
        self._drop_all()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- faults ------------------------------------------------------------

    def refuse(self) -> None:
        """The server is down: new connections are refused, open ones are cut."""
        self.stop()

    def hang(self) -> None:
        """The server accepts and never answers."""
        self._flowing.clear()

    def freeze_open(self) -> None:
        """The connections open now stop forwarding; new ones flow."""
        with self._lock:
            self._frozen = {client for client, _ in self._pairs}

    def restore(self) -> None:
        if self._listener is None:
            self.start()
        with self._lock:
            self._frozen = set()
        self._flowing.set()

    @property
    def url_host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    # --- internals ---------------------------------------------------------

    def _drop_all(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream in pairs:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def _accept(self) -> None:
        listener = self._listener
        while not self._stopping.is_set():
            try:
                listener.settimeout(0.2)
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), name="tcp-proxy-pipe", daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        # A hung server still completes the TCP handshake (the kernel does
        # that), then says nothing: wait here without connecting upstream.
        while not self._flowing.wait(0.1):
            if self._stopping.is_set():
                client.close()
                return
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        with self._lock:
            self._pairs.append((client, upstream))
        sockets = [client, upstream]
        try:
            while not self._stopping.is_set():
                if not self._flowing.is_set():
                    self._flowing.wait(0.1)
                    continue
                if client in self._frozen:
                    self._stopping.wait(0.1)
                    continue
                readable, _, _ = select.select(sockets, [], [], 0.1)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is client else client).sendall(data)
        except OSError:
            return
        finally:
            with self._lock:
                if (client, upstream) in self._pairs:
                    self._pairs.remove((client, upstream))
            for sock in sockets:
                try:
                    sock.close()
                except OSError:
                    pass
