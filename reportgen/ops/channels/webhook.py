"""Chat incoming webhooks (Slack, Teams): a short summary and a link to the artifacts.

The webhook URL is itself a secret (anyone holding it can post), so the
config names the environment variable that holds it and neither the outbox
nor any message ever contains it. Redirects are not followed: a hook that
redirects is misconfigured, and following it would post the report elsewhere.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from typing import Any

from reportgen.config.delivery import DeliveryConfig, WebhookChannel
from reportgen.ops.channels import (
    Delivered,
    PermanentDeliveryError,
    Prepared,
    TransientDeliveryError,
    UncertainDeliveryError,
)
from reportgen.ops.channels.email import format_link
from reportgen.ops.manifest import ReportContent

_TRANSIENT_STATUS = {408, 425, 429, 500, 502, 503, 504}
_MAX_TILES = 6


def prepare(channel: WebhookChannel, content: ReportContent, delivery: DeliveryConfig) -> Prepared:
    link = format_link(delivery.link, content) or content.folder.resolve().as_uri()
    text = summary_text(content, link)
    if channel.style == "teams":
        body = _teams(content, text)
    else:
        body = {"text": text, "blocks": _slack_blocks(content, text)}
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    transport = {
        "name": channel.name,
        "url_env": channel.url_env,
        "url": channel.url,
        "timeout_seconds": channel.timeout_seconds,
    }
    return Prepared("webhook", payload, transport, f"{channel.style} webhook '{channel.name}'")


def summary_text(content: ReportContent, link: str) -> str:
    """Title, the first KPI tiles with their change, and the link."""
    lines = [f"*{content.title}* — {content.period_display} ({content.audience_label})"]
    if content.status_note:
        lines.append(f"_{content.status_note}_")
    for tile in content.tiles[:_MAX_TILES]:
        delta = tile.get("delta")
        change = f" ({delta['text']} {delta['comparison']})" if delta else ""
        unit = f" {tile['unit']}" if tile.get("unit") else ""
        lines.append(f"• {tile['label']}: {tile['value_text']}{unit}{change}")
    if content.headlines:
        lines.append(content.headlines[0])
    lines.append(f"Full report: {link}")
    return "\n".join(lines)


def _slack_blocks(content: ReportContent, text: str) -> list[dict[str, Any]]:
    return [
        {"type": "header", "text": {"type": "plain_text", "text": content.title[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
    ]


def _teams(content: ReportContent, text: str) -> dict[str, Any]:
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "text": content.title},
            {"type": "TextBlock", "wrap": True, "text": text.replace("*", "**")},
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def transmit(payload: bytes, transport: dict[str, Any]) -> Delivered:
    """POST the stored JSON once; 429/5xx/connection errors are transient, other 4xx permanent."""
    name = transport["name"]
    url = _url(transport)
    try:  # urllib's own messages quote the URL, and the URL is the secret: never pass them on
        request = urllib.request.Request(
            url, data=payload, method="POST", headers={"Content-Type": "application/json"}
        )
        if request.type not in ("http", "https"):
            raise ValueError(request.type)
    except ValueError:
        raise PermanentDeliveryError(
            f"webhook '{name}' has a malformed URL (not http(s)://host/…)",
            fix=f"check ${transport.get('url_env') or 'url'}: it must be the full incoming-webhook URL",
            channel=name,
        ) from None
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=transport["timeout_seconds"]) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise _http_error(name, exc.code, exc.headers.get("Retry-After")) from None
    except (TimeoutError, http.client.RemoteDisconnected):
        # urllib wraps failures while sending the request in URLError; these come from
        # reading the answer, so the endpoint has the whole request and may have posted it
        raise UncertainDeliveryError(
            f"webhook '{name}' received the whole message, then its answer was lost "
            "(timeout or closed connection): it may have been posted",
            fix="check the chat channel before re-sending",
            channel=name,
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TransientDeliveryError(
            f"cannot reach webhook '{name}': {getattr(reason, 'strerror', None) or reason.__class__.__name__}",
            fix="the outbox retries with backoff; check the endpoint if it persists",
            channel=name,
        ) from None
    except (http.client.HTTPException, ValueError) as exc:  # not HTTP, or a bad port/host
        raise TransientDeliveryError(
            f"webhook '{name}' did not answer in HTTP ({exc.__class__.__name__})",
            fix="check that the URL names the webhook endpoint; the outbox retries",
            channel=name,
        ) from None
    return Delivered(f"webhook '{name}' answered {status}")


def _url(transport: dict[str, Any]) -> str:
    env = transport.get("url_env")
    url = os.environ.get(env) if env else transport.get("url")
    if not url:
        raise PermanentDeliveryError(
            f"webhook '{transport['name']}' has no URL: ${env} is not set",
            fix=f"export {env}=<the incoming-webhook URL> for the process that sends",
        )
    return url


def _http_error(name: str, code: int, retry_after: str | None) -> Exception:
    if code in _TRANSIENT_STATUS:
        seconds = float(retry_after) if retry_after and retry_after.isdigit() else None
        return TransientDeliveryError(
            f"webhook '{name}' answered {code}",
            fix="the outbox retries with backoff",
            channel=name,
            retry_after=seconds,
        )
    if 300 <= code < 400:
        return PermanentDeliveryError(
            f"webhook '{name}' redirected ({code}); redirects are not followed",
            fix="configure the final webhook URL",
            channel=name,
        )
    return PermanentDeliveryError(
        f"webhook '{name}' rejected the message ({code})",
        fix="check the webhook URL (revoked or mistyped?) and the channel style",
        channel=name,
    )
