"""Local mail servers for the outbox's tests: ``MailServer`` speaks enough SMTP for Django's
backend (EHLO, MAIL, RCPT, DATA, QUIT) and keeps what it receives; ``HangingServer`` accepts
connections and never answers (a mail server that is down in the worst way: the client waits
for its timeout). Both listen on 127.0.0.1 and can be stopped and started on the same port."""

from __future__ import annotations

import socket
import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        server = self.server
        if server.hang:
            server.held.append(self.connection)
            server.stopped.wait()
            return
        self.wfile.write(b"220 localhost ESMTP test\r\n")
        rcpts, sender = [], ""
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb in (b"EHLO", b"HELO"):
                self.wfile.write(b"250 localhost\r\n")
            elif verb == b"MAIL":
                sender, rcpts = line.decode(errors="replace"), []
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"RCPT":
                rcpts.append(line.decode(errors="replace").split(":", 1)[1].strip().strip("<>"))
                self.wfile.write(b"250 OK\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                data = []
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk == b".\r\n":
                        break
                    data.append(chunk)
                server.received.append({"to": rcpts, "from": sender, "data": b"".join(data)})
                self.wfile.write(b"250 OK queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # RSET, NOOP and the rest
                self.wfile.write(b"250 OK\r\n")


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


class MailServer:
    hang = False

    def __init__(self, port: int = 0):
        self.port = port
        self.received: list[dict] = []
        self._server = None

    def start(self):
        self._server = _Server(("127.0.0.1", self.port), _Handler)
        self._server.hang = self.hang
        self._server.received = self.received
        self._server.held = []
        self._server.stopped = threading.Event()
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._server.stopped.set()
        self._server.shutdown()
        self._server.server_close()
        for conn in self._server.held:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server = None


class HangingServer(MailServer):
    hang = True
