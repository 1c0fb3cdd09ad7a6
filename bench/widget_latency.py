"""Visitor sockets sending messages: Parley's widget socket against a bare Channels relay, in one run.

    .venv/bin/python bench/widget_latency.py [--sockets 500] [--seconds 20] [--overload-seconds 15]
                                             [--capacity-step-seconds 5] [--phases steady,capacity,overload]

Both servers are one uvicorn process each, on the same Redis; this process plays the visitors
(websockets), and a process of its own the agents: a member of each server's receiving group on the
channel layer, as an open inbox is. (In the visitors' process, the agent's receive loop, one Redis
round trip per message, fell behind the visitors' own work: Parley's acks came back in 30 ms while
its pushes were counted 500 ms late.)
Each server's --sockets connect once, in batches of 50 (a "connect" line each: how long, and the
server's CPU per socket, Parley's hello included), and stay open through every phase.

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

    def timeline(self) -> str:
        """p50/p99 of the messages sent in each second of the phase, for finding when time was lost."""
        seconds: dict[int, list[float]] = {}
        for key, latency in self.pushed.items():
            seconds.setdefault(int(self.sent[key] - self.started), []).append(latency * 1000)
        rows = []
        for second, values in sorted(seconds.items()):
            values.sort()
            rows.append(
                f"{second:>3}s {values[len(values) // 2]:7.1f} {values[int(0.99 * (len(values) - 1))]:7.1f}"
            )
        return "  second   p50 ms  p99 ms\n  " + "\n  ".join(rows)

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
    """An agent: one member of a group on the channel layer, writing down when each message arrives."""

    def __init__(self, prefix: str, group: str, parse, out) -> None:
        from channels_redis.core import RedisChannelLayer

        # The same socket timeout as Parley's settings (see CHANNEL_LAYERS there): above channels-redis's
        # 5 s blocking pop, or an idle listener dies under redis-py 8.
        hosts = [{"address": os.environ["REDIS_URL"], "socket_timeout": 15}]
        self.layer = RedisChannelLayer(hosts=hosts, prefix=prefix)
        self.group, self.parse, self.out = group, parse, out

    async def start(self) -> None:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        # Straight off the channel's queue, everything waiting at once: channels-redis's receive
        # costs three round trips to Redis a message (a script, the pop, a backup copy), and this
        # process spent half a core on them at 500 msg/s, taken from the servers it measures.
        channel = self.channel[: self.channel.index("!") + 1]
        redis = self.layer.connection(self.layer.consistent_hash(channel))
        queue = self.layer.prefix + channel
        while True:
            popped = await redis.bzpopmin(queue, timeout=5)
            if popped is None:
                continue
            members = [popped[1], *(member for member, _ in await redis.zpopmin(queue, 1000))]
            now = time.monotonic()
            for member in members:
                key, sent_at = self.parse(self.layer.deserialize(member))
                if key is not None:
                    self.out.append(f"{key} {now - sent_at}\n")


async def _agents_main(path: str) -> None:
    """The agents' process (--agents-out): both servers' groups heard in a process of their own, as
    an agent's inbox is, so that the visitors' event loop cannot delay what they hear. Each arrival
    is a line "key latency" in `path`; monotonic clocks are the same in every process of a machine."""
    schema = os.environ["BENCH_SCHEMA"]
    out: list[str] = []
    listeners = [
        GroupListener("bench-relay", "relay.agents", _parse_relay, out),
        GroupListener(f"{PREFIX}:asgi", f"parley.{schema}.agents", _parse_parley, out),
    ]
    for listener in listeners:
        await listener.start()
    print("ready", flush=True)
    with open(path, "a") as file:
        while True:
            await asyncio.sleep(0.1)
            if out:
                lines, out[:] = "".join(out), []
                file.write(lines)
                file.flush()


class Agents:
    """The agents' process, and what it has heard so far."""

    def __init__(self) -> None:
        import subprocess
        import sys
        import tempfile

        with tempfile.NamedTemporaryFile(prefix="parley-bench-agents-", delete=False) as file:
            self.path = file.name
        # Agents of earlier runs stay members of the relay's group (a day, channels-redis's group
        # expiry) and the relay would fan every message out to them too.
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).delete("bench-relay:group:relay.agents")
        self.offset = 0
        self.heard: dict[str, float] = {}
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--agents-out", self.path], stdout=subprocess.PIPE, text=True
        )
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the agents' process did not start")

    def collect(self, phase: Phase) -> None:
        with open(self.path) as file:
            file.seek(self.offset)
            text = file.read()
        complete = text[: text.rfind("\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            key, latency = line.rsplit(" ", 1)
            self.heard.setdefault(key, float(latency))
        for key in phase.sent:
            if key in self.heard:
                phase.pushed[key] = self.heard.pop(key)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        os.unlink(self.path)


def _parse_relay(event: dict) -> tuple[str | None, float]:
    key, sent_at = event.get("text", "|0").split("|")
    return key, float(sent_at)


def _parse_parley(event: dict) -> tuple[str | None, float]:
    message = event.get("message") or {}
    if event.get("type") != "message.created" or "|" not in message.get("body", ""):
        return None, 0.0
    key, sent_at = message["body"].split("|")
    return key, float(sent_at)


async def _schedule(index: int, rate: float, start: Start, phase: Phase):
    """Yield (key, send time) at `rate` per second, from a random phase, until the phase ends."""
    interval = 1 / rate
    next_at = time.monotonic() + random.random() * interval
    seq = 0
    while next_at < start.until:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        seq += 1
        key, now = f"{phase.name}:{index}-{seq}", time.monotonic()
        phase.sent[key] = now
        yield key, now
        next_at += interval


class RelayVisitor:
    """A socket that sends and reads nothing back, as the relay expects. The relay closes a socket
    whose group_send failed: it is opened again for the next phase; what it missed is lost."""

    def __init__(self, url: str, index: int) -> None:
        self.url, self.index, self.ws = url, index, None
        self.phase: Phase | None = None

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, origin=ORIGIN, max_queue=None, open_timeout=60, ping_interval=None)

    async def run(self, rate: float, start: Start) -> None:
        from websockets.protocol import State

        if self.ws is None or self.ws.state is not State.OPEN:
            await self.connect()
        await start.go.wait()
        async for key, now in _schedule(self.index, rate, start, self.phase):
            await self.ws.send(f"{key}|{now}")

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


class ParleyVisitor:
    """Behaves as the widget does: a message stays in its outbox until acknowledged, and a dropped
    socket is reopened (same visitor token) and the outbox sent again, under the same client ids."""

    def __init__(self, url: str, index: int) -> None:
        self.url, self.index = url, index
        self.phase: Phase | None = None
        self.token = None
        self.outbox: dict[str, str] = {}  # client_id -> frame, in the order written
        self.ws = None
        self.reader: asyncio.Task | None = None

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
                if self.phase is not None:
                    self.phase.problems.append(f"connect: {exc!r}"[:100])
                await asyncio.sleep(min(5, 0.2 * 2**attempt))
        raise RuntimeError("visitor could not reconnect")

    async def read(self, ws) -> None:
        try:
            async for frame in ws:
                data = json.loads(frame)
                if data.get("type") == "ack":
                    frame = self.outbox.pop(data["client_id"], None)
                    if frame is not None and self.phase is not None:
                        sent_at = float(json.loads(frame)["body"].split("|")[1])
                        self.phase.acked.append(time.monotonic() - sent_at)
                elif data.get("type") == "error" and self.phase is not None:
                    self.phase.refused += 1
        except Exception as exc:
            if self.phase is not None:
                self.phase.problems.append(f"socket dropped: {exc!r}"[:100])

    async def reconnect(self) -> None:
        self.phase.reconnects += 1
        await self.connect()

    async def send(self, frame: str) -> None:
        while True:
            if self.reader.done():  # the socket dropped: reopen it, which resends the outbox
                await self.reconnect()
                return
            try:
                await self.ws.send(frame)
                return
            except Exception:
                await asyncio.sleep(0)  # the reader notices the drop

    async def run(self, rate: float, start: Start) -> None:
        if self.reader is None or self.reader.done():
            await self.reconnect()
        await start.go.wait()
        async for key, now in _schedule(self.index, rate, start, self.phase):
            client_id = str(uuid.uuid4())
            frame = json.dumps({"type": "message", "client_id": client_id, "body": f"{key}|{now}"})
            self.outbox[client_id] = frame
            await self.send(frame)
        deadline = time.monotonic() + 180  # late is allowed: wait for every ack
        while self.outbox and time.monotonic() < deadline:
            if self.reader.done():
                await self.reconnect()
            await asyncio.sleep(0.2)
        if self.outbox:
            self.phase.problems.append(f"{len(self.outbox)} never acknowledged")

    async def close(self) -> None:
        if self.reader is not None:
            self.reader.cancel()
        if self.ws is not None:
            await self.ws.close()


@dataclass
class Start:
    go: asyncio.Event = field(default_factory=asyncio.Event)
    until: float = 0.0


class Crowd:
    """One server's visitors: connected once (as a site's visitors arrive, in batches), then kept
    through every phase, so the phases measure messages, not handshakes."""

    def __init__(self, name: str, url: str, sockets: int, agents: Agents, pid: int) -> None:
        self.name, self.agents, self.pid = name, agents, pid
        self.parley = name == "parley"
        kind = ParleyVisitor if self.parley else RelayVisitor
        self.visitors = [kind(url, i) for i in range(sockets)]

    async def connect(self) -> str:
        cpu_before, started = _cpu_seconds(self.pid), time.monotonic()
        for first in range(0, len(self.visitors), 50):
            await asyncio.gather(*(v.connect() for v in self.visitors[first : first + 50]))
        took = time.monotonic() - started
        cpu_ms = (_cpu_seconds(self.pid) - cpu_before) * 1000 / len(self.visitors)
        what = "hello and welcome" if self.parley else "handshake"
        return (
            f"connect {self.name:<20} {len(self.visitors)} sockets ({what}) in {took:.1f} s, "
            f"server cpu {cpu_ms:.2f} ms per socket"
        )

    async def run_phase(self, name: str, rate_per_socket: float, seconds: float) -> Phase:
        phase = Phase(name)
        cpu_before = _cpu_seconds(self.pid)
        for visitor in self.visitors:
            visitor.phase = phase
        start = Start()
        tasks = [asyncio.create_task(v.run(rate_per_socket, start)) for v in self.visitors]
        await asyncio.sleep(0)
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
        self.agents.collect(phase)
        if self.parley:
            await asyncio.to_thread(_catch_up_from_database, phase)
        phase.server_cpu_ms = (_cpu_seconds(self.pid) - cpu_before) * 1000 / max(len(phase.sent), 1)
        return phase

    async def close(self) -> None:
        await asyncio.gather(*(v.close() for v in self.visitors), return_exceptions=True)


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


async def capacity_search(crowd: Crowd, seconds: float) -> float:
    """The highest rate one server process sustains with p99 under 1 s and nothing lost: offered
    rates rise by a quarter each step (from 1 msg/s per socket) until a step misses, or receives
    less than 90 % of what was offered. Returns the received msg/s of the last step that held."""
    held, per_socket, sockets = 0.0, 1.0, len(crowd.visitors)
    while True:
        phase = await crowd.run_phase(
            f"capacity {crowd.name} {per_socket * sockets:.0f}/s", per_socket, seconds
        )
        offered = per_socket * sockets
        ok = phase.percentile(0.99) < 1000 and phase.lost == 0 and phase.rate >= 0.9 * offered
        print(phase.line(), "" if ok else "<- misses", flush=True)
        if not ok:
            return held
        held, per_socket = phase.rate, per_socket * 1.25


async def bench(args, parley_url: str, relay_url: str, pids: dict[str, int], agents: Agents) -> int:
    phases = set(args.phases.split(","))
    crowds = {
        "relay": Crowd("relay", relay_url, args.sockets, agents, pids["relay"]),
        "parley": Crowd("parley", parley_url, args.sockets, agents, pids["parley"]),
    }
    for crowd in crowds.values():
        print(await crowd.connect(), flush=True)

    steady = {}
    for name, crowd in crowds.items():
        steady[name] = await crowd.run_phase(f"steady {name}", 1.0, args.seconds)
        print(steady[name].line(), flush=True)
        if args.timeline:
            print(steady[name].timeline(), flush=True)
    steady_relay, steady_parley = steady["relay"], steady["parley"]
    ratio = steady_parley.percentile(0.99) / steady_relay.percentile(0.99)
    latency_ok = ratio <= 2.0 and steady_parley.lost == 0
    print()
    print(
        f"widget_latency steady {args.sockets} sockets x 1 msg/s"
        f"{' (webhooks on)' if args.webhooks else ''}: "
        f"parley p99 {steady_parley.percentile(0.99):.1f} ms, "
        f"relay p99 {steady_relay.percentile(0.99):.1f} ms, {ratio:.1f}x (target <= 2x), "
        f"parley lost {steady_parley.lost} {'PASS' if latency_ok else 'FAIL'}"
    )
    print(
        f"widget_latency steady throughput: parley {steady_parley.rate:.0f} msg/s, "
        f"relay {steady_relay.rate:.0f} msg/s"
    )
    if "capacity" not in phases and "overload" not in phases:
        for crowd in crowds.values():
            await crowd.close()
        return 0 if latency_ok else 1

    capacities = {
        name: await capacity_search(crowd, args.capacity_step_seconds) for name, crowd in crowds.items()
    }
    sustained = capacities["relay"]
    overload_rate = max(2 * sustained, 2 * args.sockets) / args.sockets
    over = {}
    for name, crowd in crowds.items():
        over[name] = await crowd.run_phase(f"overload {name}", overload_rate, args.overload_seconds)
        print(over[name].line(), flush=True)
    over_relay, over_parley = over["relay"], over["parley"]
    for crowd in crowds.values():
        await crowd.close()

    overload_ok = over_parley.lost == 0
    alive_ok = over_parley.reconnects == 0
    print(
        f"widget_latency capacity (p99 < 1 s, lost 0): parley {capacities['parley']:.0f} msg/s, "
        f"relay {capacities['relay']:.0f} msg/s, "
        f"{capacities['parley'] / capacities['relay'] if capacities['relay'] else 0:.2f}x the relay"
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
    parser.add_argument("--timeline", action="store_true", help="per-second p50/p99 of the steady phase")
    parser.add_argument(
        "--phases", default="steady,capacity,overload", help="which phases to run, comma-separated"
    )
    parser.add_argument(
        "--webhooks",
        action="store_true",
        help="an endpoint wants conversation.created and message.created: each message also writes "
        "its webhook event and delivery in the same transaction (no worker runs: the write is measured)",
    )
    parser.add_argument("--agents-out", help=argparse.SUPPRESS)  # the agents' process, see Agents
    args = parser.parse_args()
    if args.agents_out:
        uvloop.run(_agents_main(args.agents_out))
        return 0

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
        if args.webhooks:
            from webhooks import services as webhook_services

            webhook_services.endpoint_create(
                url="http://127.0.0.1:9/never-called",
                event_types=["conversation.created", "message.created"],
            )
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
        agents = Agents()
        try:
            return uvloop.run(bench(args, parley_url, relay_url, pids, agents))
        finally:
            agents.stop()
    finally:
        stop(parley_server)
        stop(relay_server)


if __name__ == "__main__":
    raise SystemExit(main())
