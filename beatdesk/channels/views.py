"""Channel pages: health at a glance, connect, assign, reconnect, deliveries. Thin views."""

from __future__ import annotations

import os
from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from beatdesk.agencies.access import agency_of, public_view, staff_of, staff_view
from beatdesk.agencies.actions import ActionError
from beatdesk.agencies.roles import AGENCY_ADMINS, Role

from . import actions, media, publish
from .access import access_account, access_alert, access_delivery
from .contract import ConnectorError, OAuthApp, OAuthConnector
from .forms import AssignmentForm, ConnectForm, CredentialsForm, ReplayForm
from .models import ChannelAlert, ConnectedAccount, Delivery, InboundMessage
from .registry import CONNECTORS, connector_class
from .runtime import HTTP_FACTORY

# Who watches channel health: the desk and those who run it.
HEALTH_READERS = frozenset(
    {Role.AGENCY_ADMIN, Role.SUPERVISOR, Role.DESK_OPERATOR, Role.COMMUNICATIONS}
)
OAUTH_SESSION_KEY = "channels_oauth"


@staff_view(HEALTH_READERS)
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    since = timezone.now() - timedelta(hours=24)
    accounts = list(
        ConnectedAccount.objects.filter(agency=agency)
        .exclude(status=ConnectedAccount.Status.DISCONNECTED)
        .select_related("team", "officer")
        .annotate(
            inbound_24h=Count(
                "inbound_messages", filter=Q(inbound_messages__received_at__gte=since)
            ),
            failed_posts=Count("deliveries", filter=Q(deliveries__state=Delivery.State.FAILED)),
        )
        .order_by("status", "kind", "label")
    )
    now = timezone.now()
    for account in accounts:
        account.token_warning = bool(  # type: ignore[attr-defined]
            account.token_expires_at and account.token_expires_at <= now + timedelta(days=7)
        )
        account.paused = bool(account.paused_until and account.paused_until > now)  # type: ignore[attr-defined]
    alerts = ChannelAlert.objects.filter(
        agency=agency, acknowledged_at__isnull=True
    ).select_related("account")
    counts = {
        "working": sum(a.status == ConnectedAccount.Status.ACTIVE for a in accounts),
        "broken": sum(a.status == ConnectedAccount.Status.BROKEN for a in accounts),
        "unsent": Delivery.objects.filter(
            agency=agency,
            state__in=[Delivery.State.FAILED, Delivery.State.UNKNOWN],
        ).count(),
    }
    return render(
        request,
        "channels/health.html",
        {
            "accounts": accounts,
            "alerts": alerts,
            "counts": counts,
            "now": now,
            "connectors": [info for info in CONNECTORS.values() if info.kind != "replay"],
            "is_admin": staff_of(request).role in AGENCY_ADMINS,
        },
    )


@staff_view(HEALTH_READERS)
@require_GET
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    account = access_account(request.user, account_id)
    deliveries = account.deliveries.order_by("-created_at")[:20]
    inbound = InboundMessage.objects.filter(account=account)
    return render(
        request,
        "channels/account_detail.html",
        {
            "account": account,
            "deliveries": deliveries,
            "inbound_total": inbound.count(),
            "last_inbound": inbound.order_by("-received_at")
            .values_list("received_at", flat=True)
            .first(),
            "alerts": account.alerts.filter(acknowledged_at__isnull=True),
            "is_admin": staff_of(request).role in AGENCY_ADMINS,
            "capabilities": sorted(c.value for c in connector_class(account.kind).capabilities),
        },
    )


@staff_view(AGENCY_ADMINS, reauth=True)
@require_http_methods(["GET", "POST"])
def connect(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind", "")
    if kind not in CONNECTORS or kind == "replay":
        return render(
            request,
            "channels/connect_choose.html",
            {"connectors": [i for i in CONNECTORS.values() if i.kind != "replay"]},
        )
    agency = agency_of(request.user)
    cls = connector_class(kind)
    if issubclass(cls, OAuthConnector):
        return _oauth_choose(request, kind)
    form = ConnectForm(request.POST or None, kind=kind, agency=agency)
    if request.method == "POST" and form.is_valid():
        try:
            account = actions.connect_account(
                actor=staff_of(request),
                kind=kind,
                base_url=form.server(),
                credentials=form.credentials(),
                label=form.cleaned_data["label"],
                scope=form.cleaned_data["scope"],
                team=form.cleaned_data["team"],
                officer=form.cleaned_data["officer"],
                areas=form.cleaned_data["areas"],
            )
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Connected {account}.")
            return redirect("channels:account", account_id=account.pk)
    return render(
        request,
        "channels/form.html",
        {
            "form": form,
            "title": f"Connect a {CONNECTORS[kind].label} account",
            "submit": "Check and connect",
        },
    )


def oauth_app(kind: str, request: HttpRequest) -> OAuthApp | None:
    """The deployment's registered app for ``kind`` (set by the operator in the environment)."""
    prefix = f"BEATDESK_OAUTH_{kind.upper()}_"
    client_id = os.environ.get(prefix + "CLIENT_ID", "")
    secret = os.environ.get(prefix + "CLIENT_SECRET", "")
    if not client_id or not secret:
        return None
    redirect_uri = os.environ.get(prefix + "REDIRECT_URI") or request.build_absolute_uri(
        reverse("channels:oauth_callback")
    )
    return OAuthApp(client_id=client_id, client_secret=secret, redirect_uri=redirect_uri)


def _oauth_choose(request: HttpRequest, kind: str) -> HttpResponse:
    agency = agency_of(request.user)
    form = AssignmentForm(request.POST or None, agency=agency)
    app = oauth_app(kind, request)
    if request.method == "POST" and app is not None and form.is_valid():
        cls = connector_class(kind)
        assert issubclass(cls, OAuthConnector)
        start = cls.start_oauth(app)
        request.session[OAUTH_SESSION_KEY] = {
            "kind": kind,
            "state": start.state,
            "verifier": start.code_verifier,
            "label": form.cleaned_data["label"],
            "scope": form.cleaned_data["scope"],
            "team": form.cleaned_data["team"].pk if form.cleaned_data["team"] else None,
            "officer": form.cleaned_data["officer"].pk if form.cleaned_data["officer"] else None,
            "areas": [a.pk for a in form.cleaned_data["areas"]],
            "started": timezone.now().timestamp(),
        }
        return redirect(start.authorize_url)
    return render(
        request,
        "channels/connect_oauth.html",
        {
            "form": form,
            "kind": kind,
            "label": CONNECTORS[kind].label,
            "configured": app is not None,
        },
    )


@staff_view(AGENCY_ADMINS)
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    pending = request.session.pop(OAUTH_SESSION_KEY, None)
    state = request.GET.get("state", "")
    if not pending or not state or state != pending.get("state"):
        messages.error(
            request, "That sign-in link was not started here or has expired. Start again."
        )
        return redirect("channels:health")
    if timezone.now().timestamp() - float(pending["started"]) > 600:
        messages.error(request, "The platform sign-in took more than 10 minutes. Start again.")
        return redirect("channels:health")
    kind = str(pending["kind"])
    if request.GET.get("error"):
        messages.error(request, f"{CONNECTORS[kind].label} did not grant access.")
        return redirect("channels:health")
    app = oauth_app(kind, request)
    cls = connector_class(kind)
    if app is None or not issubclass(cls, OAuthConnector):
        messages.error(request, "This platform is not configured for sign-in.")
        return redirect("channels:health")
    agency = agency_of(request.user)
    http = HTTP_FACTORY()
    try:
        credentials = cls.finish_oauth(
            app, code=request.GET.get("code", ""), code_verifier=str(pending["verifier"]), http=http
        )
        identity = actions.verify_credentials(kind, cls.default_base_url, credentials)
        account = actions.connect_account(
            actor=staff_of(request),
            kind=kind,
            base_url=cls.default_base_url,
            credentials=credentials,
            label=str(pending["label"]),
            scope=str(pending["scope"]),
            team=agency.teams.filter(pk=pending["team"]).first() if pending["team"] else None,
            officer=agency.staff.filter(pk=pending["officer"]).first()
            if pending["officer"]
            else None,
            areas=agency.areas.filter(pk__in=pending["areas"]),
            identity=identity,
        )
    except ConnectorError as error:
        messages.error(request, f"{CONNECTORS[kind].label} refused: {error.message}")
        return redirect("channels:health")
    except ActionError as exc:
        messages.error(request, str(exc))
        return redirect("channels:health")
    finally:
        http.close()
    messages.success(request, f"Connected {account}.")
    return redirect("channels:account", account_id=account.pk)


@staff_view(AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    account = access_account(request.user, account_id)
    initial = {
        "label": account.label,
        "scope": account.scope,
        "team": account.team,
        "officer": account.officer,
        "areas": account.areas.all(),
    }
    form = AssignmentForm(request.POST or None, agency=account.agency, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            actions.update_assignment(
                actor=staff_of(request),
                account=account,
                label=form.cleaned_data["label"],
                scope=form.cleaned_data["scope"],
                team=form.cleaned_data["team"],
                officer=form.cleaned_data["officer"],
                areas=form.cleaned_data["areas"],
            )
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, "Assignment saved.")
            return redirect("channels:account", account_id=account.pk)
    return render(
        request,
        "channels/form.html",
        {"form": form, "title": f"Assign {account}", "submit": "Save"},
    )


@staff_view(AGENCY_ADMINS, reauth=True)
@require_http_methods(["GET", "POST"])
def account_reconnect(request: HttpRequest, account_id: int) -> HttpResponse:
    account = access_account(request.user, account_id)
    if account.kind == "replay":
        messages.error(request, "A replay channel has no credentials.")
        return redirect("channels:account", account_id=account.pk)
    cls = connector_class(account.kind)
    if issubclass(cls, OAuthConnector):
        return redirect(f"{reverse('channels:connect')}?kind={account.kind}")
    form = CredentialsForm(
        request.POST or None, kind=account.kind, initial={"base_url": account.base_url}
    )
    form.fields.pop("base_url")
    if request.method == "POST" and form.is_valid():
        try:
            actions.reconnect_account(
                actor=staff_of(request), account=account, credentials=form.credentials()
            )
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{account} reconnected.")
            return redirect("channels:account", account_id=account.pk)
    return render(
        request,
        "channels/form.html",
        {"form": form, "title": f"Reconnect {account}", "submit": "Check and reconnect"},
    )


@staff_view(AGENCY_ADMINS, reauth=True)
@require_POST
def account_disconnect(request: HttpRequest, account_id: int) -> HttpResponse:
    account = access_account(request.user, account_id)
    actions.disconnect_account(actor=staff_of(request), account=account)
    messages.success(request, f"{account} disconnected; its stored credentials were destroyed.")
    return redirect("channels:health")


@staff_view(AGENCY_ADMINS)
@require_http_methods(["GET", "POST"])
def replay_connect(request: HttpRequest) -> HttpResponse:
    form = ReplayForm(request.POST or None, agency=agency_of(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            account = actions.connect_replay(
                actor=staff_of(request),
                label=form.cleaned_data["label"],
                source=form.cleaned_data["source"],
                rate_per_minute=form.cleaned_data["rate_per_minute"],
                areas=form.cleaned_data["areas"],
            )
        except ActionError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Replay started: {account}.")
            return redirect("channels:account", account_id=account.pk)
    return render(
        request,
        "channels/form.html",
        {"form": form, "title": "Start a replay (drill or demo)", "submit": "Start replay"},
    )


@staff_view(HEALTH_READERS)
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    agency = agency_of(request.user)
    state = request.GET.get("state", "")
    deliveries = Delivery.objects.filter(agency=agency).select_related("account")
    if state in Delivery.State.values:
        deliveries = deliveries.filter(state=state)
    page = Paginator(deliveries.order_by("-created_at"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "channels/delivery_list.html",
        {
            "page": page,
            "state": state,
            "states": Delivery.State.choices,
            "can_retry": staff_of(request).role in HEALTH_READERS,
        },
    )


@staff_view(HEALTH_READERS)
@require_POST
def delivery_retry(request: HttpRequest, delivery_id: int) -> HttpResponse:
    delivery = access_delivery(request.user, delivery_id)
    try:
        publish.retry_delivery(actor=staff_of(request), delivery=delivery)
    except ActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Sending again.")
    return redirect("channels:deliveries")


@staff_view(AGENCY_ADMINS)
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = access_alert(request.user, alert_id)
    actions.acknowledge_alert(actor=staff_of(request), alert=alert)
    return redirect("channels:health")


@public_view
@require_safe
def signed_media(request: HttpRequest, signed: str) -> HttpResponse:
    """One stored image for a platform to fetch (Instagram): no sign-in, only a valid,
    unexpired signature (``media.public_media_url``). Expired: 410; anything else: 404."""
    try:
        handle, content_type = media.open_signed(signed)
    except media.MediaLinkExpired:
        return HttpResponse("This link has expired.", status=410, content_type="text/plain")
    except media.MediaLinkInvalid:
        raise Http404 from None
    with handle:  # images for Instagram: JPEG under 8 MiB
        response = HttpResponse(handle.read(), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
