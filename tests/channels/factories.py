"""Small factories for channel objects (no platform involved)."""

from __future__ import annotations

from beatdesk.agencies.models import Agency
from beatdesk.channels import media
from beatdesk.channels.keys import new_post_key
from beatdesk.channels.models import ChannelAlert, ConnectedAccount, Delivery
from tests.channels.images import JPEG


def make_account(agency: Agency, kind: str = "mastodon", **fields: object) -> ConnectedAccount:
    n = ConnectedAccount.objects.count()
    values: dict[str, object] = {
        "label": f"{agency.slug} account {n}",
        "handle": f"{agency.slug}{n}",
        "platform_account_id": f"{agency.slug}-{n}",
        "base_url": "http://127.0.0.1:9",
    }
    values.update(fields)
    return ConnectedAccount.objects.create(agency=agency, kind=kind, **values)


def make_delivery(agency: Agency, state: str = Delivery.State.FAILED) -> Delivery:
    account = make_account(agency)
    return Delivery.objects.create(
        agency=agency,
        account=account,
        source_type="test",
        source_id=new_post_key(),
        key=new_post_key(),
        text="Appeal for witnesses",
        state=state,
    )


def make_alert(agency: Agency) -> ChannelAlert:
    return ChannelAlert.objects.create(
        agency=agency, account=make_account(agency), kind="broken", message="It broke"
    )


def make_signed_media(agency: Agency) -> str:
    """A valid signed link token (``channels:signed_media``) to a stored image of ``agency``."""
    stored = media.store_media(actor=None, agency=agency, data=JPEG)
    return media.sign_media(stored.storage_name, stored.content_type)
