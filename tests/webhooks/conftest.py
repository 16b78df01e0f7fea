"""A real HTTP receiver on loopback that records what it gets and answers scripted statuses."""

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Receiver:
    url: str
    answers: list[int] = field(default_factory=list)  # statuses to answer, then 200
    received: list[dict] = field(default_factory=list)  # {"headers", "body", "status"}

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]

    def acknowledged(self) -> list[str]:
        """Delivery ids the receiver answered 2xx to."""
        return [json.loads(r["body"])["id"] for r in self.received if r["status"] < 300]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = state.answers.pop(0) if state.answers else 200
            state.received.append({"headers": dict(self.headers), "body": body, "status": status})
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
