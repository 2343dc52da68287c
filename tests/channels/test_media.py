"""Media on deliveries: storing uploads, what each platform takes, sending the stored
bytes, and the signed link that lets Instagram fetch an image without signing in.

Instagram end to end (the stand-in downloading through the signed link) is in
``test_pipeline.py``; the link's failures as Instagram meets them are here.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import Role
from beatdesk.audit.models import AuditEvent
from beatdesk.channels import actions, media, publish
from beatdesk.channels.contract import ConnectorError, ErrorReason, OutboundMedia
from beatdesk.channels.models import ConnectedAccount, Delivery, MediaFile
from beatdesk.channels.registry import connector_class
from tests.channels.factories import make_account
from tests.channels.harness_meta import InstagramHarness, instagram_platform  # noqa: F401
from tests.channels.images import GIF, JPEG, MP4, PNG
from tests.channels.publicsite import PublicSite, public_media, public_site  # noqa: F401
from tests.conftest import make_agency, make_staff


@pytest.fixture(autouse=True)
def _media_root(settings: LazySettings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.BEATDESK_PUBLIC_URL = "https://desk.example.police.uk"


@pytest.fixture
def officer(agency: Agency) -> Staff:
    return make_staff(agency, Role.COMMUNICATIONS, "media-comms")


def _queue(
    account: ConnectedAccount, actor: Staff, files: list[MediaFile], reply_to_id: str = ""
) -> Delivery:
    return publish.create_delivery(
        actor=actor,
        account=account,
        source_type="test",
        source_id=uuid.uuid4().hex,
        text="Appeal for witnesses",
        reply_to_id=reply_to_id,
        media=files,
    )


# -- storing ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "content_type"),
    [(JPEG, "image/jpeg"), (PNG, "image/png"), (GIF, "image/gif"), (MP4, "video/mp4")],
)
def test_store_media_reads_the_type_from_the_bytes(
    officer: Staff, data: bytes, content_type: str
) -> None:
    stored = media.store_media(actor=officer, data=ContentFile(data, name="photo.txt"))
    assert stored.content_type == content_type
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.agency == officer.agency and stored.uploaded_by == officer
    with default_storage.open(stored.storage_name, "rb") as handle:
        assert handle.read() == data
    assert stored.storage_name.endswith(MediaFile.EXTENSIONS[content_type])
    event = AuditEvent.objects.get(event_type="media.stored", object_id=str(stored.pk))
    assert event.data["sha256"] == stored.sha256


@pytest.mark.django_db
def test_store_media_refuses_what_it_cannot_send(
    officer: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ActionError, match="Only JPEG, PNG and GIF images and MP4 videos"):
        media.store_media(actor=officer, data=b"%PDF-1.7 not an image")
    with pytest.raises(ActionError, match="empty"):
        media.store_media(actor=officer, data=b"")
    # QuickTime shares MP4's layout but is not MP4.
    with pytest.raises(ActionError, match="none of those"):
        media.store_media(actor=officer, data=b"\x00\x00\x00\x14ftypqt  " + b"\x00" * 32)
    monkeypatch.setitem(media.STORABLE, "image/png", 50)
    with pytest.raises(ActionError, match=r"This PNG image is 95 bytes; the limit is 50 bytes"):
        media.store_media(actor=officer, data=PNG)
    with pytest.raises(ActionError, match="under 1000 characters"):
        media.store_media(actor=officer, data=JPEG, alt_text="x" * 1001)
    assert not MediaFile.objects.exists()
    assert not AuditEvent.objects.filter(event_type="media.stored").exists()


# -- what each platform takes -------------------------------------------------------------


@pytest.mark.django_db
def test_create_delivery_holds_media_to_each_platforms_rules(
    agency: Agency, officer: Staff
) -> None:
    jpeg = media.store_media(actor=officer, data=JPEG, alt_text="A stall")
    png = media.store_media(actor=officer, data=PNG)
    mp4 = media.store_media(actor=officer, data=MP4)
    instagram = make_account(agency, "instagram")
    with pytest.raises(ActionError, match="Instagram posts need at least one image"):
        _queue(instagram, officer, [])
    with pytest.raises(ActionError, match="Instagram takes only JPEG images, not PNG images"):
        _queue(instagram, officer, [png])
    with pytest.raises(ActionError, match="Instagram replies cannot carry"):
        _queue(instagram, officer, [jpeg], reply_to_id="17850000000000021")
    with pytest.raises(ActionError, match="at most 10"):
        _queue(instagram, officer, [jpeg] * 11)
    bluesky = make_account(agency, "bluesky")
    with pytest.raises(
        ActionError, match="Bluesky takes only JPEG images, PNG images or GIF images, not MP4"
    ):
        _queue(bluesky, officer, [mp4])
    big = MediaFile.objects.create(
        agency=agency, file=jpeg.storage_name, content_type="image/jpeg", size=1_500_000, sha256="0"
    )
    with pytest.raises(
        ActionError, match=r"Bluesky takes JPEG images up to 1 MB; this one is 1\.4"
    ):
        _queue(bluesky, officer, [big])
    facebook = make_account(agency, "facebook")
    with pytest.raises(ActionError, match="Facebook Page replies cannot carry"):
        _queue(facebook, officer, [jpeg], reply_to_id="1_2")
    # What fits is queued, with a snapshot of each file in order.
    delivery = _queue(make_account(agency, "mastodon"), officer, [mp4, jpeg])
    assert [entry["sha256"] for entry in delivery.media] == [mp4.sha256, jpeg.sha256]
    assert delivery.media[1]["alt_text"] == "A stall"
    event = AuditEvent.objects.get(event_type="delivery.created", object_id=str(delivery.pk))
    assert [entry["id"] for entry in event.data["media"]] == [mp4.pk, jpeg.pk]
    assert _queue(instagram, officer, [jpeg]).state == Delivery.State.PENDING


@pytest.mark.django_db
def test_media_of_another_agency_cannot_be_attached(agency: Agency, officer: Staff) -> None:
    other = make_agency("other", kind="fire")
    theirs = media.store_media(actor=make_staff(other, Role.COMMUNICATIONS, "theirs"), data=JPEG)
    with pytest.raises(ActionError, match="another agency"):
        _queue(make_account(agency, "mastodon"), officer, [theirs])


@pytest.mark.django_db
def test_instagram_media_needs_the_public_address(
    agency: Agency, officer: Staff, settings: LazySettings
) -> None:
    settings.BEATDESK_PUBLIC_URL = ""
    jpeg = media.store_media(actor=officer, data=JPEG)
    with pytest.raises(ActionError, match="BEATDESK_PUBLIC_URL"):
        _queue(make_account(agency, "instagram"), officer, [jpeg])
    with pytest.raises(ConnectorError) as caught:
        media.public_media_url(OutboundMedia(data=JPEG, mime_type="image/jpeg", ref="x.jpg"))
    assert caught.value.reason is ErrorReason.UNSUPPORTED and caught.value.permanent


def test_every_publishing_connector_declares_its_media_rules() -> None:
    for kind in ("mastodon", "bluesky", "x", "facebook", "instagram"):
        rules = connector_class(kind).media_rules
        assert rules is not None and rules.types and rules.max_items >= 1, kind
        assert set(rules.types) <= set(media.STORABLE), kind
        assert all(rules.types[t] <= media.STORABLE[t] for t in rules.types), kind
    instagram = connector_class("instagram").media_rules
    assert instagram is not None and instagram.by_url and instagram.required


# -- sending the stored bytes -------------------------------------------------------------


@pytest.mark.django_db
def test_a_file_changed_in_storage_is_never_published(agency: Agency, officer: Staff) -> None:
    jpeg = media.store_media(actor=officer, data=JPEG)
    account = make_account(agency, "mastodon")  # points nowhere: nothing may be sent
    delivery = _queue(account, officer, [jpeg])
    with default_storage.open(jpeg.storage_name, "wb") as handle:
        handle.write(PNG)
    publish.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == Delivery.State.FAILED
    assert delivery.failure_code == "media_unavailable"
    assert "changed in storage" in delivery.failure_reason
    default_storage.delete(jpeg.storage_name)
    second = _queue(account, officer, [jpeg])
    publish.send_delivery(second.pk)
    second.refresh_from_db()
    assert second.state == Delivery.State.FAILED and "missing" in second.failure_reason
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE  # not the platform's fault


@pytest.mark.django_db
def test_outbound_media_carries_bytes_alt_text_and_the_stored_name(officer: Staff) -> None:
    jpeg = media.store_media(actor=officer, data=JPEG, alt_text="Officers at the stall")
    (item,) = media.outbound_media([jpeg.snapshot()])
    assert item.data == JPEG and item.mime_type == "image/jpeg"
    assert item.alt_text == "Officers at the stall" and item.ref == jpeg.storage_name
    assert repr(item) == "OutboundMedia(image/jpeg, 270 bytes)"


# -- the signed link ----------------------------------------------------------------------


@pytest.mark.django_db
def test_signed_link_serves_the_file_anonymously(officer: Staff) -> None:
    jpeg = media.store_media(actor=officer, data=JPEG)
    url = media.public_media_url(
        OutboundMedia(data=JPEG, mime_type="image/jpeg", ref=jpeg.storage_name)
    )
    assert url.startswith("https://desk.example.police.uk/channels/media/")
    path = url.removeprefix("https://desk.example.police.uk")
    response = Client().get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == JPEG
    assert "no-store" in response["Cache-Control"]
    assert Client().head(path).status_code == 200
    assert Client().post(path).status_code == 405


@pytest.mark.django_db
def test_signed_link_refuses_tampering_expiry_and_missing_files(
    officer: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    jpeg = media.store_media(actor=officer, data=JPEG)
    token = media.sign_media(jpeg.storage_name, "image/jpeg")

    def get(value: str) -> int:
        return Client().get(reverse("channels:signed_media", kwargs={"signed": value})).status_code

    assert get(token) == 200
    # Another file's name under this signature, a changed signature, garbage: 404.
    other = media.sign_media("channels/media/1/other.jpg", "image/jpeg")
    assert get(other.split(":", 1)[0] + ":" + token.split(":", 1)[1]) == 404
    assert get(token[:-2] + ("AA" if not token.endswith("AA") else "BB")) == 404
    assert get("not-a-token") == 404
    # A link to a file that no longer exists: 404.
    assert get(media.sign_media("channels/media/1/gone.jpg", "image/jpeg")) == 404
    # Past its time: 410.
    monkeypatch.setattr(media, "SIGNED_MEDIA_SECONDS", -1)
    assert get(token) == 410


@pytest.mark.django_db
def test_instagram_fails_the_post_when_the_link_is_bad(
    instagram_platform: InstagramHarness,  # noqa: F811
    public_media: PublicSite,  # noqa: F811
    agency: Agency,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stand-in downloads the image as Instagram does: a tampered or expired link is
    Instagram's "media download has failed", and nothing is published."""
    admin = make_staff(agency, Role.AGENCY_ADMIN, "ig-admin")
    settings_ = instagram_platform.force_account()
    account = actions.connect_account(
        actor=admin,
        kind="instagram",
        base_url=settings_.base_url,
        credentials=dict(settings_.credentials),
    )
    jpeg = media.store_media(actor=admin, data=JPEG)
    real_sign = media.sign_media

    def tampered_sign(name: str, kind: str) -> str:
        token = real_sign(name, kind)
        return token[:-1] + ("x" if token[-1] != "x" else "y")

    monkeypatch.setattr(media, "sign_media", tampered_sign)
    tampered = _queue(account, admin, [jpeg])
    publish.send_delivery(tampered.pk)
    tampered.refresh_from_db()
    assert tampered.state == Delivery.State.FAILED
    assert "9004/2207052" in tampered.failure_reason
    monkeypatch.setattr(media, "sign_media", real_sign)
    monkeypatch.setattr(media, "SIGNED_MEDIA_SECONDS", -1)
    expired = _queue(account, admin, [jpeg])
    publish.send_delivery(expired.pk)
    expired.refresh_from_db()
    assert expired.state == Delivery.State.FAILED and "9004" in expired.failure_reason
    assert instagram_platform.posts_with_text("Appeal for witnesses") == 0
    account.refresh_from_db()
    assert account.status == ConnectedAccount.Status.ACTIVE
    # With a good link the same post goes out, with these bytes.
    monkeypatch.setattr(media, "SIGNED_MEDIA_SECONDS", 900)
    good = _queue(account, admin, [jpeg])
    publish.send_delivery(good.pk)
    good.refresh_from_db()
    assert good.state == Delivery.State.PUBLISHED, good.failure_reason
    assert instagram_platform.media_of_post("Appeal for witnesses") == [jpeg.sha256]
