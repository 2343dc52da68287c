"""Retention, legal hold, retain decisions, erasure logging, restriction and subject
access, with time travel: the disposal job is run at chosen future moments.

Default periods: messages, notes and contacts 3 years; intelligence reports 6 years.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.audit.verify import verify_chain
from beatdesk.channels.models import InboundMessage, InboundRevision
from beatdesk.inbox.models import ContactNote, Conversation, PublicContact
from beatdesk.intelligence import actions as intel_actions
from beatdesk.intelligence.models import IntelligenceReport
from beatdesk.intelligence.seal import verify_bytes
from beatdesk.records import actions
from beatdesk.records.models import ProcessingRestriction, RecordType
from tests.conftest import force_sign_in, make_staff
from tests.inbox.factories import make_conversation
from tests.intelligence.factories import raise_for

pytestmark = pytest.mark.django_db
YEAR = timedelta(days=365)
SECRET = "Flat 4 is where they keep it"


@pytest.fixture
def standards(agency: Agency) -> Staff:
    return make_staff(agency, Role.STANDARDS, "standards")


def _messages(conversation: Conversation) -> list[InboundMessage]:
    return list(InboundMessage.objects.filter(triage__conversation=conversation))


def test_messages_are_erased_after_three_years_and_the_log_holds_no_content(
    agency: Agency,
) -> None:
    conversation = make_conversation(agency, SECRET)
    message = _messages(conversation)[0]
    InboundRevision.objects.create(
        message=message, kind="original", text=SECRET, raw_payload=SECRET.encode()
    )
    ContactNote.objects.create(contact=conversation.contact, text="Lives near the park")
    now = timezone.now()

    early = actions.run_disposal(now=now + 3 * YEAR - timedelta(days=2))
    assert early.count(RecordType.MESSAGE) == 0
    report = actions.run_disposal(now=now + 3 * YEAR + timedelta(days=1))
    assert report.erased[RecordType.MESSAGE] == [message.pk]
    assert report.count(RecordType.CONTACT_NOTE) == 1
    assert report.count(RecordType.CONTACT) == 1

    message.refresh_from_db()
    assert message.erased_at is not None
    assert (message.text, bytes(message.raw_payload), message.author_handle) == ("", b"", "")
    assert not InboundRevision.objects.filter(message=message).exists()
    contact = PublicContact.objects.get(pk=conversation.contact_id)
    assert contact.erased_at is not None and contact.handle == ""
    assert Conversation.objects.filter(pk=conversation.pk).exists()  # counts stay whole

    events = AuditEvent.objects.filter(event_type="records.erased")
    assert {e.data["record_type"] for e in events} == {"message", "contact_note", "contact"}
    assert all(e.personal_data == "erasure" for e in events)
    logged = json.dumps([e.data for e in events]) + " ".join(e.summary for e in events)
    assert SECRET not in logged and "Lives near the park" not in logged
    assert str(message.pk) in json.dumps(events.get(data__record_type="message").data["ids"])
    assert verify_chain().ok
    # Running again erases nothing more.
    assert sum(map(len, actions.run_disposal(now=now + 4 * YEAR).erased.values())) == 0


def test_a_legal_hold_stops_disposal_until_released(agency: Agency, standards: Staff) -> None:
    conversation = make_conversation(agency, SECRET)
    hold = actions.place_hold(actor=standards, contact=conversation.contact, reason="Op Alder")
    later = timezone.now() + 5 * YEAR
    assert actions.run_disposal(now=later).count(RecordType.MESSAGE) == 0
    assert _messages(conversation)[0].text == SECRET
    actions.release_hold(actor=standards, hold=hold, reason="Trial concluded")
    assert actions.run_disposal(now=later).count(RecordType.MESSAGE) == 1
    kinds = list(
        AuditEvent.objects.filter(event_type__startswith="records.hold").values_list(
            "event_type", flat=True
        )
    )
    assert sorted(kinds) == ["records.hold_placed", "records.hold_released"]


def test_reports_are_erased_only_after_review_and_their_messages_follow_them(
    agency: Agency, standards: Staff
) -> None:
    report = raise_for(agency)
    cited = list(report.messages.all())
    now = timezone.now()
    # Past three years: the cited messages stay (the report is kept six).
    assert actions.run_disposal(now=now + 4 * YEAR).count(RecordType.MESSAGE) == 0
    # Past six years with no review: nothing is erased; the report waits for review.
    assert actions.reports_due_for_review(agency, now=now + 6 * YEAR) == [report]
    assert actions.run_disposal(now=now + 7 * YEAR).count(RecordType.INTELLIGENCE_REPORT) == 0

    # The review keeps it, with a reason and a review date (checked against today).
    with pytest.raises(ActionError, match="within ten years"):
        actions.retain_report(actor=standards, report=report, reason="x" * 30, review_on=now.date())
    actions.retain_report(
        actor=standards,
        report=report,
        reason="Linked to an ongoing county-lines investigation, review annually.",
        review_on=(now + 8 * YEAR).date(),
    )
    assert actions.reports_due_for_review(agency, now=now + 7 * YEAR) == []
    # When the review date comes it is due again (not erased automatically).
    assert actions.reports_due_for_review(agency, now=now + 8 * YEAR + timedelta(days=1)) == [
        report
    ]

    # Let go, but under a legal hold: still kept.
    actions.let_report_go(actor=standards, report=report, reason="Investigation closed in 2033")
    hold = actions.place_hold(actor=standards, report=report, reason="Disclosure in R v Smith")
    assert actions.run_disposal(now=now + 9 * YEAR).count(RecordType.INTELLIGENCE_REPORT) == 0
    actions.release_hold(actor=standards, hold=hold, reason="Case closed")

    gone = actions.run_disposal(now=now + 9 * YEAR)
    assert gone.erased[RecordType.INTELLIGENCE_REPORT] == [report.pk]
    assert sorted(gone.erased[RecordType.MESSAGE]) == sorted(m.pk for m in cited)
    report.refresh_from_db()
    assert report.erased_at and report.intelligence_text == report.source_details == ""


def test_a_dry_run_says_exactly_what_the_real_run_erases(agency: Agency) -> None:
    conversation = make_conversation(agency, SECRET)
    ContactNote.objects.create(contact=conversation.contact, text="Old note")
    later = timezone.now() + 4 * YEAR
    preview = actions.run_disposal(now=later, dry_run=True, agency=agency)
    real = actions.run_disposal(now=later, agency=agency)
    assert preview.erased == real.erased
    assert real.count(RecordType.CONTACT) == 1


def test_one_agency_never_disposes_of_anothers_records(
    agency: Agency, other_agency: Agency, standards: Staff
) -> None:
    ours = make_conversation(agency, "ours")
    theirs = make_conversation(other_agency, "theirs")
    for conversation in (ours, theirs):
        InboundMessage.objects.filter(triage__conversation=conversation).update(
            received_at=timezone.now() - 4 * YEAR
        )
    client = Client()
    force_sign_in(client, standards)
    page = client.get("/records/").content.decode()
    assert "Public messages (not cited in a report): 1" in page
    client.post("/records/dispose/")
    assert _messages(ours)[0].erased_at is not None
    assert _messages(theirs)[0].erased_at is None
    assert AuditEvent.objects.get(event_type="records.disposal_requested").actor == standards


def test_erasing_a_contact_clears_its_conversations_keys(agency: Agency) -> None:
    conversation = make_conversation(agency, SECRET)
    actions.run_disposal(now=timezone.now() + 4 * YEAR)
    conversation.refresh_from_db()
    assert conversation.author_id == f"erased-{conversation.pk}"
    assert conversation.thread_key == f"erased-{conversation.pk}"


def test_an_erased_bundle_is_refused_on_download_not_silently_changed(
    agency: Agency, standards: Staff
) -> None:
    report = raise_for(agency)
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, "analyst")
    export, bundle = intel_actions.export_evidence(actor=analyst, report=report)
    assert verify_bytes(bundle).ok
    # Past six years but not yet reviewed: kept, and the bundle still downloads.
    actions.run_disposal(now=timezone.now() + 7 * YEAR)
    assert intel_actions.sealed_bundle(actor=analyst, export=export) == bundle
    actions.let_report_go(actor=standards, report=report, reason="Reviewed: no further value")
    actions.run_disposal(now=timezone.now() + 7 * YEAR)
    with pytest.raises(ActionError, match="erased under the retention rules"):
        intel_actions.sealed_bundle(actor=analyst, export=export)
    export.refresh_from_db()
    assert not export.file  # the stored copy went with the report


def test_dry_run_changes_nothing(agency: Agency) -> None:
    conversation = make_conversation(agency, SECRET)
    preview = actions.run_disposal(now=timezone.now() + 4 * YEAR, dry_run=True)
    assert preview.count(RecordType.MESSAGE) == 1 and preview.count(RecordType.CONTACT) == 1
    assert _messages(conversation)[0].text == SECRET
    assert not AuditEvent.objects.filter(event_type="records.erased").exists()


def test_retention_rules_need_reasoning_and_are_applied(agency: Agency, standards: Staff) -> None:
    with pytest.raises(ActionError, match="reasoning"):
        actions.save_retention_rule(
            actor=standards, record_type="message", keep_days=400, reasoning="short"
        )
    actions.save_retention_rule(
        actor=standards,
        record_type="message",
        keep_days=400,
        reasoning="Our force keeps routine contact for 13 months (board decision 2026/14).",
    )
    make_conversation(agency, SECRET)
    assert actions.run_disposal(now=timezone.now() + timedelta(days=401)).count("message") == 1
    event = AuditEvent.objects.get(event_type="records.retention_changed")
    assert (event.data["before"], event.data["after"]) == (1095, 400)


def test_restriction_blocks_reports_and_keeps_everything(agency: Agency, standards: Staff) -> None:
    conversation = make_conversation(agency, SECRET)
    actions.restrict_processing(
        actor=standards, contact=conversation.contact, reason="Email of 3 May asking to restrict"
    )
    desk = make_staff(agency, Role.DESK_OPERATOR, "desk")
    with pytest.raises(ActionError, match="restricted"):
        intel_actions.raise_report(
            actor=desk,
            conversation=conversation,
            messages=_messages(conversation),
            source_evaluation="2",
            assessment="C",
            handling_code="P",
            handling_conditions="",
            intelligence_text="x",
            source_details="",
        )
    # Nothing of a restricted person is erased while the restriction stands.
    ContactNote.objects.create(contact=conversation.contact, text="Asked us to restrict")
    kept = actions.run_disposal(now=timezone.now() + 4 * YEAR)
    assert sum(map(len, kept.erased.values())) == 0
    # A resent "restrict" form does not lift it; only an explicit lift does.
    client = Client()
    force_sign_in(client, standards)
    url = f"/records/contacts/{conversation.contact_id}/restrict/"
    client.post(url, {"action": "restrict", "reason": "Email of 3 May"})
    assert ProcessingRestriction.objects.filter(contact=conversation.contact).exists()
    client.post(url, {"action": "lift", "reason": "Request withdrawn on 9 May"})
    assert not ProcessingRestriction.objects.filter(contact=conversation.contact).exists()
    assert not IntelligenceReport.objects.exists()


def test_restriction_blocks_downloading_an_existing_bundle(
    agency: Agency, standards: Staff
) -> None:
    report = raise_for(agency)
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, "analyst")
    export, _ = intel_actions.export_evidence(actor=analyst, report=report, recipient="CPS")
    assert report.conversation is not None
    actions.restrict_processing(
        actor=standards, contact=report.conversation.contact, reason="Letter of 3 May"
    )
    with pytest.raises(ActionError, match="restricted"):
        intel_actions.sealed_bundle(actor=analyst, export=export)
    refused = AuditEvent.objects.get(event_type="evidence.download_refused")
    assert refused.personal_data == ""


def test_subject_access_export_holds_everything_and_verifies(
    agency: Agency, standards: Staff
) -> None:
    report = raise_for(agency)
    conversation = report.conversation
    assert conversation is not None
    ContactNote.objects.create(contact=conversation.contact, text="Helpful resident")
    analyst = make_staff(agency, Role.INTELLIGENCE_ANALYST, "analyst")
    intel_actions.export_evidence(actor=analyst, report=report)
    client = Client()
    force_sign_in(client, standards)
    page = client.get(f"/records/contacts/{conversation.contact_id}/")
    assert page.status_code == 200
    response = client.post(f"/records/contacts/{conversation.contact_id}/subject-access/")
    assert response.status_code == 200
    assert verify_bytes(response.content).ok
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        summary = json.loads(archive.read("summary.json"))
        payloads = [archive.read(n) for n in archive.namelist() if n.startswith("messages/")]
    assert [bytes(m.raw_payload) for m in _messages(conversation)] == payloads
    assert summary["notes"][0]["text"] == "Helpful resident"
    assert summary["intelligence_reports"][0]["grading"] == "2 B P"
    assert "Resident, in contact" not in json.dumps(summary)  # source details withheld
    assert any("Evidence bundle" in d["what"] for d in summary["disclosures"])
    event = AuditEvent.objects.get(event_type="records.subject_access_export")
    assert event.personal_data == "disclosure" and "subject access" in event.recipient


def test_records_pages_preview_and_run_disposal(agency: Agency, standards: Staff) -> None:
    client = Client()
    force_sign_in(client, standards)
    make_conversation(agency, SECRET)
    page = client.get("/records/").content.decode()
    assert "Nothing is due for erasure" in page and "DPA 2018 s.39" in page
    response = client.post("/records/dispose/", follow=True)
    assert "0 record(s) erased" in response.content.decode()
