"""Tenant-isolated fetches of channel objects (same 404 for missing and not-yours)."""

from __future__ import annotations

from typing import Any

from beatdesk.agencies.access import access_in_agency

from .models import ChannelAlert, ConnectedAccount, Delivery


def access_account(user: Any, account_id: Any) -> ConnectedAccount:
    return access_in_agency(user, ConnectedAccount, account_id)


def access_delivery(user: Any, delivery_id: Any) -> Delivery:
    return access_in_agency(user, Delivery, delivery_id)


def access_alert(user: Any, alert_id: Any) -> ChannelAlert:
    return access_in_agency(user, ChannelAlert, alert_id)
