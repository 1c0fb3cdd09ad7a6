"""Visitor sockets sending messages: Parley's widget socket against a bare Channels relay, in one run.

    .venv/bin/python bench/widget_latency.py [--sockets 500] [--seconds 20] [--overload-seconds 15]
                                             [--capacity-step-seconds 5]

Both servers are one uvicorn process each, on the same Redis; this process plays the visitors
(websockets) and an agent: a member of the receiving group on the channel layer, as an open inbox is.

  steady    --sockets visitors each send 1 message/s, to the relay, then to Parley. Printed: p50/p95/p99
            of send-to-agent-group-receive latency, and messages/s received.
  capacity  for each server, the highest rate it sustains with p99 under 1 s and nothing lost:
            offered rates rise by a quarter every --capacity-step-seconds from 1 msg/s per socket.
  overload  about twice the relay's capacity, to both. The relay loses what channels-redis drops over its
            capacity. Parley stores every message first, so its agent catches up by id (from
            PostgreSQL) whatever the push lost: late, never lost.

Targets: Parley's steady p99 at most 2x the relay's; Parley loses no message in either phase, and
keeps every socket through the overload (no keepalive timeouts, no reconnects).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
import uuid
from dataclasses import dataclass, field

import uvloop
from _support import PROJECT_DIR, free_port, fresh_database, start_uvicorn, stop

PREFIX = "parley-bench"
ORIGIN = "http://bench-visitors.localhost"


@dataclass
class Phase:
    name: str
    sent: dict[str, float] = field(default_factory=dict)  # message key -> monotonic send time
    pushed: dict[str, float] = field(default_factory=dict)  # message key -> latency (s), via the push
    caught_up: set[str] = field(default_factory=set)  # received only by catching up from the database
    refused: int = 0
    reconnects: int = 0
    server_cpu_ms: float = 0.0  # server process CPU per message sent
    acked: list[float] = field(
        default_factory=list
    )  # send-to-ack times (s): the store, as the visitor sees it
    problems: list[str] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0

    @property
    def lost(self) -> int:
        return len(set(self.sent) - set(self.pushed) - self.caught_up)

    def percentile(self, q: float) -> float:
        values = sorted(self.pushed.values())
        if not values:
            return float("nan")
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    def _ack(self, q: float) -> float:
        values = sorted(self.acked)
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    @property
    def rate(self) -> float:
        """Messages received per second, from the first send to the last receipt (a server that
        falls behind delivers over a longer time than the visitors took to send)."""
        if not self.pushed:
            return 0.0
        last = max(self.sent[key] + latency for key, latency in self.pushed.items())
        return len(self.pushed) / max(last - self.started, self.ended - self.started, 1e-9)

    def line(self) -> str:
        return (
            f"{self.name:<28} sent {len(self.sent):>6}  received {len(self.pushed):>6} "
            f"({self.rate:>6.0f} msg/s)  p50 {self.percentile(0.5):7.1f} ms  "
            f"p95 {self.percentile(0.95):7.1f} ms  p99 {self.percentile(0.99):7.1f} ms  "
            f"late {len(self.caught_up):>5}  lost {self.lost}"
            + f"  server cpu {self.server_cpu_ms:.2f} ms/msg"
            + (f"  reconnects {self.reconnects}" if self.reconnects else "")
            + (f"  ack p50 {self._ack(0.5):.1f} ms p99 {self._ack(0.99):.1f} ms" if self.acked else "")
        )


class GroupListener:
    """An agent: one member of a group on the channel layer, timing each message from its send time."""

    def __init__(self, prefix: str, group: str, parse) -> None:
        from channels_redis.core import RedisChannelLayer

        # The same socket timeout as Parley's settings (see CHANNEL_LAYERS there): above channels-redis's
        # 5 s blocking pop, or an idle listener dies under redis-py 8.
        hosts = [{"address": os.environ["REDIS_URL"], "socket_timeout": 15}]
        self.layer = RedisChannelLayer(hosts=hosts, prefix=prefix)
        self.group, self.parse, self.phase = group, parse, None
        self.timeouts = 0

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        import redis

        while True:
            try:
                event = await self.layer.receive(self.channel)
            except redis.exceptions.TimeoutError:
                self.timeouts += 1
                continue
            now = time.monotonic()
            key, sent_at = self.parse(event)
            if key is not None and self.phase is not None and key in self.phase.sent:
                self.phase.pushed.setdefault(key, now - sent_at)


def _parse_relay(event: dict) -> tuple[str | None, float]:
    key, sent_at = event.get("text", "|0").split("|")
    return key, float(sent_at)


def _parse_parley(event: dict) -> tuple[str | None, float]:
    message = event.get("message") or {}
    if event.get("type") != "message.created" or "|" not in message.get("body", ""):
        return None, 0.0
    key, sent_at = message["body"].split("|")
    return key, float(sent_at)


async def _visitor(url: str, phase: Phase, rate: float, start: Start, parley: bool, index: int) -> None:
    if parley:
        await ParleyVisitor(url, phase, index).run(rate, start)
        return
    from websockets.asyncio.client import connect

    async with connect(url, origin=ORIGIN, max_queue=None, open_timeout=60, ping_interval=None) as ws:
        start.connected += 1
        await start.go.wait()
        async for key, now in _schedule(index, rate, start, phase):
            await ws.send(f"{key}|{now}")


async def _schedule(index: int, rate: float, start: Start, phase: Phase):
    """Yield (key, send time) at `rate` per second, from a random phase, until the phase ends."""
    interval = 1 / rate
    next_at = time.monotonic() + random.random() * interval
    seq = 0
    while next_at < start.until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        seq += 1
        key, now = f"{index}-{seq}", time.monotonic()
        phase.sent[key] = now
        yield key, now
        next_at += interval


class ParleyVisitor:
    """Behaves as the widget does: a message stays in its outbox until acknowledged, and a dropped
    socket is reopened (same visitor token) and the outbox sent again, under the same client ids."""

    def __init__(self, url: str, phase: Phase, index: int) -> None:
        self.url, self.phase, self.index = url, phase, index
        self.token = None
        self.outbox: dict[str, str] = {}  # client_id -> frame, in the order written
        self.ws = None

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        for attempt in range(20):
            try:
                self.ws = await connect(
                    self.url, origin=ORIGIN, max_queue=None, open_timeout=60, ping_interval=None
                )
                await self.ws.send(json.dumps({"type": "hello", "token": self.token}))
                while (welcome := json.loads(await self.ws.recv()))["type"] != "welcome":
                    pass
                self.token = welcome["token"]
                self.reader = asyncio.create_task(self.read(self.ws))
                for frame in list(self.outbox.values()):  # whatever was not acknowledged, in order
                    await self.ws.send(frame)
                return
            except Exception as exc:
                self.phase.problems.append(f"connect: {exc!r}"[:100])
                await asyncio.sleep(min(5, 0.2 * 2**attempt))
        raise RuntimeError("visitor could not reconnect")

    async def read(self, ws) -> None:
        try:
            async for frame in ws:
                data = json.loads(frame)
                if data.get("type") == "ack":
                    frame = self.outbox.pop(data["client_id"], None)
                    if frame is not None:
                        sent_at = float(json.loads(frame)["body"].split("|")[1])
                        self.phase.acked.append(time.monotonic() - sent_at)
                elif data.get("type") == "error":
                    self.phase.refused += 1
        except Exception as exc:
            self.phase.problems.append(f"socket dropped: {exc!r}"[:100])

    async def send(self, frame: str) -> None:
        while True:
            if self.reader.done():  # the socket dropped: reopen it, which resends the outbox
                self.phase.reconnects += 1
                await self.connect()
                return
            try:
                await self.ws.send(frame)
                return
            except Exception:
                await asyncio.sleep(0)  # the reader notices the drop

    async def run(self, rate: float, start: Start) -> None:
        await self.connect()
        start.connected += 1
        await start.go.wait()
        async for key, now in _schedule(self.index, rate, start, self.phase):
            client_id = str(uuid.uuid4())
            frame = json.dumps({"type": "message", "client_id": client_id, "body": f"{key}|{now}"})
            self.outbox[client_id] = frame
            await self.send(frame)
        deadline = time.monotonic() + 180  # late is allowed: wait for every ack
        while self.outbox and time.monotonic() < deadline:
            if self.reader.done():
                self.phase.reconnects += 1
                await self.connect()
            await asyncio.sleep(0.2)
        if self.outbox:
            self.phase.problems.append(f"{len(self.outbox)} never acknowledged")
        self.reader.cancel()
        await self.ws.close()


@dataclass
class Start:
    go: asyncio.Event = field(default_factory=asyncio.Event)
    until: float = 0.0
    connected: int = 0


async def run_phase(name, url, sockets, rate_per_socket, seconds, listener, parley, server) -> Phase:
    phase = Phase(name)
    cpu_before = _cpu_seconds(server)
    listener.phase = phase
    start = Start()
    tasks = []
    # Everyone connects first (in batches, as a site's visitors arrive), then all send together.
    for i in range(sockets):
        tasks.append(asyncio.create_task(_visitor(url, phase, rate_per_socket, start, parley, i)))
        if i % 50 == 49:
            await asyncio.sleep(0.1)
    deadline = time.monotonic() + 60
    while start.connected < sockets and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    phase.started = time.monotonic()
    start.until = phase.started + seconds
    start.go.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    failures = [r for r in results if isinstance(r, Exception)]
    if failures:
        print(f"  {len(failures)} visitor sockets failed, e.g. {failures[0]!r}")
    if phase.problems:
        print(f"  {len(phase.problems)} visitor problems, e.g. {phase.problems[:3]}")
    phase.ended = start.until
    await asyncio.sleep(3)  # the last pushes in flight
    if parley:
        await asyncio.to_thread(_catch_up_from_database, phase)
    phase.server_cpu_ms = (_cpu_seconds(server) - cpu_before) * 1000 / max(len(phase.sent), 1)
    listener.phase = None
    return phase


def _cpu_seconds(pid: int) -> float:
    import psutil

    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def _catch_up_from_database(phase: Phase) -> None:
    """What an agent does after a gap or reconnect: ask PostgreSQL for everything it has not seen."""
    from inbox.models import Message
    from tenants.context import workspace_schema

    with workspace_schema(os.environ["BENCH_SCHEMA"]):
        for body in Message.objects.filter(body__contains="|").values_list("body", flat=True).iterator():
            key = body.split("|")[0]
            if key in phase.sent and key not in phase.pushed:
                phase.caught_up.add(key)


async def capacity_search(
    name: str, url: str, sockets: int, listener, parley: bool, pid: int, seconds: float
) -> float:
    """The highest rate one server process sustains with p99 under 1 s and nothing lost: offered
    rates rise by a quarter each step (from 1 msg/s per socket) until a step misses, or receives
    less than 90 % of what was offered. Returns the received msg/s of the last step that held."""
    held, per_socket = 0.0, 1.0
    while True:
        phase = await run_phase(
            f"capacity {name} {per_socket * sockets:.0f}/s",
            url,
            sockets,
            per_socket,
            seconds,
            listener,
            parley,
            pid,
        )
        offered = per_socket * sockets
        ok = phase.percentile(0.99) < 1000 and phase.lost == 0 and phase.rate >= 0.9 * offered
        print(phase.line(), "" if ok else "<- misses", flush=True)
        if not ok:
            return held
        held, per_socket = phase.rate, per_socket * 1.25


async def bench(args, parley_url: str, relay_url: str, pids: dict[str, int]) -> int:
    schema = os.environ["BENCH_SCHEMA"]
    relay = GroupListener("bench-relay", "relay.agents", _parse_relay)
    parley = GroupListener(f"{PREFIX}:asgi", f"parley.{schema}.agents", _parse_parley)
    await relay.start()
    await parley.start()

    results = []
    for name, url, listener, is_parley in (
        ("relay", relay_url, relay, False),
        ("parley", parley_url, parley, True),
    ):
        phase = await run_phase(
            f"steady {name}", url, args.sockets, 1.0, args.seconds, listener, is_parley, pids[name]
        )
        print(phase.line(), flush=True)
        results.append(phase)
    steady_relay, steady_parley = results

    capacities = {}
    for name, url, listener, is_parley in (
        ("relay", relay_url, relay, False),
        ("parley", parley_url, parley, True),
    ):
        capacities[name] = await capacity_search(
            name, url, args.sockets, listener, is_parley, pids[name], args.capacity_step_seconds
        )
    sustained = capacities["relay"]
    overload_rate = max(2 * sustained, 2 * args.sockets) / args.sockets
    over = []
    for name, url, listener, is_parley in (
        ("relay", relay_url, relay, False),
        ("parley", parley_url, parley, True),
    ):
        phase = await run_phase(
            f"overload {name}",
            url,
            args.sockets,
            overload_rate,
            args.overload_seconds,
            listener,
            is_parley,
            pids[name],
        )
        print(phase.line(), flush=True)
        over.append(phase)
    over_relay, over_parley = over

    ratio = steady_parley.percentile(0.99) / steady_relay.percentile(0.99)
    latency_ok = ratio <= 2.0 and steady_parley.lost == 0
    overload_ok = over_parley.lost == 0
    alive_ok = over_parley.reconnects == 0
    print()
    print(
        f"widget_latency steady {args.sockets} sockets x 1 msg/s: "
        f"parley p99 {steady_parley.percentile(0.99):.1f} ms, "
        f"relay p99 {steady_relay.percentile(0.99):.1f} ms, {ratio:.1f}x (target <= 2x), "
        f"parley lost {steady_parley.lost} {'PASS' if latency_ok else 'FAIL'}"
    )
    print(
        f"widget_latency capacity (p99 < 1 s, lost 0): parley {capacities['parley']:.0f} msg/s, "
        f"relay {capacities['relay']:.0f} msg/s, "
        f"{capacities['parley'] / capacities['relay'] if capacities['relay'] else 0:.2f}x the relay"
    )
    print(
        f"widget_latency steady throughput: parley {steady_parley.rate:.0f} msg/s, "
        f"relay {steady_relay.rate:.0f} msg/s"
    )
    print(
        f"widget_latency overload {overload_rate * args.sockets:.0f} msg/s offered "
        f"(2x the relay's {sustained:.0f}): "
        f"relay lost {over_relay.lost}, parley lost {over_parley.lost} "
        f"({len(over_parley.caught_up)} late, caught up by id) {'PASS' if overload_ok else 'FAIL'}"
    )
    print(
        f"widget_latency overload sockets kept: parley reconnects {over_parley.reconnects} of {args.sockets} "
        f"(target 0) {'PASS' if alive_ok else 'FAIL'}"
    )
    return 0 if latency_ok and overload_ok and alive_ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sockets", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--overload-seconds", type=int, default=15)
    parser.add_argument("--capacity-step-seconds", type=float, default=5)
    args = parser.parse_args()

    os.environ["REDIS_KEY_PREFIX"] = PREFIX
    fresh_database("parley_bench_latency")
    from django.conf import settings

    from accounts.models import User
    from inbox import services as inbox_services
    from tenants import services
    from tenants.context import workspace_schema

    owner = User.objects.create_user("bench@example.com", None)
    workspace = services.workspace_create(owner=owner, name="Bench", slug="bench")
    with workspace_schema(workspace.schema_name):
        website, _ = inbox_services.website_create(workspace=workspace, name="Bench", allowed_origins=ORIGIN)
    os.environ["BENCH_SCHEMA"] = workspace.schema_name
    os.environ["REDIS_URL"] = settings.REDIS_URL

    parley_port, relay_port = free_port(), free_port()
    unlimited = {f"PARLEY_RATE_{k}": "1000000" for k in ("VISITOR_MESSAGES", "IP_MESSAGES", "IP_CONNECTS")}
    logs = PROJECT_DIR / ".data" / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    parley_server = start_uvicorn(
        "config.asgi:application",
        parley_port,
        # As in production: DEBUG off (no query log, no debug cursors).
        env={**unlimited, "REDIS_KEY_PREFIX": PREFIX, "DJANGO_DEBUG": "false"},
        log=logs / "parley.log",
    )
    relay_server = start_uvicorn("bench.relay_app:application", relay_port, log=logs / "relay.log")
    print(
        f"servers: parley :{parley_port}, relay :{relay_port}; "
        f"parley's channel layer {settings.CHANNEL_LAYERS['default']['CONFIG']}"
    )
    try:
        parley_url = f"ws://127.0.0.1:{parley_port}/ws/widget/?site={website.site_key}"
        relay_url = f"ws://127.0.0.1:{relay_port}/relay/"
        pids = {"parley": parley_server.pid, "relay": relay_server.pid}
        # uvloop, as the servers have it (uvicorn's default): the load generator should be the
        # lighter side, or its own stalls end up in both servers' figures.
        return uvloop.run(bench(args, parley_url, relay_url, pids))
    finally:
        stop(parley_server)
        stop(relay_server)


if __name__ == "__main__":
    raise SystemExit(main())
