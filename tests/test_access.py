"""Generated access test over every URL in the project.

Every view must declare an access rule (``staff_view`` or ``public_view``); a URL without
one fails here, so nothing ships unguarded. For each URL: anonymous visitors are sent to
sign in, each role gets exactly what its rule allows, and an object of another agency
gets the same 404 as an object that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from beatdesk.agencies.access import AccessRule
from beatdesk.agencies.models import Agency, Staff
from beatdesk.agencies.roles import ALL_ROLES

from .channels.factories import make_account, make_alert, make_delivery, make_signed_media
from .conftest import force_sign_in, make_agency, make_staff
from .inbox.factories import make_conversation
from .insights.factories import make_leadership_report
from .intelligence.factories import make_export, make_report
from .publishing.factories import make_follow_up, make_post
from .records.factories import make_hold

# How to find an object of a given agency for each URL keyword. A new keyword must be
# added here, or the test fails: so must its access_* helper be written.
OBJECT_FOR_KWARG: dict[str, Callable[[Agency], int | str]] = {
    "area_id": lambda agency: agency.areas.order_by("pk").first().pk,  # type: ignore[union-attr]
    "team_id": lambda agency: agency.teams.order_by("pk").first().pk,  # type: ignore[union-attr]
    "account_id": lambda agency: make_account(agency).pk,
    "delivery_id": lambda agency: make_delivery(agency).pk,
    "alert_id": lambda agency: make_alert(agency).pk,
    "conversation_id": lambda agency: make_conversation(agency).pk,
    "contact_id": lambda agency: make_conversation(agency).contact_id,
    "signed": make_signed_media,
    "post_id": lambda agency: make_post(agency).pk,
    "report_id": lambda agency: make_report(agency).pk,
    "hold_id": lambda agency: make_hold(agency).pk,
    "export_id": lambda agency: make_export(agency).pk,
    "follow_up_id": lambda agency: make_follow_up(agency).pk,
    "leadership_report_id": lambda agency: make_leadership_report(agency).pk,
    "staff_id": lambda agency: (
        make_staff(agency, "officer", f"{agency.slug}-target-{Staff.objects.count()}").pk
    ),
}
MISSING_ID = 987654321
# Factories store files (bundles, reports): keep them out of the working tree.
pytestmark = pytest.mark.usefixtures("isolated_storage")


@dataclass(frozen=True)
class Route:
    name: str
    rule: AccessRule | None
    kwargs: tuple[str, ...]


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            yield Route(
                name=f"{namespace}{entry.name}",
                rule=getattr(entry.callback, "access_rule", None),
                kwargs=tuple(entry.pattern.converters),
            )


ROUTES = list(_walk(get_resolver().url_patterns))


def test_every_url_declares_an_access_rule() -> None:
    undeclared = [r.name for r in ROUTES if r.rule is None]
    assert not undeclared, f"URLs without staff_view/public_view: {undeclared}"
    unnamed = [r for r in ROUTES if r.name.endswith("None")]
    assert not unnamed


def test_every_url_keyword_has_an_object_factory() -> None:
    unknown = {k for r in ROUTES for k in r.kwargs} - set(OBJECT_FOR_KWARG)
    assert not unknown, f"add these to OBJECT_FOR_KWARG with an access_* helper: {unknown}"


def _url(route: Route, agency: Agency | None, missing: bool = False) -> str:
    kwargs = {
        k: (MISSING_ID if missing or agency is None else OBJECT_FOR_KWARG[k](agency))
        for k in route.kwargs
    }
    return reverse(route.name, kwargs=kwargs)


def _request(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code == 405:  # a POST-only action
        response = client.post(url, {})
    return response


@pytest.mark.django_db
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_anonymous(route: Route) -> None:
    agency = make_agency("own")
    url = _url(route, agency)
    response = _request(Client(), url)
    assert route.rule is not None
    if route.rule.signed_in:
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/")
    else:
        assert response.status_code in {200, 302}, url


@pytest.mark.django_db
@pytest.mark.parametrize("role", sorted(ALL_ROLES))
@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.rule and r.rule.signed_in], ids=lambda r: r.name
)
def test_each_role_in_own_and_other_agency(route: Route, role: str) -> None:
    own, other = make_agency("own"), make_agency("other", kind="ambulance")
    actor = make_staff(own, role, f"actor-{role}")
    client = Client()
    force_sign_in(client, actor, reauthenticated=True)
    assert route.rule is not None
    response = _request(client, _url(route, own))
    if role not in route.rule.roles:
        assert response.status_code == 403, (route.name, role)
        return
    assert response.status_code in {200, 302}, (route.name, role, response.status_code)
    if route.kwargs:
        foreign = _request(client, _url(route, other))
        missing = _request(client, _url(route, None, missing=True))
        assert foreign.status_code == missing.status_code == 404, route.name
        assert foreign.content == missing.content
