"""Build an evidence bundle from an :class:`EvidenceExport`.

What goes in (every file listed with its SHA-256 in ``manifest.sha256``):

- ``media/NN-K.<ext>``: media attached to message NN, as fetched from the platform
  when the message was first cited in a report (``capture``); what could not be
  fetched is listed with the reason in ``capture.json``;
- ``payloads/NN-<platform>.json``: each message's platform payload exactly as received
  (the original, from its first revision when it was later edited), byte for byte;
  ``payloads/NN-<platform>-rK-<edit|delete>.json`` for each edit or deletion seen on
  the platform before the export;
- ``transcript.html`` and ``transcript.pdf``: the messages (and our replies) in time
  order with UTC times, platform identities and links;
- ``capture.json``: who exported, when (UTC), the tool and its version, and for each
  message where it came from (account, platform id and URL, author ids, posted and
  received times) and which payload file holds it;
- ``custody.json``: the audit trail's events about these messages, their conversation,
  the report and this export, up to the export (each with its chain hashes, so each
  row can be recomputed against the live trail);
- ``report.json`` when the export is for an intelligence report: its grading and the
  sanitised intelligence text. Source details are never included.

Only what was true at the export goes in (revisions, replies and audit rows after it
are left out), so rebuilding the same export gives the same bytes.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from django.db.models import Q

from beatdesk.audit.models import AuditEvent
from beatdesk.channels.models import InboundMessage, InboundRevision, MediaFile
from beatdesk.core.pdf import render_pdf
from beatdesk.inbox.models import Reply

from .models import CapturedMedia, EvidenceExport
from .seal import json_file, pack

TOOL = "Beatdesk"


def tool_version() -> str:
    try:
        return metadata.version("beatdesk")
    except metadata.PackageNotFoundError:
        return "unknown"


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _payloads(
    messages: list[InboundMessage], until: datetime
) -> tuple[dict[str, bytes], dict[int, list[dict[str, Any]]]]:
    """payload files, and per message the files that hold it (original first)."""
    files: dict[str, bytes] = {}
    held: dict[int, list[dict[str, Any]]] = {}
    revisions: dict[int, list[InboundRevision]] = {}
    for revision in InboundRevision.objects.filter(
        message__in=messages, recorded_at__lte=until
    ).order_by("recorded_at", "id"):
        revisions.setdefault(revision.message_id, []).append(revision)
    for number, message in enumerate(messages, start=1):
        stem = f"payloads/{number:02d}-{message.platform}"
        own = revisions.get(message.pk, [])
        original = next((r for r in own if r.kind == InboundRevision.Kind.ORIGINAL), None)
        first = bytes(original.raw_payload) if original else bytes(message.raw_payload)
        files[f"{stem}.json"] = first
        entries = [{"file": f"{stem}.json", "kind": "original"}]
        later = [r for r in own if r.kind != InboundRevision.Kind.ORIGINAL]
        for k, revision in enumerate(later, start=1):
            name = f"{stem}-r{k}-{revision.kind}.json"
            files[name] = bytes(revision.raw_payload)
            entries.append(
                {
                    "file": name,
                    "kind": revision.kind,
                    "recorded_at": _utc(revision.recorded_at) or "",
                }
            )
        held[message.pk] = entries
    return files, held


# The types we store for posts, plus WebP, which platforms serve but we never upload.
EXTENSIONS = {**MediaFile.EXTENSIONS, "image/webp": ".webp"}


def _media(
    messages: list[InboundMessage], until: datetime
) -> tuple[dict[str, bytes], dict[int, list[dict[str, Any]]]]:
    """Captured media files, and per message what was captured (or why not)."""
    files: dict[str, bytes] = {}
    listed: dict[int, list[dict[str, Any]]] = {m.pk: [] for m in messages}
    numbers = {m.pk: n for n, m in enumerate(messages, start=1)}
    for item in CapturedMedia.objects.filter(message__in=messages, captured_at__lte=until):
        entry: dict[str, Any] = {
            "url": item.url,
            "captured_at": _utc(item.captured_at),
            "sha256": item.sha256,
            "error": item.error,
            "file": None,
        }
        if item.file:
            extension = EXTENSIONS.get(item.content_type.split(";")[0].strip(), ".bin")
            name = f"media/{numbers[item.message_id]:02d}-{item.position + 1}{extension}"
            with item.file.open("rb") as handle:
                files[name] = handle.read()
            entry["file"] = name
        listed[item.message_id].append(entry)
    return files, listed


def _replies(export: EvidenceExport, messages: list[InboundMessage]) -> list[Reply]:
    scope = Q(in_reply_to__in=messages)
    if export.conversation_id is not None:
        scope |= Q(conversation_id=export.conversation_id)
    return list(
        Reply.objects.filter(scope, created_at__lte=export.created_at)
        .select_related("delivery__account", "created_by", "conversation__account")
        .order_by("created_at", "id")
    )


def _custody(export: EvidenceExport, messages: list[InboundMessage]) -> list[dict[str, Any]]:
    about = Q(object_type="channels.inboundmessage", object_id__in=[str(m.pk) for m in messages])
    if export.conversation_id is not None:
        about |= Q(object_type="inbox.conversation", object_id=str(export.conversation_id))
    if export.report_id is not None:
        about |= Q(object_type="intelligence.intelligencereport", object_id=str(export.report_id))
    about |= Q(object_type="intelligence.evidenceexport", object_id=str(export.pk))
    events = AuditEvent.objects.filter(about, agency_id=export.agency_id, seq__lte=export.audit_seq)
    # Staff IP addresses are not for third parties: redacted here, so such a row is
    # checked against the live trail by its row_hash instead of recomputed.
    rows = []
    for event in events.order_by("seq"):
        row = {
            **event.canonical_content(),
            "prev_hash": event.prev_hash,
            "row_hash": event.row_hash,
        }
        if row["ip_address"]:
            row["ip_address"] = "(redacted)"
            row["ip_redacted"] = True
        rows.append(row)
    return rows


def _transcript_rows(
    messages: list[InboundMessage], replies: list[Reply], until: datetime
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {
            "at": m.created_at,
            "who": f"{m.author_display_name} ({m.author_handle})".strip()
            if m.author_display_name
            else m.author_handle or m.author_id or "unknown",
            "identity": f"{m.platform} author id {m.author_id or 'not given'}",
            "text": m.text,
            "link": m.url,
            "ref": f"{m.platform}:{m.platform_id}",
            "ours": False,
        }
        for m in messages
    ]
    for reply in replies:
        # Only what was true at the export: a reply published later shows as unpublished.
        delivery = reply.delivery
        if delivery is not None and (
            delivery.published_at is None or delivery.published_at > until
        ):
            delivery = None
        sender = reply.created_by.get_username() if reply.created_by else "system"
        rows.append(
            {
                "at": delivery.published_at if delivery else reply.created_at,
                "who": f"{reply.conversation.account} (our reply)",
                "identity": f"sent by {sender}",
                "text": reply.text,
                "link": delivery.url if delivery else "",
                "ref": f"{delivery.account.kind}:{delivery.platform_id}"
                if delivery and delivery.platform_id
                else "not published",
                "ours": True,
            }
        )
    rows.sort(key=lambda row: (row["at"], row["ref"]))
    return rows


def _transcript_html(export: EvidenceExport, rows: list[dict[str, Any]]) -> str:
    e = html.escape
    created = _utc(export.created_at)
    items = "\n".join(
        f'<tr class="{"ours" if row["ours"] else "theirs"}"><td>{e(_utc(row["at"]) or "")}</td>'
        f"<td>{e(row['who'])}<br><small>{e(row['identity'])}</small></td>"
        f"<td>{e(row['text']).replace(chr(10), '<br>')}</td>"
        f"<td><small>{e(row['ref'])}</small>"
        + (f"<br><small>{e(row['link'])}</small>" if row["link"] else "")
        + "</td></tr>"
        for row in rows
    )
    return f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="dcterms.created" content="{created}">
<title>Evidence export {export.pk}: transcript</title>
<style>
body {{ font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border: 1px solid #999; padding: 4px; vertical-align: top; text-align: left; }}
tr.ours td {{ background: #eef; }}
</style></head>
<body>
<h1>Transcript: evidence export {export.pk}</h1>
<p>Agency: {e(export.agency.name)}. Exported {created} (UTC)
by {e(export.created_by.get_username())} with {TOOL} {e(tool_version())}.
All times are UTC. The payload files in this bundle are the platforms' own records
as received and take precedence over this transcript.</p>
<table><thead><tr>
<th>Time (UTC)</th><th>Who</th><th>Message</th><th>Platform reference</th>
</tr></thead>
<tbody>
{items}
</tbody></table>
</body></html>
"""


def bundle_files(export: EvidenceExport) -> dict[str, bytes]:
    """Every file of the bundle except the manifest (path → bytes)."""
    messages = list(
        InboundMessage.objects.filter(pk__in=export.message_ids, agency_id=export.agency_id)
        .select_related("account")
        .order_by("created_at", "id")
    )
    files, held = _payloads(messages, export.created_at)
    media_files, media = _media(messages, export.created_at)
    files.update(media_files)
    replies = _replies(export, messages)
    rows = _transcript_rows(messages, replies, export.created_at)
    page = _transcript_html(export, rows)
    files["transcript.html"] = page.encode("utf-8")
    files["transcript.pdf"] = render_pdf(page)
    files["capture.json"] = json_file(
        {
            "export": export.pk,
            "agency": export.agency.name,
            "exported_by": export.created_by.get_username(),
            "exported_at": _utc(export.created_at),
            "tool": TOOL,
            "tool_version": tool_version(),
            "times": "UTC",
            "messages": [
                {
                    "platform": m.platform,
                    "platform_id": m.platform_id,
                    "url": m.url,
                    "account": {"handle": m.account.handle, "label": m.account.label},
                    "author_id": m.author_id,
                    "author_handle": m.author_handle,
                    "posted_at": _utc(m.created_at),
                    "received_at": _utc(m.received_at),
                    "media": media[m.pk],
                    "payloads": held[m.pk],
                }
                for m in messages
            ],
            "replies": [
                {
                    "ref": row["ref"],
                    "link": row["link"],
                    "at": _utc(row["at"]),
                    "by": row["identity"],
                }
                for row in rows
                if row["ours"]
            ],
        }
    )
    files["custody.json"] = json_file(
        {
            "about": "Audit trail events about this material, up to the export, with the "
            "chain hashes of the live trail (row_hash = SHA-256 of prev_hash, a newline "
            "and the canonical JSON of the other fields). Staff IP addresses are redacted; "
            "such rows are checked by their row_hash against the live trail.",
            "up_to_seq": export.audit_seq,
            "events": _custody(export, messages),
        }
    )
    if export.report is not None:
        report = export.report
        files["report.json"] = json_file(
            {
                "reference": report.reference,
                "grading": report.grading,
                "source_evaluation": report.get_source_evaluation_display(),
                "intelligence_assessment": report.get_assessment_display(),
                "handling_code": report.get_handling_code_display(),
                "handling_conditions": report.handling_conditions,
                "intelligence": report.intelligence_text,
                "crime_reference": report.crime_reference,
                "created_at": _utc(report.created_at),
                "created_by": report.created_by.get_username(),
                "source_details": "withheld: kept apart from the intelligence",
            }
        )
    return files


def build_bundle(export: EvidenceExport) -> bytes:
    return pack(bundle_files(export), export.created_at.astimezone(UTC))
