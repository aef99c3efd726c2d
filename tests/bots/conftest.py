"""Every bot test runs offline: any real Telegram or Twilio call fails it."""

from __future__ import annotations

from tests.bots.fakes import no_network

__all__ = ["no_network"]
