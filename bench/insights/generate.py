"""Generating the force-year with set-based SQL: hour-by-hour slot tables, unlogged
staging tables built with ``INSERT ... SELECT`` over ``generate_series``, then the real
tables loaded from them (triggers off, foreign keys checked once after, when the role
may do so)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import TYPE_CHECKING, Any

from .report import step
from .sql import (
    check_foreign_keys,
    cumulative_case,
    execute,
    insert_select,
    scalar,
    sql_array,
    sql_text,
    sql_time,
)
from .structure import Structure
from .traffic import (
    ACCOUNTS_PER_TEAM,
    CATEGORIES,
    CLOSE_REASONS,
    DAYS,
    DELIVERY_FAILED,
    FOLLOWER_SAMPLE,
    FORCE_ACCOUNTS,
    LOCATIONS,
    PLACES,
    PURPOSES,
    RESPONDED,
    RESPONSE_MU,
    RESPONSE_SIGMA,
    SNAPSHOT_FAILED,
    SNAPSHOT_MISSING,
    SNAPSHOTS_STOP_DAYS,
    SNAPSHOTS_STOP_EVERY,
    SURGE_DAY,
    TARGETS,
    ZONE,
    Sizes,
    allocate,
    cumulative_categories,
    message_weight,
    post_weight,
)

if TYPE_CHECKING:
    pass


def make_slots(
    table: str, first_day: date, weight: Callable[[date, int, int], float], total: int
) -> None:
    """An hour-by-hour table of how many rows start in each local hour: (first_id, n,
    start_at, surge)."""
    hours = [(first_day + timedelta(days=i), i, h) for i in range(DAYS) for h in range(24)]
    counts = allocate([weight(d, i, h) for d, i, h in hours], total, random.Random(total))
    firsts, starts, surges = [], [], []
    running = 0
    for (day, index, hour), n in zip(hours, counts, strict=True):
        firsts.append(running)
        running += n
        starts.append(datetime.combine(day, clock(hour), tzinfo=ZONE).astimezone(UTC))
        surges.append(SURGE_DAY <= index < SURGE_DAY + 7)
    execute(
        f"CREATE UNLOGGED TABLE {table} (first_id bigint, n int, start_at timestamptz, surge bool)"
    )
    execute(
        f"INSERT INTO {table} SELECT * FROM unnest(%s::bigint[], %s::int[], "
        "%s::timestamptz[], %s::bool[])",
        [firsts, counts, starts, surges],
    )


def lookup_tables(s: Structure) -> None:
    execute("CREATE UNLOGGED TABLE bench_nbh (pos int, area_id int, team_id int)")
    execute(
        "INSERT INTO bench_nbh SELECT * FROM unnest(%s::int[], %s::int[], %s::int[])",
        [list(range(len(s.neighbourhoods))), s.neighbourhoods, s.nbh_team],
    )
    execute("CREATE UNLOGGED TABLE bench_district (pos int, area_id int)")
    execute(
        "INSERT INTO bench_district SELECT * FROM unnest(%s::int[], %s::int[])",
        [list(range(len(s.districts))), s.districts],
    )
    execute("CREATE UNLOGGED TABLE bench_force_acc (pos int, account_id int)")
    execute(
        "INSERT INTO bench_force_acc SELECT * FROM unnest(%s::int[], %s::int[])",
        [list(range(len(s.force_accounts))), s.force_accounts],
    )
    rows = [(t, k, a) for t, accounts in s.team_accounts.items() for k, a in enumerate(accounts)]
    execute("CREATE UNLOGGED TABLE bench_team_acc (team_id int, k int, account_id int)")
    execute(
        "INSERT INTO bench_team_acc SELECT * FROM unnest(%s::int[], %s::int[], %s::int[])",
        [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
    )
    account_team = {a: t for t, accounts in s.team_accounts.items() for a in accounts}
    execute(
        "CREATE UNLOGGED TABLE bench_acc (pos int, account_id int, team_id int, is_force bool,"
        " has_impressions bool, no_followers bool, base_followers int)"
    )
    rng = random.Random(5)
    execute(
        "INSERT INTO bench_acc SELECT * FROM unnest(%s::int[], %s::int[], %s::int[], "
        "%s::bool[], %s::bool[], %s::bool[], %s::int[])",
        [
            list(range(len(s.accounts))),
            s.accounts,
            [account_team.get(a) for a in s.accounts],
            [i < FORCE_ACCOUNTS for i in range(len(s.accounts))],
            [i % 2 == 0 for i in range(len(s.accounts))],  # X-like: reports impressions
            [i % 10 == 9 for i in range(len(s.accounts))],  # no follower count reported
            [
                rng.randint(20_000, 150_000) if i < FORCE_ACCOUNTS else rng.randint(400, 6000)
                for i in range(len(s.accounts))
            ],
        ],
    )
    execute("CREATE UNLOGGED TABLE bench_staff (pos int, staff_id int)")
    execute(
        "INSERT INTO bench_staff SELECT * FROM unnest(%s::int[], %s::int[])",
        [list(range(len(s.staff))), s.staff],
    )
    for table in ("nbh", "district", "force_acc", "team_acc", "acc", "staff"):
        execute(f"ANALYZE bench_{table}")


def generate(s: Structure, sizes: Sizes) -> None:
    """Load the force-year into the real tables through unlogged staging tables."""
    end = sql_time(s.data_end)
    replica = bool(scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
    if replica:
        # Foreign keys are checked once after the load (check_foreign_keys), not per row.
        execute("SET session_replication_role = replica")
    execute("SELECT setseed(0.4242)")
    with step("staging: hourly slots and lookups"):
        lookup_tables(s)
        make_slots("bench_slot", s.first_day, message_weight, sizes.conversations)
        make_slots("bench_pslot", s.first_day, post_weight, sizes.posts)
    stage_conversations(s, sizes, end)
    load_inbox(s, sizes, end)
    load_publishing(s, end)
    load_audience(s)
    finish_load(replica=replica)


def by_priority(column: str, table: dict[str, Any]) -> str:
    """CASE over a priority ``column``: the value ``table`` gives that priority."""
    return (
        f"CASE {column} "
        + " ".join(f"WHEN '{p}' THEN {table[p]!r}" for p in ("P1", "P2", "P3"))
        + f" ELSE {table['P4']!r} END"
    )


def stage_conversations(s: Structure, sizes: Sizes, end: str) -> None:
    """``bench_conv``: every conversation with its category, priority, area, team,
    account, author, follow-ups (``bench_f1``), first response and closure."""
    category_case = cumulative_case(
        "c.r_cat", [(name, upper) for name, upper, _, _ in cumulative_categories()]
    )
    priority_case = (
        "CASE x.category "
        + " ".join(
            f"WHEN {sql_text(name)} THEN {cumulative_case('x.r_pri', split)}"
            for name, _, split, _ in CATEGORIES
        )
        + " END"
    )

    with step("staging: conversations") as note:
        note["rows"] = execute(
            "CREATE UNLOGGED TABLE bench_c0 AS SELECT 1 + s.first_id + g AS id,"
            " s.start_at + random() * interval '3599 seconds' AS first_at, s.surge,"
            " random() AS r_cat, random() AS r_pri, random() AS r_area, random() AS r_pos,"
            " random() AS r_team, random() AS r_acc, random() AS r_acc2, random() AS r_auth,"
            " random() AS r_resp, random() AS r_z1, random() AS r_z2, random() AS r_close,"
            " random() AS r_close2, random() AS r_reason, random() AS r_kind"
            " FROM bench_slot s, generate_series(0, s.n - 1) g WHERE s.n > 0"
        )
        execute(
            "CREATE UNLOGGED TABLE bench_c1 AS SELECT x.*,"
            f" {priority_case} AS priority FROM (SELECT c.*, {category_case} AS category,"
            " CASE WHEN c.r_area < 0.72 THEN floor(power(c.r_pos, 1.4) * "
            f"{len(s.neighbourhoods)})::int END AS nbh_pos,"
            " CASE WHEN c.r_area >= 0.72 AND c.r_area < 0.82 THEN floor(c.r_pos * "
            f"{len(s.districts)})::int END AS district_pos,"
            f" floor({sizes.author_pool} * power(c.r_auth, 1.5))::int AS author"
            " FROM bench_c0 c) x"
        )
        execute("DROP TABLE bench_c0")
        execute(
            "CREATE UNLOGGED TABLE bench_c2 AS SELECT c.*,"
            " coalesce(n.area_id, d.area_id) AS area_id,"
            f" CASE WHEN c.category = 'complaint' AND c.r_team < 0.7 THEN {s.standards_team}"
            f" WHEN c.category = 'intelligence' AND c.r_team < 0.5 THEN {s.intelligence_team}"
            f" WHEN c.priority IN ('P1', 'P2') THEN {s.desk_team}"
            " WHEN n.team_id IS NOT NULL AND c.r_team < 0.9 THEN n.team_id"
            f" WHEN c.r_team < 0.97 THEN {s.desk_team} END AS team_id"
            " FROM bench_c1 c LEFT JOIN bench_nbh n ON n.pos = c.nbh_pos"
            " LEFT JOIN bench_district d ON d.pos = c.district_pos"
        )
        execute("DROP TABLE bench_c1")
        execute(
            "CREATE UNLOGGED TABLE bench_c3 AS SELECT c.*,"
            " CASE WHEN ta.account_id IS NOT NULL THEN ta.account_id ELSE fa.account_id END"
            " AS account_id FROM bench_c2 c"
            " LEFT JOIN bench_team_acc ta ON c.r_acc < 0.45 AND ta.team_id = c.team_id"
            f" AND ta.k = least({ACCOUNTS_PER_TEAM - 1}, floor(c.r_acc / 0.45 * "
            f"{ACCOUNTS_PER_TEAM}))::int"
            " JOIN bench_force_acc fa ON fa.pos = floor(power(c.r_acc2, 2) * "
            f"{FORCE_ACCOUNTS})::int"
        )
        execute("DROP TABLE bench_c2")
        execute("ANALYZE bench_c3")

    follow_ups = sizes.messages - sizes.conversations
    with step("staging: follow-up messages") as note:
        note["rows"] = execute(
            f"CREATE UNLOGGED TABLE bench_f0 AS SELECT {sizes.conversations} + g AS id,"
            f" 1 + floor(random() * {sizes.conversations})::int AS conv_id,"
            " random() AS r_off, random() AS r_cap, random() AS r_same"
            f" FROM generate_series(1, {follow_ups}) g"
        )
        execute("ANALYZE bench_f0")
        execute(
            "CREATE UNLOGGED TABLE bench_f1 AS SELECT f.id, f.conv_id, f.r_same,"
            " c.first_at + make_interval(secs => least(30 * exp(f.r_off * 8),"
            f" extract(epoch FROM {end} - c.first_at) * f.r_cap)) AS received_at"
            " FROM bench_f0 f JOIN bench_c3 c ON c.id = f.conv_id"
        )
        execute("DROP TABLE bench_f0")
        execute(
            "CREATE UNLOGGED TABLE bench_fagg AS SELECT conv_id, count(*)::int AS n,"
            " max(received_at) AS last_at FROM bench_f1 GROUP BY conv_id"
        )
        execute("ANALYZE bench_f1")
        execute("ANALYZE bench_fagg")

    off_hours = (
        "(extract(hour FROM c.first_at AT TIME ZONE 'Europe/London') NOT BETWEEN 8 AND 17"
        " OR extract(isodow FROM c.first_at AT TIME ZONE 'Europe/London') >= 6)"
    )
    responded = (
        "CASE WHEN c.category = 'spam' THEN 0.04 WHEN c.category = 'abuse' THEN 0.5"
        f" ELSE {by_priority('c.priority', RESPONDED)} END"
    )
    mu = (
        f"{by_priority('c.priority', RESPONSE_MU)}"
        f" + CASE WHEN c.priority IN ('P3', 'P4') AND {off_hours} THEN 0.9 ELSE 0 END"
        " + CASE WHEN c.surge THEN 0.5 ELSE 0 END"
    )
    normal = "sqrt(-2 * ln(1 - c.r_z1)) * cos(2 * pi() * c.r_z2)"
    reason_case = (
        "CASE z.category "
        + " ".join(
            f"WHEN {sql_text(cat)} THEN {cumulative_case('z.r_reason', split)}"
            for cat, split in CLOSE_REASONS.items()
        )
        + f" ELSE {cumulative_case('z.r_reason', [('answered', 0.7), ('no_action', 1.0)])} END"
    )
    with step("staging: responses and closures") as note:
        note["rows"] = execute(
            "CREATE UNLOGGED TABLE bench_c4 AS SELECT c.id, c.first_at,"
            " coalesce(a.last_at, c.first_at) AS last_at,"
            " 1 + coalesce(a.n, 0) AS message_count, c.category, c.priority, c.area_id,"
            " c.team_id, c.account_id, c.author, c.r_close, c.r_close2, c.r_reason, c.r_kind,"
            f" {by_priority('c.priority', TARGETS)} AS target,"
            f" CASE WHEN c.r_resp < {responded} THEN least(518400, greatest(5,"
            f" round(exp({mu} + {by_priority('c.priority', RESPONSE_SIGMA)} * {normal}))))::int"
            " END AS seconds"
            " FROM bench_c3 c LEFT JOIN bench_fagg a ON a.conv_id = c.id"
        )
        execute("DROP TABLE bench_c3")
        execute(
            "CREATE UNLOGGED TABLE bench_conv AS SELECT z.*,"
            " CASE WHEN z.closed_at IS NOT NULL THEN 'closed'"
            " WHEN z.response_at IS NOT NULL THEN 'acknowledged' ELSE 'new' END AS status,"
            f" CASE WHEN z.closed_at IS NOT NULL THEN {reason_case} ELSE '' END AS reason,"
            " CASE WHEN z.response_at IS NOT NULL AND NOT z.met"
            " THEN z.first_at + z.target * interval '1 second'"
            " WHEN z.response_at IS NULL AND z.category <> 'spam'"
            " AND z.first_at + z.target * interval '1 second'"
            f" < coalesce(z.closed_at, {end})"
            " THEN z.first_at + z.target * interval '1 second' END AS breached_at"
            " FROM (SELECT w.*, CASE WHEN w.close_at < "
            f"{end} THEN w.close_at END AS closed_at FROM ("
            " SELECT v.*, CASE WHEN v.response_at IS NOT NULL THEN v.seconds <= v.target END"
            " AS met,"
            " CASE WHEN (v.response_at IS NOT NULL OR v.category IN ('spam', 'abuse'))"
            " AND v.r_close < 0.8 THEN greatest(v.last_at, coalesce(v.response_at,"
            " v.first_at + interval '10 minutes'))"
            " + v.r_close2 * v.r_close2 * interval '48 hours' END AS close_at"
            " FROM (SELECT y.*, CASE WHEN y.seconds IS NOT NULL"
            f" AND y.first_at + y.seconds * interval '1 second' < {end}"
            " THEN y.first_at + y.seconds * interval '1 second' END AS response_at"
            " FROM bench_c4 y) v) w) z"
        )
        execute("DROP TABLE bench_c4")
        execute("ANALYZE bench_conv")


def load_inbox(s: Structure, sizes: Sizes, end: str) -> None:
    """Public contacts, conversations, inbound messages, their triage and intelligence
    reports, from the staged conversations."""
    from beatdesk.channels.models import InboundMessage
    from beatdesk.inbox.models import Conversation, MessageTriage, PublicContact
    from beatdesk.intelligence.models import IntelligenceReport

    agency = s.agency.pk
    location = f"({sql_array(LOCATIONS)})[1 + mod(c.author, {len(LOCATIONS)})]"
    with step("public contacts") as note:
        note["rows"] = insert_select(
            PublicContact,
            {
                "id": "c.author + 1",
                "agency_id": str(agency),
                "platform": "'replay'",
                "author_id": "'a' || c.author",
                "handle": "'person' || c.author",
                "display_name": "'Person ' || c.author",
                "location": location,
                "first_seen_at": "min(c.first_at)",
                "last_seen_at": "max(c.last_at)",
                "message_count": "sum(c.message_count)",
            },
            "FROM bench_conv c GROUP BY c.author",
        )

    thread = "'t' || lpad(c.id::text, 10, '0')"
    with step("conversations") as note:
        note["rows"] = insert_select(
            Conversation,
            {
                "id": "c.id",
                "agency_id": str(agency),
                "account_id": "c.account_id",
                "platform": "'replay'",
                "thread_key": thread,
                "author_id": "'a' || c.author",
                "contact_id": "c.author + 1",
                "priority": "c.priority",
                "category": "c.category",
                "team_id": "c.team_id",
                "area_id": "c.area_id",
                "routing_reason": "CASE WHEN c.team_id IS NULL THEN '' ELSE 'bench' END",
                "status": "c.status",
                "close_reason": "c.reason",
                "needs_response_since": "CASE WHEN c.status = 'new' AND c.category <> 'spam'"
                " THEN c.first_at END",
                "warn_at": "CASE WHEN c.category <> 'spam'"
                " THEN c.first_at + 0.75 * c.target * interval '1 second' END",
                "due_at": "CASE WHEN c.category <> 'spam'"
                " THEN c.first_at + c.target * interval '1 second' END",
                "breached_at": "c.breached_at",
                "first_response_at": "c.response_at",
                "first_response_seconds": "CASE WHEN c.response_at IS NOT NULL THEN c.seconds END",
                "first_response_met": "c.met",
                "closed_at": "c.closed_at",
                "first_message_at": "c.first_at",
                "last_message_at": "c.last_at",
                "message_count": "c.message_count",
                "created_at": "c.first_at",
                # When it last changed: its last message, response, breach or close.
                "updated_at": "greatest(c.last_at, c.response_at, c.breached_at, c.closed_at)",
            },
            "FROM bench_conv c",
        )

    place = f"({sql_array(PLACES)})[1 + mod(c.author + c.id, {len(PLACES)})]"
    opening = (
        "CASE c.category "
        + " ".join(
            f"WHEN {sql_text(name)} THEN {sql_text(text)}" for name, _, _, text in CATEGORIES
        )
        + " END"
    )
    text = f"replace({opening}, '{{place}}', {place})"
    message_common = {
        "agency_id": str(agency),
        "account_id": "c.account_id",
        "platform": "'replay'",
        "author_id": "'a' || c.author",
        "author_handle": "'person' || c.author",
        "author_display_name": "'Person ' || c.author",
        "author_location": location,
        "thread_root_id": thread,
    }
    with step("inbound messages (first of each conversation)") as note:
        note["rows"] = insert_select(
            InboundMessage,
            message_common
            | {
                "id": "c.id",
                "platform_id": "'m' || lpad(c.id::text, 10, '0')",
                "kind": "CASE WHEN c.r_kind < 0.15 THEN 'dm' ELSE 'mention' END",
                "text": f"{text} || ' #' || c.id",
                "created_at": "c.first_at - interval '3 seconds'",
                "received_at": "c.first_at",
                "raw_payload": "convert_to(json_build_object('id', c.id, 'author', c.author,"
                f" 'text', {text})::text, 'UTF8')",
            },
            "FROM bench_conv c",
        )
    with step("inbound messages (follow-ups)") as note:
        note["rows"] = insert_select(
            InboundMessage,
            message_common
            | {
                "id": "f.id",
                "platform_id": "'m' || lpad(f.id::text, 10, '0')",
                "kind": "CASE WHEN c.r_kind < 0.15 THEN 'dm' ELSE 'reply' END",
                "text": f"'Any news? ' || {text} || ' #' || f.id",
                "reply_to_id": "'m' || lpad(c.id::text, 10, '0')",
                "created_at": "f.received_at - interval '3 seconds'",
                "received_at": "f.received_at",
                "raw_payload": "convert_to(json_build_object('id', f.id, 'author', c.author,"
                f" 'text', 'Any news? ' || {text})::text, 'UTF8')",
            },
            "FROM bench_f1 f JOIN bench_conv c ON c.id = f.conv_id",
        )
    triage_common = {
        "agency_id": str(agency),
        "place": f"CASE WHEN c.area_id IS NULL THEN '' ELSE {place} END",
        "place_source": "CASE WHEN c.area_id IS NULL THEN '' ELSE 'text' END",
        "area_id": "c.area_id",
    }
    with step("message triage") as note:
        note["rows"] = insert_select(
            MessageTriage,
            triage_common
            | {
                "message_id": "c.id",
                "conversation_id": "c.id",
                "category": "c.category",
                "priority": "c.priority",
                "triaged_at": "c.first_at + interval '1 second'",
            },
            "FROM bench_conv c",
        )
        note["rows"] += insert_select(
            MessageTriage,
            triage_common
            | {
                "message_id": "f.id",
                "conversation_id": "f.conv_id",
                "category": "CASE WHEN f.r_same < 0.8 THEN c.category ELSE 'other' END",
                "priority": "CASE WHEN f.r_same < 0.8 THEN c.priority ELSE 'P4' END",
                "triaged_at": "f.received_at + interval '1 second'",
            },
            "FROM bench_f1 f JOIN bench_conv c ON c.id = f.conv_id",
        )
    with step("intelligence reports") as note:
        execute(
            "CREATE UNLOGGED TABLE bench_ir AS SELECT row_number() OVER (ORDER BY c.id) AS id,"
            " c.id AS conv_id, c.team_id, random() < 0.05 AS direct,"
            " least(coalesce(c.response_at, c.first_at) + random() * interval '6 hours',"
            f" {end} - interval '1 minute') AS created_at,"
            f" floor(random() * {len(s.staff)})::int AS staff_pos"
            f" FROM (SELECT * FROM bench_conv WHERE category = 'intelligence'"
            f" ORDER BY random() LIMIT {sizes.reports}) c"
        )
        note["rows"] = insert_select(
            IntelligenceReport,
            {
                "id": "r.id",
                "agency_id": str(agency),
                "conversation_id": "CASE WHEN r.direct THEN NULL ELSE r.conv_id END",
                "source_evaluation": "'2'",
                "assessment": "'B'",
                "handling_code": "'P'",
                "intelligence_text": "'Drug dealing reported from a car park (bench)'",
                "team_id": "r.team_id",
                "status": "'filed'",
                "created_by_id": "st.staff_id",
                "created_at": "r.created_at",
            },
            "FROM bench_ir r JOIN bench_staff st ON st.pos = r.staff_pos",
        )
        insert_select(
            IntelligenceReport.messages.through,
            {"intelligencereport_id": "r.id", "inboundmessage_id": "r.conv_id"},
            "FROM bench_ir r",
        )


def load_publishing(s: Structure, end: str) -> None:
    """Posts (a few of them missing-person appeals, most of those later marked found),
    their deliveries to one to three accounts (a few failed: they are not published, yet
    a found appeal still counts for their account), and the published ones' metrics."""
    from beatdesk.channels.models import Delivery
    from beatdesk.insights.models import PostMetrics
    from beatdesk.publishing.models import POST_SOURCE, Post

    agency = s.agency.pk
    purpose_case = cumulative_case("p.r_purpose", PURPOSES)
    with step("posts") as note:
        execute(
            "CREATE UNLOGGED TABLE bench_post AS SELECT p.id, p.sent_at,"
            f" CASE WHEN p.r_appeal < 0.025 THEN 'investigation' ELSE {purpose_case} END"
            " AS purpose, p.r_appeal < 0.025 AS appeal,"
            " CASE WHEN p.r_appeal < 0.025 AND p.r_found < 0.85"
            f" AND p.sent_at + (1 + p.r_found2 * 71) * interval '1 hour' < {end}"
            " THEN p.sent_at + (1 + p.r_found2 * 71) * interval '1 hour' END AS found_at,"
            f" CASE WHEN p.r_acc < 0.3 THEN floor(p.r_acc / 0.3 * {FORCE_ACCOUNTS})::int"
            f" ELSE {FORCE_ACCOUNTS} + floor((p.r_acc - 0.3) / 0.7 *"
            f" {len(s.accounts) - FORCE_ACCOUNTS})::int END AS pos,"
            " CASE WHEN p.r_n < 0.75 THEN 1 WHEN p.r_n < 0.95 THEN 2 ELSE 3 END AS n_acc,"
            f" floor(p.r_staff * {len(s.staff)})::int AS staff_pos,"
            " CASE WHEN p.r_appeal < 0.025 THEN 'MISSING | Have you seen this person from '"
            f" || ({sql_array(PLACES)})[1 + mod(p.id, {len(PLACES)})] || '? Call 101. #' || p.id"
            " ELSE 'Update from the team in '"
            f" || ({sql_array(PLACES)})[1 + mod(p.id, {len(PLACES)})]"
            " || ': thanks for your help this week. #' || p.id END AS text"
            " FROM (SELECT 1 + s.first_id + g AS id,"
            " s.start_at + random() * interval '3599 seconds' AS sent_at,"
            " random() AS r_purpose, random() AS r_appeal, random() AS r_found,"
            " random() AS r_found2, random() AS r_acc, random() AS r_n, random() AS r_staff"
            " FROM bench_pslot s, generate_series(0, s.n - 1) g WHERE s.n > 0) p"
        )
        execute("ANALYZE bench_post")
        note["rows"] = insert_select(
            Post,
            {
                "id": "p.id",
                "agency_id": str(agency),
                "author_id": "st.staff_id",
                "team_id": "a.team_id",
                "text": "p.text",
                "purpose": "p.purpose",
                "template_key": "CASE WHEN p.appeal THEN 'missing_person' ELSE '' END",
                "state": "'publishing'",
                "risk": "'green'",
                "text_sha256": "md5(p.text) || md5(p.text || '.')",
                "approved_sha256": "md5(p.text) || md5(p.text || '.')",
                "approved_at": "p.sent_at - interval '5 minutes'",
                "sent_at": "p.sent_at",
                "person_found_at": "p.found_at",
                "created_at": "p.sent_at - interval '10 minutes'",
                "updated_at": "p.sent_at",
            },
            "FROM bench_post p JOIN bench_acc a ON a.pos = p.pos"
            " JOIN bench_staff st ON st.pos = p.staff_pos",
        )
    with step("deliveries (some failed) and post accounts") as note:
        execute(
            "CREATE UNLOGGED TABLE bench_deliv AS SELECT"
            " (row_number() OVER (ORDER BY p.id, k))::int AS id, p.id AS post_id, p.text,"
            " a.account_id, a.is_force, a.has_impressions, p.sent_at,"
            " random() AS r_like, random() AS r_imp, random() AS r_loc,"
            f" random() < {DELIVERY_FAILED!r} AS failed"
            " FROM bench_post p CROSS JOIN generate_series(0, 2) k"
            f" JOIN bench_acc a ON a.pos = mod(p.pos + 61 * k, {len(s.accounts)})"
            " WHERE k < p.n_acc"
        )
        note["rows"] = insert_select(
            Delivery,
            {
                "id": "d.id",
                "agency_id": str(agency),
                "account_id": "d.account_id",
                "source_type": sql_text(POST_SOURCE),
                "source_id": "d.post_id::text",
                "key": "lpad(to_hex(d.id), 13, '0')",
                "text": "d.text",
                "state": "CASE WHEN d.failed THEN 'failed' ELSE 'published' END",
                "attempts": "CASE WHEN d.failed THEN 5 ELSE 1 END",
                "next_attempt_at": "d.sent_at",
                "first_attempt_at": "d.sent_at",
                "platform_id": "CASE WHEN d.failed THEN '' ELSE 'p' || d.id END",
                "url": "CASE WHEN d.failed THEN '' ELSE 'https://replay.invalid/p/' || d.id END",
                "published_at": "CASE WHEN d.failed THEN NULL ELSE d.sent_at END",
                "failure_reason": "CASE WHEN d.failed"
                " THEN 'The platform refused the post (bench).' ELSE '' END",
                "created_at": "d.sent_at - interval '1 minute'",
                "updated_at": "d.sent_at",
            },
            "FROM bench_deliv d",
        )
        insert_select(
            Post.accounts.through,
            {"post_id": "d.post_id", "connectedaccount_id": "d.account_id"},
            "FROM bench_deliv d",
        )
    with step("post metrics") as note:
        note["rows"] = insert_select(
            PostMetrics,
            {
                "delivery_id": "m.id",
                "agency_id": str(agency),
                "likes": "m.likes",
                "reposts": "m.likes / 6",
                "replies": "m.likes / 9",
                "quotes": "m.likes / 40",
                "impressions": "CASE WHEN m.has_impressions"
                " THEN (m.likes * (30 + floor(m.r_imp * 90)) + 150)::bigint END",
                "engagers_sampled": "least(100, m.likes + m.likes / 6)",
                "engagers_located": "floor(least(100, m.likes + m.likes / 6)"
                " * (0.3 + 0.2 * m.r_loc))::int",
                "engagers_local": "floor(floor(least(100, m.likes + m.likes / 6)"
                " * (0.3 + 0.2 * m.r_loc)) * (0.5 + 0.3 * m.r_loc))::int",
                # Likes + reposts when the engagers were sampled (never, with none).
                "sample_basis": "CASE WHEN m.likes > 0 THEN m.likes + m.likes / 6 END",
                "fetched_at": f"least(m.sent_at + interval '7 days', {end})",
                "next_fetch_at": f"least(m.sent_at + interval '7 days', {end}) + interval '1 day'",
            },
            "FROM (SELECT d.*, (floor(exp(d.r_like * 5.5)"
            " * CASE WHEN d.is_force THEN 4 ELSE 1 END) - 1)::int AS likes"
            " FROM bench_deliv d WHERE NOT d.failed) m",
        )


def load_audience(s: Structure) -> None:
    """A snapshot per account per day, taken at 06:00. Some attempts failed on the
    platform (stored as the collector stores them: ok=False, no figures, a note), some
    days have none, and a few accounts have none for the last days of the year, so a
    period's "latest snapshot of each account" is often not its last day's."""
    from beatdesk.insights.models import AudienceSnapshot

    agency = s.agency.pk
    with step("audience snapshots") as note:
        note["rows"] = insert_select(
            AudienceSnapshot,
            {
                "agency_id": str(agency),
                "account_id": "x.account_id",
                "day": "x.day",
                "followers": "CASE WHEN x.failed OR x.no_followers THEN NULL"
                " ELSE (x.base_followers * (1 + 0.0006 * x.i) + x.r1 * 20)::int END",
                "sampled": f"CASE WHEN x.failed THEN 0 ELSE {FOLLOWER_SAMPLE} END",
                "located": "CASE WHEN x.failed THEN 0 ELSE x.located END",
                "local": "CASE WHEN x.failed THEN 0"
                " ELSE floor(x.located * (0.55 + 0.2 * x.r2))::int END",
                "taken_at": "(x.day + time '06:00') AT TIME ZONE 'Europe/London'",
                "ok": "NOT x.failed",
                "note": "CASE WHEN x.failed"
                " THEN 'No follower count: the platform did not answer (bench).' ELSE '' END",
            },
            f"FROM (SELECT a.*, i, {sql_text(s.first_day.isoformat())}::date + i AS day,"
            " random() AS r1, random() AS r2, floor(150 + random() * 60)::int AS located,"
            f" random() < {SNAPSHOT_FAILED!r} AS failed, random() AS r_missing"
            f" FROM bench_acc a, generate_series(0, {DAYS - 1}) i) x"
            f" WHERE x.r_missing >= {SNAPSHOT_MISSING!r}"
            f" AND NOT (mod(x.pos, {SNAPSHOTS_STOP_EVERY}) = {SNAPSHOTS_STOP_EVERY - 1}"
            f" AND x.i >= {DAYS - SNAPSHOTS_STOP_DAYS})",
        )


def finish_load(*, replica: bool) -> None:
    """Sequences past the loaded ids, staging tables dropped, foreign keys checked."""
    from beatdesk.agencies.models import Area
    from beatdesk.channels.models import ConnectedAccount, Delivery, InboundMessage
    from beatdesk.inbox.models import Conversation, MessageTriage, PublicContact
    from beatdesk.insights.models import AudienceSnapshot, PostMetrics
    from beatdesk.intelligence.models import IntelligenceReport
    from beatdesk.publishing.models import Post

    with step("sequences, staging dropped"):
        for model in (
            PublicContact,
            Conversation,
            InboundMessage,
            IntelligenceReport,
            Post,
            Delivery,
        ):
            table = model._meta.db_table
            execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT max(id) FROM {table}))"
            )
        for table in (
            "bench_conv",
            "bench_f1",
            "bench_fagg",
            "bench_ir",
            "bench_post",
            "bench_deliv",
            "bench_slot",
            "bench_pslot",
            "bench_nbh",
            "bench_district",
            "bench_force_acc",
            "bench_team_acc",
            "bench_acc",
            "bench_staff",
        ):
            execute(f"DROP TABLE {table}")
    if replica:
        execute("SET session_replication_role = DEFAULT")
        with step("foreign keys checked"):
            check_foreign_keys(
                [
                    PublicContact,
                    Conversation,
                    InboundMessage,
                    MessageTriage,
                    IntelligenceReport,
                    IntelligenceReport.messages.through,
                    Post,
                    Post.accounts.through,
                    Delivery,
                    PostMetrics,
                    AudienceSnapshot,
                    Area,
                    ConnectedAccount,
                ]
            )
