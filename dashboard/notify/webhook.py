"""JSON webhooks: a body with a `text` field, which Slack and Microsoft Teams incoming webhooks both accept."""

from __future__ import annotations

import json
import urllib.error
import urllib.request


class WebhookError(RuntimeError):
    """The receiver did not take the message; the text says why."""


def post(url: str, payload: dict, timeout: float = 5.0) -> int:
    """POST ``payload`` as JSON; the receiver's status when it is 2xx, else WebhookError."""
    if not url.startswith(("https://", "http://")):
        raise WebhookError(f"a webhook URL must start with https:// or http://, not {url[:30]!r}")
    req = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - the scheme is checked above
            return resp.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"webhook answered {exc.code} {exc.reason}") from None
    except (OSError, ValueError) as exc:
        raise WebhookError(f"webhook unreachable: {exc}") from None


def chat_payload(text: str) -> dict:
    """Slack and Teams incoming webhooks both render a body holding only `text`; URLs in it become links."""
    return {"text": text}
