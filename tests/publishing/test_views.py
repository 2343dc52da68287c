"""Publishing pages through the test client: compose with live screening, uploads,
review decisions, settings. Who may open what is in ``tests/test_access.py``."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.channels.models import Delivery
from beatdesk.publishing.models import Post, PublishingSettings
from tests.channels.images import JPEG
from tests.conftest import force_sign_in, make_staff

from .factories import author, team_account, write

pytestmark = pytest.mark.django_db


def _client(staff: Staff) -> Client:
    client = Client()
    force_sign_in(client, staff)
    return client


def test_screen_partial_marks_the_words_and_explains(agency: Agency) -> None:
    officer = author(agency)
    account = team_account(agency, "x")
    response = _client(officer).post(
        "/publishing/screen/",
        {
            "text": "Call Dave on 07700 900123 about the raid on Elm Street tomorrow at 6am.",
            "accounts": [str(account.pk)],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-risk="red"' in body
    assert '<mark class="sev-red" title="personal_data">07700 900123</mark>' in body
    assert "operational" in body.lower()
    assert "of 280 characters" in body


def test_screen_partial_ignores_accounts_the_author_cannot_use(
    agency: Agency, other_agency: Agency
) -> None:
    officer = author(agency)
    foreign = team_account(other_agency)
    body = (
        _client(officer)
        .post("/publishing/screen/", {"text": "Hello", "accounts": [str(foreign.pk)]})
        .content.decode()
    )
    assert str(foreign) not in body


def test_compose_with_an_image_sends_for_approval(agency: Agency) -> None:
    officer = author(agency)
    account = team_account(agency)
    client = _client(officer)
    page = client.get("/publishing/new/?template=road_closure")
    assert "ROAD CLOSURE: [road]" in page.content.decode()
    response = client.post(
        "/publishing/new/",
        {
            "text": "Lock your shed: bikes are being stolen from gardens in Sale.",
            "purpose": "engagement",
            "accounts": [str(account.pk)],
            "media_1": SimpleUploadedFile("shed.jpg", JPEG, content_type="image/jpeg"),
            "alt_1": "A padlocked garden shed",
        },
    )
    post = Post.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/publishing/p/{post.pk}/"
    assert post.state == Post.State.IN_REVIEW
    assert [m.alt_text for m in post.media.all()] == ["A padlocked garden shed"]
    detail = client.get(response["Location"]).content.decode()
    assert "Waiting for approval" in detail and "0 of the 10" in detail


def test_compose_refuses_an_image_without_a_description(agency: Agency) -> None:
    officer = author(agency)
    account = team_account(agency)
    response = _client(officer).post(
        "/publishing/new/",
        {
            "text": "Bike marking event on Saturday.",
            "purpose": "engagement",
            "accounts": [str(account.pk)],
            "media_1": SimpleUploadedFile("b.jpg", JPEG, content_type="image/jpeg"),
        },
    )
    assert response.status_code == 200
    assert "Describe the image" in response.content.decode()
    assert not Post.objects.exists()


def test_compose_shows_action_errors_and_keeps_the_text(agency: Agency) -> None:
    officer = author(agency)
    account = team_account(agency)
    response = _client(officer).post(
        "/publishing/new/",
        {
            "text": "ROAD CLOSURE: [road] is closed between A and B because of a crash.",
            "template_key": "road_closure",
            "purpose": "operations",
            "accounts": [str(account.pk)],
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Fill in the template" in body and "[road]" in body
    assert not Post.objects.exists()


def test_reviewer_sees_the_decision_form_and_the_author_does_not(agency: Agency) -> None:
    officer = author(agency)
    supervisor = make_staff(agency, Role.SUPERVISOR, "sup")
    post = write(officer, "Thanks to Sarah Jones for her help at the litter pick.")
    assert (
        "Approve and publish"
        not in _client(officer).get(f"/publishing/p/{post.pk}/").content.decode()
    )
    review = _client(supervisor)
    listing = review.get("/publishing/").content.decode()
    assert f"/publishing/p/{post.pk}/" in listing
    page = review.get(f"/publishing/p/{post.pk}/").content.decode()
    assert "Approve and publish" in page
    response = review.post(
        f"/publishing/p/{post.pk}/approve/", {"seen_sha256": post.text_sha256}, follow=True
    )
    assert "Approved." in response.content.decode()
    assert Delivery.objects.filter(source_id=str(post.pk)).count() == 1
    # A repeated approval (double click, stale tab) changes nothing.
    again = review.post(
        f"/publishing/p/{post.pk}/approve/", {"seen_sha256": post.text_sha256}, follow=True
    )
    assert "cannot approve" in again.content.decode()
    assert Delivery.objects.filter(source_id=str(post.pk)).count() == 1


def test_settings_are_saved_and_audited(agency: Agency) -> None:
    admin = make_staff(agency, Role.AGENCY_ADMIN, "admin")
    response = _client(admin).post(
        "/publishing/settings/",
        {
            "posts_to_earn_trust": "4",
            "rejection_penalty": "1",
            "allowed_domains": " gmp.police.uk \n",
        },
    )
    assert response.status_code == 302
    saved = PublishingSettings.objects.get(agency=agency)
    assert (saved.posts_to_earn_trust, saved.rejection_penalty) == (4, 1)
    assert saved.domains() == ("gmp.police.uk",)


def test_a_held_post_shows_on_every_page_until_its_author_opens_it(agency: Agency) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from beatdesk.publishing.actions import release_due_posts

    officer = author(agency)
    at = timezone.now() + timedelta(minutes=10)
    post = write(
        officer, "Thanks to Sarah Jones for her help at the litter pick.", scheduled_for=at
    )
    release_due_posts(at)
    client = _client(officer)
    assert 'data-testid="notice-banner"' in client.get("/").content.decode()
    listing = client.get("/publishing/").content.decode()
    assert "is not approved: it is held" in listing
    page = client.get(f"/publishing/p/{post.pk}/").content.decode()
    assert "Held: its time" in page
    assert 'data-testid="notice-banner"' not in client.get("/").content.decode()


def test_the_review_list_costs_the_same_for_3_or_30_waiting_posts(agency: Agency) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    supervisor = make_staff(agency, Role.SUPERVISOR, "sup")
    client = _client(supervisor)
    officer = author(agency)
    account = team_account(agency)
    client.get("/publishing/?view=review")  # first visit creates the trust record
    counts = []
    for total in (3, 30):
        while Post.objects.count() < total:
            write(
                officer,
                f"Thanks to Sarah Jones for the litter pick {Post.objects.count()}.",
                accounts=[account],
            )
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/publishing/?view=review").content.decode()
        assert page.count('data-testid="post-row"') == total
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
