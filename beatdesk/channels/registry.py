"""Which connectors exist, imported only when first used (libcloud's lazy registry).

Listing connectors (the connect page, health page) must not import every SDK or
platform module; ``connector_class`` imports one on demand.
"""

from __future__ import annotations

import importlib
from functools import cache

from beatdesk.core.http import HttpClient

from .contract import ConnectionSettings, Connector, ConnectorInfo

PACKAGE = "beatdesk.channels.connectors"

CONNECTORS: dict[str, ConnectorInfo] = {
    info.kind: info
    for info in (
        ConnectorInfo("mastodon", "Mastodon", f"{PACKAGE}.mastodon.connector:MastodonConnector"),
        ConnectorInfo("bluesky", "Bluesky", f"{PACKAGE}.bluesky.connector:BlueskyConnector"),
        ConnectorInfo("x", "X", f"{PACKAGE}.x.connector:XConnector", oauth=True),
        ConnectorInfo(
            "facebook",
            "Facebook Page",
            f"{PACKAGE}.meta.connector:FacebookPageConnector",
            oauth=True,
        ),
        ConnectorInfo(
            "instagram",
            "Instagram",
            f"{PACKAGE}.meta.connector:InstagramConnector",
            oauth=True,
        ),
        ConnectorInfo("replay", "Replay (drills and demo)", f"{PACKAGE}.replay:ReplayConnector"),
    )
}


class UnknownConnector(LookupError):
    pass


@cache
def connector_class(kind: str) -> type[Connector]:
    try:
        info = CONNECTORS[kind]
    except KeyError:
        raise UnknownConnector(kind) from None
    module_name, _, class_name = info.import_path.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise TypeError(f"{info.import_path} is not a Connector")
    return cls


def build_connector(
    kind: str, settings: ConnectionSettings, http: HttpClient | None = None
) -> Connector:
    """A ready connector for one account; the caller closes ``http`` when it made it."""
    return connector_class(kind)(settings, http or HttpClient())
