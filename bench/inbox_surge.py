"""Surge: replay messages at 200/s into the demo set-up (SQLite) and time each one from
arrival to visible-and-triaged, with nothing lost.

    python bench/inbox_surge.py                 # 200 msg/s for 300 s, then a baseline
    python bench/inbox_surge.py --rate 200 --seconds 60 --baseline-seconds 30

Set-up: a fresh SQLite database in a temporary folder (WAL, as the demo), the demo
agencies loaded (Greater Manchester Police: 10 districts, 215 wards, teams), a replay
channel releasing synthetic messages (templates written for this bench: emergencies,
crime reports, questions, praise, spam, with places and profile locations) at
``--rate``. The production channels loop runs as its own process (``beatdesk channels
run``), exactly as ``make demo`` runs it; this process plays the operator's screen,
reading the queue from the database every 100 ms.

Times per message:
  arrival   ``received_at``: when the loop read it from the channel, before storing
  visible   when this process first saw its committed triage (an upper bound: +0-100 ms)
  scheduled when the replay released it (the platform side), for the whole path

Baseline, same process, same machine, right after: the identical pipeline with the
inbox switched off (``BEATDESK_INBOX_DISABLED=1`` in the loop), timing arrival to
visible-as-stored: what the channels loop costs without triage, routing and queueing.
Printed: p50/p95/p99/max of both and the ratio of medians; lost = released - triaged.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PLACES = [
    "Eccles",
    "Salford",
    "Wythenshawe",
    "Didsbury",
    "Bolton",
    "Wigan",
    "Rochdale",
    "Stockport",
    "Oldham",
    "Trafford",
    "Bury",
    "Tameside",
    "M14",
    "M20",
    "Sale",
]
TEMPLATES = [
    "There's a man with a knife outside the shop in {place} threatening people, please come now",
    "Someone has just broken into the car across the road in {place}, they're still there",
    "My bike was stolen from outside the library in {place} yesterday, how do I report it?",
    "Lads dealing drugs from the car park behind the flats in {place} every night",
    "What time does the front counter at the station open on Saturdays?",
    "Thanks to the officers who helped my mum after her fall in {place} today, brilliant",
    "Is the road still closed near the retail park in {place}?",
    "WIN a FREE holiday!!! click the link in our bio now",
    "Have you found the missing lad from {place} yet? I think I saw him by the bus station",
    "Absolutely useless, waited three hours and nobody came, I want to complain",
    "Lovely to see the PCSOs at the school gates in {place} this morning",
    "Fireworks being thrown at cars on the main road in {place} again",
]


def write_source(folder: Path, count: int) -> Path:
    rng = random.Random(7)
    path = folder / "replay" / "surge.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as out:
        for i in range(count):
            place = rng.choice(PLACES)
            record = {
                "id": str(i),
                "text": rng.choice(TEMPLATES).format(place=place) + f" #{i}",
                "author": f"person{rng.randrange(count // 3 + 1)}",
                "location": rng.choice(["", "Salford, UK", "Manchester", "Bolton", "Leeds", ""]),
            }
            out.write(json.dumps(record) + "\n")
    return path


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(folder: Path, *, rate: int, seconds: int, inbox: bool) -> dict[str, Any]:
    from django.db import connection

    from beatdesk.agencies.models import Agency
    from beatdesk.channels.models import ConnectedAccount, InboundMessage
    from beatdesk.inbox.models import MessageTriage

    count = rate * seconds
    gmp = Agency.objects.get(slug="gmp")
    # Quiet the demo's own replay so only the surge flows.
    ConnectedAccount.objects.filter(agency=gmp, kind="replay").update(status="disconnected")
    account = ConnectedAccount.objects.create(
        agency=gmp,
        kind="replay",
        label=f"surge {'inbox' if inbox else 'baseline'}",
        handle="replay",
        replay_source="surge.jsonl",
        replay_rate_per_minute=rate * 60,
        poll_interval_seconds=1,
    )
    env = dict(os.environ)
    if not inbox:
        env["BEATDESK_INBOX_DISABLED"] = "1"
    loop = subprocess.Popen(
        [sys.executable, "-m", "beatdesk.cli", "channels", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen: dict[int, float] = {}
    arrival: dict[int, float] = {}
    started = time.time()
    last_id = 0
    deadline = started + seconds + 120
    try:
        while time.time() < deadline:
            now = time.time()
            if inbox:
                rows = list(
                    MessageTriage.objects.filter(
                        message__account=account, message_id__gt=last_id
                    ).values_list("message_id", "message__received_at", "message__platform_id")
                )
            else:
                rows = list(
                    InboundMessage.objects.filter(account=account, pk__gt=last_id).values_list(
                        "pk", "received_at", "platform_id"
                    )
                )
            connection.close()  # a fresh snapshot each read, as a page load has
            for pk, received, platform_id in rows:
                last_id = max(last_id, pk)
                # The replay keeps releasing after the run; count only the run's messages.
                if int(platform_id.rpartition(":")[2]) < count:
                    seen.setdefault(pk, now)
                    arrival[pk] = received.timestamp()
            if len(seen) >= count:
                break
            time.sleep(0.1)
    finally:
        loop.send_signal(signal.SIGTERM)
        try:
            loop.wait(timeout=60)
        except subprocess.TimeoutExpired:
            loop.kill()
            print("the channels loop did not stop within 60 s of SIGTERM; killed it")
    account.refresh_from_db()
    stored = sum(
        int(pid.rpartition(":")[2]) < count
        for pid in InboundMessage.objects.filter(account=account).values_list(
            "platform_id", flat=True
        )
    )
    latencies = [seen[pk] - arrival[pk] for pk in seen]
    run_start = float(account.inbound_cursor.partition(":")[0] or started)
    scheduled = {
        m.pk: run_start + int(m.platform_id.rpartition(":")[2]) / rate
        for m in InboundMessage.objects.filter(account=account).only("pk", "platform_id")
    }
    whole_path = [seen[pk] - scheduled[pk] for pk in seen if pk in scheduled]
    account.status = "disconnected"
    account.save(update_fields=["status"])
    return {
        "released": count,
        "stored": stored,
        "visible": len(seen),
        "latencies": latencies,
        "whole_path": whole_path,
        "elapsed": time.time() - started,
    }


def report(name: str, result: dict[str, Any]) -> float:
    latencies = result["latencies"]
    whole = result["whole_path"]
    assert isinstance(latencies, list) and isinstance(whole, list)
    print(
        f"\n{name}: released {result['released']}, stored {result['stored']}, "
        f"visible {result['visible']}, lost {int(result['released']) - int(result['visible'])}"
    )
    if latencies:
        for label, values in (("arrival -> visible ", latencies), ("released -> visible", whole)):
            print(
                f"  {label} p50 {statistics.median(values):.3f} s"
                f"  p95 {percentile(values, 95):.3f} s  p99 {percentile(values, 99):.3f} s"
                f"  max {max(values):.3f} s"
            )
    return statistics.median(latencies) if latencies else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=300)
    parser.add_argument("--baseline-seconds", type=int, default=60)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="beatdesk-surge-"))
    os.environ["BEATDESK_VAR_DIR"] = str(folder)
    os.environ["BEATDESK_DATABASE_URL"] = f"sqlite:///{folder}/surge.sqlite3"
    os.environ["BEATDESK_REPLAY_DIR"] = str(folder / "replay")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    write_source(folder, args.rate * max(args.seconds, args.baseline_seconds))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from beatdesk.agencies.demo import load_demo

    load_demo()
    print(f"surge: {args.rate} msg/s for {args.seconds} s into the demo set-up (SQLite, {folder})")
    surge = run(folder, rate=args.rate, seconds=args.seconds, inbox=True)
    surge_median = report("Beatdesk (ingest + triage + route + queue)", surge)
    base = run(folder, rate=args.rate, seconds=args.baseline_seconds, inbox=False)
    base_median = report("baseline (ingest only, inbox off)", base)
    latencies = surge["latencies"]
    assert isinstance(latencies, list)
    print(f"\nmedian ratio Beatdesk / baseline: {surge_median / base_median:.2f}")
    p99 = percentile(latencies, 99) if latencies else float("inf")
    lost = int(surge["released"]) - int(surge["visible"])
    verdict = "meets" if p99 <= 2.0 and lost == 0 else "MISSES"
    print(f"target p99 <= 2 s and nothing lost: {verdict} (p99 {p99:.3f} s, lost {lost})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
