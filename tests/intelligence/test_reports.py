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
from datetime import UTC, datetime

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
from beatdesk.channels.models import InboundMessage, InboundRevision
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

        # Later events and a later edit on the platform do not change the export.
        actions.record_consultation(actor=analyst, report=report, request=None, source_shown=True)
        InboundRevision.objects.create(
            message=messages[0], kind=InboundRevision.Kind.EDIT, text="edited", raw_payload=b"{}"
        )
        assert build_bundle(export) == bundle
        assert actions.rebuild_bundle(actor=analyst, export=export) == bundle


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
