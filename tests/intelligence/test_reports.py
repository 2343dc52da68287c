"""Intelligence reports and evidence exports against the database.

Property: for random platform payloads (any bytes) and texts, a report's bundle
verifies, holds each payload byte for byte, and rebuilding it gives the same bytes;
material that changes after the export (a later edit, a later audit event) does not
change the rebuilt bundle. Also: grading rules, routing to the intelligence team, every
view logged as a consultation, source details never in a bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from beatdesk.agencies import actions as agency_actions
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff, Team
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.channels.contract import InboundItem, InboundKind
from beatdesk.channels.ingest import store_items
from beatdesk.channels.models import InboundMessage
from beatdesk.inbox.models import Conversation
from beatdesk.inbox.process import process_messages
from beatdesk.intelligence import actions
from beatdesk.intelligence.bundle import build_bundle
from beatdesk.intelligence.models import IntelligenceReport
from beatdesk.intelligence.seal import verify_bytes
from beatdesk.intelligence.views import queue  # noqa: F401  (URL wiring import check)
from tests.channels.factories import make_account
from tests.conftest import force_sign_in, make_agency, make_staff

from .factories import raise_for


def _members(bundle: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _conversation_with(agency: Agency, payloads: list[tuple[bytes, str]]) -> Conversation:
    """One member of the public's thread of messages with exactly these raw payloads."""
    account = make_account(agency)
    n = InboundMessage.objects.count()
    items = [
        InboundItem(
            platform_id=f"p{n}-{i}",
            kind=InboundKind.MENTION if i == 0 else InboundKind.REPLY,
            author_id="id-witness",
            author_handle="@witness",
            author_display_name="Witness",
            text=text or "(no text)",
            created_at=datetime(2026, 11, 1, 9, i, tzinfo=UTC),
            raw=raw,
            reply_to_id="" if i == 0 else f"p{n}-0",
            thread_root_id="" if i == 0 else f"p{n}-0",
        )
        for i, (raw, text) in enumerate(payloads)
    ]
    store_items(account, items)
    process_messages(
        list(InboundMessage.objects.filter(account=account).values_list("pk", flat=True))
    )
    return Conversation.objects.get(triages__message__platform_id=f"p{n}-0")


class BundlePropertyTests(HypothesisTestCase):
    """Hypothesis drives the real export path (database, transcript PDF included)."""

    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.lists(
            st.tuples(st.binary(min_size=1, max_size=3000), st.text(min_size=1, max_size=200)),
            min_size=1,
            max_size=3,
        )
    )
    def test_export_verifies_holds_payloads_exactly_and_rebuilds_identically(
        self, payloads: list[tuple[bytes, str]]
    ) -> None:
        agency = Agency.objects.filter(slug="prop").first() or make_agency("prop")
        n = Staff.objects.count()
        desk = make_staff(agency, Role.DESK_OPERATOR, f"prop-desk-{n}")
        analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, f"prop-analyst-{n}")
        conversation = _conversation_with(agency, payloads)
        messages = list(InboundMessage.objects.filter(triage__conversation=conversation))
        report = actions.raise_report(
            actor=desk,
            conversation=conversation,
            messages=messages,
            source_evaluation="1",
            assessment="A",
            handling_code="C",
            handling_conditions="Not to be shared outside the force without the FIB's consent.",
            intelligence_text="Sanitised intelligence.",
            source_details="SECRET-SOURCE-NAME",
        )
        export, bundle = actions.export_evidence(actor=analyst, report=report)

        verdict = verify_bytes(bundle)
        assert verdict.ok, verdict
        members = _members(bundle)
        stored = sorted(bytes(m.raw_payload) for m in messages)
        held = sorted(v for k, v in members.items() if k.startswith("payloads/"))
        assert held == stored
        assert all(b"SECRET-SOURCE-NAME" not in v for v in members.values())
        assert hashlib.sha256(bundle).hexdigest() == export.bundle_sha256

        # Same inputs, same bytes: building again, with later audit events (outside the
        # custody excerpt) in the trail, gives the sealed bytes.
        actions.record_consultation(actor=analyst, report=report, request=None, source_shown=True)
        assert build_bundle(export) == bundle

        # A later edit on the platform and a renamed account change the live rows; the
        # download still serves exactly what was sealed.
        first = messages[0]
        edited = InboundItem(
            platform_id=first.platform_id,
            kind=InboundKind.MENTION,
            author_id=first.author_id,
            author_handle=first.author_handle,
            author_display_name=first.author_display_name,
            text="edited after the export",
            created_at=first.created_at,
            raw=b'{"edited": true}',
        )
        store_items(first.account, [edited])
        first.refresh_from_db()
        assert first.text == "edited after the export"
        first.account.__class__.objects.filter(pk=first.account_id).update(label="Renamed")
        assert actions.sealed_bundle(actor=analyst, export=export) == bundle


pytestmark = pytest.mark.django_db


def test_grading_rules_and_routing_to_the_intelligence_team(agency: Agency) -> None:
    intel = agency_actions.save_team(
        actor=None,
        agency=agency,
        name="Force Intelligence Bureau",
        kind=Team.Kind.INTELLIGENCE,
        areas=[],
        staffed_24_7=False,
    )
    report = raise_for(agency)
    assert report.team == intel and report.status == IntelligenceReport.Status.NEW
    assert report.grading == "2 B P"
    event = AuditEvent.objects.get(event_type="intelligence.report_raised")
    assert event.personal_data == "collection" and event.data["grading"] == "2 B P"
    conversation = report.conversation
    assert conversation is not None
    desk = make_staff(agency, Role.DESK_OPERATOR, "desk2")
    base = {
        "actor": desk,
        "conversation": conversation,
        "messages": list(report.messages.all()),
        "source_evaluation": "2",
        "assessment": "B",
        "handling_code": "C",
        "handling_conditions": "",
        "intelligence_text": "Something",
        "source_details": "",
    }
    with pytest.raises(ActionError, match="conditions"):
        actions.raise_report(**base)  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="assessment"):
        actions.raise_report(**{**base, "handling_code": "P", "assessment": "F"})  # type: ignore[arg-type]
    with pytest.raises(ActionError, match="at least one message"):
        actions.raise_report(**{**base, "handling_code": "P", "messages": []})  # type: ignore[arg-type]


def test_another_agencys_message_cannot_be_cited(agency: Agency, other_agency: Agency) -> None:
    report = raise_for(agency)
    foreign = raise_for(other_agency)
    desk = make_staff(agency, Role.DESK_OPERATOR, "desk3")
    with pytest.raises(ActionError, match="another agency"):
        actions.raise_report(
            actor=desk,
            conversation=report.conversation,  # type: ignore[arg-type]
            messages=list(foreign.messages.all()),
            source_evaluation="2",
            assessment="B",
            handling_code="P",
            handling_conditions="",
            intelligence_text="x",
            source_details="",
        )


def test_every_view_is_a_logged_consultation_and_the_bundle_downloads(agency: Agency) -> None:
    report = raise_for(agency)
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, "analyst")
    client = Client()
    force_sign_in(client, analyst)
    for _ in range(2):
        page = client.get(f"/intelligence/r/{report.pk}/").content.decode()
        assert "Resident, in contact" in page  # source details, for the analyst
    views = AuditEvent.objects.filter(event_type="intelligence.report_viewed", actor=analyst)
    assert views.count() == 2 and {v.personal_data for v in views} == {"consultation"}

    client.post(f"/intelligence/r/{report.pk}/export/")
    export = report.exports.get()
    response = client.get(f"/intelligence/exports/{export.pk}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert verify_bytes(response.content).ok
    assert hashlib.sha256(response.content).hexdigest() == export.bundle_sha256
    members = _members(response.content)
    assert {
        "capture.json",
        "custody.json",
        "report.json",
        "transcript.html",
        "transcript.pdf",
    } <= set(members)
    assert members["transcript.pdf"].startswith(b"%PDF")
    custody = json.loads(members["custody.json"])
    types = [e["event_type"] for e in custody["events"]]
    assert "intelligence.report_raised" in types and types[-1] == "evidence.exported"
    capture = json.loads(members["capture.json"])
    assert capture["exported_by"] == "analyst" and capture["exported_at"].endswith("Z")
    assert "Resident, in contact" not in response.content.decode("latin-1")
    downloads = AuditEvent.objects.filter(event_type="evidence.downloaded")
    assert downloads.get().personal_data == "disclosure"


def test_a_desk_operator_can_raise_but_not_read_reports(agency: Agency) -> None:
    desk = make_staff(agency, Role.DESK_OPERATOR, "desk4")
    report = raise_for(agency, author=desk)
    client = Client()
    force_sign_in(client, desk)
    conversation_page = client.get(f"/inbox/c/{report.conversation_id}/").content.decode()
    assert f"/intelligence/from/{report.conversation_id}/" in conversation_page
    assert client.get(f"/intelligence/r/{report.pk}/").status_code == 403


@pytest.fixture
def platform_cdn() -> Iterator[str]:
    """A stand-in for a platform's media server: one image, everything else 404."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/media/photo.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG_BYTES)))
                self.end_headers()
                self.wfile.write(PNG_BYTES)
            else:
                self.send_response(404)
                self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def test_media_is_captured_when_first_cited_and_goes_into_the_bundle(
    agency: Agency, platform_cdn: str, settings: Any, tmp_path: Any
) -> None:
    from beatdesk.channels.contract import MediaItem
    from beatdesk.intelligence.models import CapturedMedia
    from beatdesk.records.actions import run_disposal

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    account = make_account(agency)
    item = InboundItem(
        platform_id="with-media",
        kind=InboundKind.MENTION,
        author_id="id-w",
        author_handle="@w",
        author_display_name="W",
        text="This is the van they deal from",
        created_at=datetime(2026, 11, 1, 9, 0, tzinfo=UTC),
        raw=b'{"id": "with-media"}',
        media=(
            MediaItem(url=f"{platform_cdn}/media/photo.png"),
            MediaItem(url=f"{platform_cdn}/media/expired.png"),
        ),
    )
    store_items(account, [item])
    message = InboundMessage.objects.get(platform_id="with-media")
    process_messages([message.pk])
    conversation = Conversation.objects.get(triages__message=message)
    desk = make_staff(agency, Role.DESK_OPERATOR, "desk-media")
    report = actions.raise_report(
        actor=desk,
        conversation=conversation,
        messages=[message],
        source_evaluation="2",
        assessment="A",
        handling_code="P",
        handling_conditions="",
        intelligence_text="Van used for supply.",
        source_details="",
    )
    captured = {c.position: c for c in CapturedMedia.objects.filter(message=message)}
    assert captured[0].sha256 == hashlib.sha256(PNG_BYTES).hexdigest()
    assert "HTTP 404" in captured[1].error
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, "analyst-media")
    _, bundle = actions.export_evidence(actor=analyst, report=report)
    assert verify_bytes(bundle).ok
    members = _members(bundle)
    assert members["media/01-1.png"] == PNG_BYTES
    listed = json.loads(members["capture.json"])["messages"][0]["media"]
    assert [m["file"] for m in listed] == ["media/01-1.png", None]
    assert "HTTP 404" in listed[1]["error"]
    # Erasing the message under retention deletes the captured file too.
    stored = captured[0].file.path
    # (the report citing it has itself been erased by then)
    IntelligenceReport.objects.filter(pk=report.pk).update(
        erased_at=datetime(2030, 1, 1, tzinfo=UTC)
    )
    run_disposal(now=datetime(2031, 1, 1, tzinfo=UTC))
    assert not CapturedMedia.objects.filter(message=message).exists()
    assert not Path(stored).exists()
