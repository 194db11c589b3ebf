"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd), collecting what it receives."""

from __future__ import annotations

import email
import email.policy
import time
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.conftest import free_port


class Sink:
    """aiosmtpd handler keeping every delivered message."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """Store the message; 250 OK."""
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


class SmtpServer:
    """Start and stop a real SMTP server on a fixed free port (restartable on it)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sink = Sink()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        """Listen on 127.0.0.1:port."""
        self._controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening (messages received so far are kept)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        """The messages once at least ``count`` arrived (fails after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while len(self.sink.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.sink.messages)} of {count} mails arrived")
            time.sleep(0.1)
        return list(self.sink.messages)
