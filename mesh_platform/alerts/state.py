"""The sensor's cursor: timestamps read up to, what was already seen, each subject's last
state, and the webhook alerts still to deliver.

Timestamps, not storage ids: on Dagster's default SQLite storage, check evaluations live
in per-run shards whose ids are not comparable across runs, and a storage-id cursor on
them raises. Each stream (freshness events, check evaluations, runs) keeps its own
high-water mark and re-reads an overlap window behind it, deduplicated by event id, so an
event written a little out of timestamp order is still seen exactly once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mesh_platform.alerts.model import FAIL, PASS, WARN

OVERLAP_SECONDS = 300.0
MAX_PENDING = 500
ALERTING = (WARN, FAIL)


@dataclass
class AlertCursor:
    high_water: dict[str, float] = field(default_factory=dict)  # stream -> last timestamp read
    seen: dict[str, float] = field(default_factory=dict)  # event id -> its timestamp
    states: dict[str, str] = field(default_factory=dict)  # subject -> last known state
    pending: list[dict[str, Any]] = field(default_factory=list)  # webhook alerts not yet delivered

    @classmethod
    def load(cls, text: str | None) -> AlertCursor:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(
            high_water=data.get("hw", {}),
            seen=data.get("seen", {}),
            states=data.get("states", {}),
            pending=data.get("pending", []),
        )

    def dump(self) -> str:
        return json.dumps(
            {"hw": self.high_water, "seen": self.seen, "states": self.states, "pending": self.pending},
            sort_keys=True,
            separators=(",", ":"),
        )

    def read_from(self, stream: str) -> float | None:
        """Read events after this timestamp (None: from the beginning)."""
        hw = self.high_water.get(stream)
        return None if hw is None else hw - OVERLAP_SECONDS

    def first_sight(self, stream: str, event_id: str, timestamp: float) -> bool:
        """True once per event; moves the stream's high-water mark."""
        key = f"{stream}:{event_id}"
        if key in self.seen:
            return False
        self.seen[key] = timestamp
        self.high_water[stream] = max(self.high_water.get(stream, timestamp), timestamp)
        return True

    def prune(self) -> None:
        """Forget ids older than any overlap window can reach again."""
        self.seen = {
            k: ts
            for k, ts in self.seen.items()
            if ts > self.high_water.get(k.split(":", 1)[0], ts) - 2 * OVERLAP_SECONDS
        }

    def transition(self, subject: str, state: str) -> str | None:
        """Record a subject's new state; return the alert state to send, if any.

        WARN/FAIL alert once when entered; PASS after WARN/FAIL is a recovery alert;
        anything else (PASS from unknown, UNKNOWN, NOT_APPLICABLE) is recorded silently.
        """
        previous = self.states.get(subject)
        if state in ALERTING:
            self.states[subject] = state
        else:  # passing (or unknown) is the default: keep only what may need a recovery alert
            self.states.pop(subject, None)
        if state in ALERTING and previous != state:
            return state
        if state == PASS and previous in ALERTING:
            return PASS
        return None

    def queue(self, alert: dict[str, Any]) -> list[dict[str, Any]]:
        """Add an undelivered alert; returns any alerts dropped because the outbox is full."""
        self.pending.append(alert)
        dropped = self.pending[:-MAX_PENDING] if len(self.pending) > MAX_PENDING else []
        self.pending = self.pending[-MAX_PENDING:]
        return dropped
