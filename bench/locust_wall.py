"""Locust users that behave like wall screens: one Dash refresh callback every WALL_EVERY seconds, nothing else."""

from __future__ import annotations

import json
import os

from locust import FastHttpUser, constant_pacing, task

PAYLOADS = json.loads(open(os.environ["WALL_PAYLOADS"]).read())  # noqa: SIM115 - read once at import


class WallScreen(FastHttpUser):
    wait_time = constant_pacing(float(os.environ.get("WALL_EVERY", "15")))

    def on_start(self) -> None:
        self.n = 0

    @task
    def tick(self) -> None:
        # Screens rotate: alternate the slides as the browser would, with a rising tick count.
        body = json.loads(json.dumps(PAYLOADS[self.n % len(PAYLOADS)]))
        self.n += 1
        with self.client.post("/_dash-update-component", json=body, name="wall refresh", catch_response=True) as r:
            if r.status_code not in (200, 204):
                r.failure(f"HTTP {r.status_code}")
