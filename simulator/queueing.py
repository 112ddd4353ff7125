"""Packet-level queue simulation of one link direction at peak: delay, jitter and loss.

Definition. One output port sends at the link's rate from a **drop-tail**
buffer of ``buffer_bytes``: a packet that arrives when the bytes in the port
(waiting and in service) plus its own size exceed the buffer is dropped;
otherwise it leaves after every packet before it (FIFO) and its own
transmission time ``size × 8 / rate``. The packets come from the demands that
cross the link direction at peak (:mod:`simulator.load`), each a *source* with
the demand's peak rate and packet size (tunnel overhead included):

- ``video``: 25 frames/s in groups of 25 (one I-frame four times the size of
  each of the 24 P-frames, the mean rate kept); every frame is cut into
  packets of the service's size that reach the port back to back, at the
  rate of the link that brings them (all at once for a stream that starts at
  the port): the burst an encoder hands to the network. A cascade demand is
  one stream per site it carries;
- ``voip``: constant bit rate, one packet every ``size × 8 / rate`` seconds;
- everything else: Poisson arrivals of the service's packet size.

Every source starts at a random phase; a source's random stream depends only
on the seed and its position, so both engines see the same arrivals.

Two engines give the same answer (the tests check it):

- ``simpy`` runs the sources and the port as SimPy processes around a
  ``simpy.Store``, the way ns.py builds its ports;
- ``fast`` (default) is a plain event loop: arrivals merged in time order and
  the port's departures kept in a deque (Lindley's recursion with the buffer
  check). One port with FIFO service needs no event calendar, so it does the
  same work at several times the packet rate (see ``benchmarks/bench_capacity.py``).

Reported: packets offered, delivered and dropped (loss), one-way delay in the
port (queueing + transmission) at the 50/90/99/99.9th percentiles and max,
jitter (mean absolute difference of consecutive delays of a source, weighted
by packets: RFC 3393's IPDV), and the same per service kind.

Example: an 8 Mbit/s video stream on a 10 Mbit/s port. Its I-frames
(4 × 8e6 / 8 / 28 ≈ 143 kB each) overflow a 64 kB buffer, so packets of
every I-frame are lost; a 200 kB buffer holds a whole I-frame and loses none::

    >>> video = [Source("v", "video", 8e6, 1200)]
    >>> small = simulate_queue(video, capacity_bps=10e6, buffer_bytes=64_000, duration=2.0, seed=1)
    >>> large = simulate_queue(video, capacity_bps=10e6, buffer_bytes=200_000, duration=2.0, seed=1)
    >>> small.dropped > 0, large.dropped, small.dropped + small.delivered == large.delivered
    (True, 0, True)
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from topology.errors import GovnetError

from .load import Assignment, Direction

FPS = 25
GOP = 25
I_FRAME_RATIO = 4.0
DEFAULT_BUFFER = 64_000  # bytes: a small access-router port (the least a port gets)
BUFFER_SECONDS = 0.05    # a port buffers 50 ms at its rate, at least DEFAULT_BUFFER
DEFAULT_DURATION = 5.0   # seconds of simulated time
ENGINES = ("fast", "simpy")


class QueueError(GovnetError):
    """A queue simulation was asked for something that cannot be simulated."""


@dataclass(frozen=True, slots=True)
class Source:
    """One demand's packets into the port: peak rate (bit/s) and packet size (bytes)."""

    name: str
    kind: str
    rate: float
    packet_size: int
    pace_bps: float | None = None  # video: the rate a frame's packets arrive at (the link before); None: at once


@dataclass(frozen=True)
class KindStats:
    packets: int
    dropped: int
    loss: float
    p99: float
    jitter: float


@dataclass(frozen=True)
class QueueResult:
    """What the port did: counts, delay percentiles (s), jitter (s), loss, per service kind."""

    engine: str
    duration: float
    capacity_bps: float
    buffer_bytes: int
    offered_utilisation: float
    packets: int
    delivered: int
    dropped: int
    loss: float
    delay_p50: float
    delay_p90: float
    delay_p99: float
    delay_p999: float
    delay_max: float
    delay_mean: float
    jitter: float
    max_queue_bytes: int
    by_kind: dict[str, KindStats] = field(default_factory=dict)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["by_kind"] = {k: asdict(v) for k, v in sorted(self.by_kind.items())}
        return out


# -- arrivals ---------------------------------------------------------------------------------

def source_arrivals(source: Source, index: int, duration: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, sizes) of every packet ``source`` offers in ``[0, duration)``, in time order."""
    rng = np.random.default_rng([seed, index])
    size = max(1, int(source.packet_size))
    empty = (np.zeros(0), np.zeros(0, dtype=np.int64))
    if source.rate <= 0:
        return empty
    if source.kind == "video":
        frame_mean = source.rate / 8.0 / FPS
        p_frame = frame_mean * GOP / (I_FRAME_RATIO + GOP - 1)
        starts = rng.random() / FPS + np.arange(0.0, duration * FPS + 1) / FPS
        starts = starts[starts < duration]
        first = int(rng.integers(GOP))
        frames = np.rint(np.where((np.arange(len(starts)) + first) % GOP == 0, I_FRAME_RATIO * p_frame, p_frame)).astype(np.int64)
        counts = -(-frames // size)
        times = np.repeat(starts, counts)
        if source.pace_bps:  # packets of a frame spaced by the link that delivers them
            first_of_frame = np.repeat(np.cumsum(counts) - counts, counts)
            times = times + (np.arange(len(times)) - first_of_frame) * (size * 8.0 / source.pace_bps)
        sizes = np.full(int(counts.sum()), size, dtype=np.int64)
        last = np.cumsum(counts) - 1  # the last packet of a frame carries the remainder
        sizes[last[counts > 0]] = (frames - (counts - 1) * size)[counts > 0]
        return times, sizes
    gap = size * 8.0 / source.rate
    if source.kind == "voip":
        times = rng.random() * gap + np.arange(0.0, duration / gap + 1) * gap
    else:
        n = int(duration / gap * 1.1) + 32
        times = np.cumsum(rng.exponential(gap, n))
        while times[-1] < duration:
            times = np.concatenate([times, times[-1] + np.cumsum(rng.exponential(gap, n))])
    times = times[times < duration]
    return times, np.full(len(times), size, dtype=np.int64)


def merged_arrivals(sources: Sequence[Source], duration: float, seed: int):
    """Every source's arrivals merged in time order: (times, sizes, source index, sequence) arrays."""
    parts = [source_arrivals(s, i, duration, seed) for i, s in enumerate(sources)]
    if not parts:
        return np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    times = np.concatenate([p[0] for p in parts])
    sizes = np.concatenate([p[1] for p in parts])
    src = np.concatenate([np.full(len(p[0]), i, dtype=np.int64) for i, p in enumerate(parts)])
    seq = np.concatenate([np.arange(len(p[0]), dtype=np.int64) for p in parts])
    order = np.lexsort((seq, src, times))  # by time, then source, then sequence
    return times[order], sizes[order], src[order], seq[order]


# -- engines ----------------------------------------------------------------------------------

def _fast(times: np.ndarray, sizes: np.ndarray, capacity: float, buffer: int):
    """FIFO drop-tail port as a loop: per packet delay (nan if dropped) and the peak backlog."""
    delays = np.full(len(times), np.nan)
    out = delays.tolist()
    in_port: deque[tuple[float, int]] = deque()  # (departure time, size)
    backlog = 0
    peak = 0
    last = 0.0
    per_bit = 8.0 / capacity
    popleft = in_port.popleft
    append = in_port.append
    for j, (t, size) in enumerate(zip(times.tolist(), sizes.tolist())):
        while in_port and in_port[0][0] <= t:
            backlog -= popleft()[1]
        if backlog + size > buffer:
            continue
        start = last if last > t else t
        last = start + size * per_bit
        append((last, size))
        backlog += size
        if backlog > peak:
            peak = backlog
        out[j] = last - t
    return np.array(out), peak


def _simpy(sources: Sequence[Source], duration: float, seed: int, capacity: float, buffer: int):
    """The same port with SimPy: one process per source, one for the port, a Store between them."""
    import simpy

    env = simpy.Environment()
    store = simpy.Store(env)
    state = {"backlog": 0, "peak": 0}
    records: dict[tuple[int, int], float] = {}

    def source(i: int, times: np.ndarray, sizes: np.ndarray):
        for k, (t, size) in enumerate(zip(times.tolist(), sizes.tolist())):
            if t > env.now:
                yield env.timeout(t - env.now)
            if state["backlog"] + size > buffer:
                records[(i, k)] = math.nan
                continue
            state["backlog"] += size
            if state["backlog"] > state["peak"]:
                state["peak"] = state["backlog"]
            store.put((t, i, k, size))

    def port():
        per_bit = 8.0 / capacity
        while True:
            t, i, k, size = yield store.get()
            yield env.timeout(size * per_bit)
            state["backlog"] -= size
            records[(i, k)] = env.now - t

    for i, s in enumerate(sources):
        env.process(source(i, *source_arrivals(s, i, duration, seed)))
    env.process(port())
    env.run()
    keys = sorted(records, key=lambda key: key)
    return records, keys, state["peak"]


def simulate_queue(sources: Sequence[Source], capacity_bps: float, buffer_bytes: int = DEFAULT_BUFFER,
                   duration: float = DEFAULT_DURATION, seed: int = 1, engine: str = "fast") -> QueueResult:
    """Simulate the port (see the module docstring) for ``duration`` seconds of offered traffic."""
    if engine not in ENGINES:
        raise QueueError(f"unknown queue engine '{engine}' (use {', '.join(ENGINES)})")
    if capacity_bps <= 0 or duration <= 0 or buffer_bytes <= 0:
        raise QueueError("capacity, duration and buffer must be positive")
    if engine == "fast":
        times, sizes, src, seq = merged_arrivals(sources, duration, seed)
        delays, peak = _fast(times, sizes, capacity_bps, buffer_bytes)
        order = np.lexsort((seq, src))
        per_source = list(zip(src[order].tolist(), delays[order].tolist()))
    else:
        records, keys, peak = _simpy(sources, duration, seed, capacity_bps, buffer_bytes)
        per_source = [(i, records[(i, k)]) for i, k in keys]
    return _summarise(engine, sources, per_source, duration, capacity_bps, buffer_bytes, peak)


def _summarise(engine: str, sources: Sequence[Source], per_source: list[tuple[int, float]], duration: float,
               capacity: float, buffer: int, peak: int) -> QueueResult:
    """Statistics from (source index, delay or nan) in per-source packet order."""
    delays = np.array([d for _, d in per_source], dtype=float)
    src = np.array([i for i, _ in per_source], dtype=np.int64)
    ok = ~np.isnan(delays)
    delivered = delays[ok]
    kinds = sorted({s.kind for s in sources})
    by_kind: dict[str, KindStats] = {}
    jitter_sum, jitter_n = 0.0, 0
    per_kind_jitter: dict[str, list[float]] = {k: [0.0, 0.0] for k in kinds}
    for i, s in enumerate(sources):
        d = delays[(src == i) & ok]
        if len(d) > 1:
            diffs = np.abs(np.diff(d))
            jitter_sum += float(diffs.sum())
            jitter_n += len(diffs)
            per_kind_jitter[s.kind][0] += float(diffs.sum())
            per_kind_jitter[s.kind][1] += len(diffs)
    for kind in kinds:
        members = np.array([s.kind == kind for s in sources], dtype=bool)
        mask = members[src] if len(src) else np.zeros(0, dtype=bool)
        kd = delays[mask]
        kok = kd[~np.isnan(kd)]
        total = int(mask.sum())
        dropped = total - len(kok)
        sj = per_kind_jitter[kind]
        by_kind[kind] = KindStats(total, dropped, dropped / total if total else 0.0,
                                  float(np.percentile(kok, 99)) if len(kok) else math.nan,
                                  sj[0] / sj[1] if sj[1] else 0.0)
    packets = len(delays)
    dropped = packets - len(delivered)
    offered = sum(s.rate for s in sources) / capacity

    def pct(q: float) -> float:
        return float(np.percentile(delivered, q)) if len(delivered) else math.nan

    return QueueResult(
        engine, duration, capacity, buffer, offered, packets, len(delivered), dropped,
        dropped / packets if packets else 0.0, pct(50), pct(90), pct(99), pct(99.9),
        float(delivered.max()) if len(delivered) else math.nan,
        float(delivered.mean()) if len(delivered) else math.nan,
        jitter_sum / jitter_n if jitter_n else 0.0, int(peak), by_kind,
    )


# -- from a load assignment ---------------------------------------------------------------------

def link_sources(assignment: Assignment, key: Direction, video_rate: float | None = None) -> list[Source]:
    """The demands crossing link direction ``key``, as sources at their peak rate on that link.

    A video demand above the per-site video rate (a cascade link carries several
    sites) becomes one stream per site; a video stream's frame arrives paced
    at the rate of the slowest link that brings it to this one (at once when it
    starts here).
    """
    net = assignment.net
    site_rate = video_rate if video_rate is not None else _site_video_rate(net)
    out = []
    for demand, path in zip(assignment.demands, assignment.paths):
        for e in path.edges:
            if e.key != key:
                continue
            rate = demand.rate * e.share * e.factor
            size = round(demand.packet_size * e.factor)
            name = f"{demand.service} {demand.src}->{demand.dst}"
            if demand.kind != "video":
                out.append(Source(name, demand.kind, rate, size))
                continue
            feeding = [net.links[x.link].bandwidth for x in path.edges if x.dst == e.src]
            pace = min(feeding) if feeding else None
            streams = max(1, math.ceil(rate / site_rate - 1e-9)) if site_rate > 0 else 1
            for k in range(streams):
                out.append(Source(name if streams == 1 else f"{name} #{k + 1}", "video", rate / streams, size, pace))
    return out


def _site_video_rate(net) -> float:
    from .traffic import video_rate

    return video_rate(net)[0]


def busiest_direction(assignment: Assignment, target: str) -> Direction:
    """The link direction to simulate for ``target``: a link (its busier direction) or a site.

    For a site: the busiest direction of the links joining the site's nodes to
    other sites (its uplinks), else of any link touching the site.
    """
    net = assignment.net
    if target in net.links:
        return max(((target, 0), (target, 1)), key=lambda k: (assignment.utilisation(k), -k[1]))
    if target in net.sites:
        members = {n for n, node in net.nodes.items() if node.site == target}
        touching = [l for l in net.links.values() if l.a in members or l.b in members]
        uplinks = [l for l in touching if not (l.a in members and l.b in members)]
        candidates = uplinks or touching
        if not candidates:
            raise QueueError(f"site '{target}' has no links to simulate")
        keys = [(l.name, d) for l in candidates for d in (0, 1)]
        return max(keys, key=assignment.utilisation)  # the first of equals, in plan order
    raise QueueError(f"'{target}' is neither a link nor a site of the plan")


def port_buffer(bandwidth: float) -> int:
    """The default drop-tail buffer of a port: 50 ms at its rate, at least 64 kB."""
    return max(DEFAULT_BUFFER, int(bandwidth * BUFFER_SECONDS / 8))


def simulate_link(assignment: Assignment, target: str, buffer_bytes: int | None = None,
                  duration: float = DEFAULT_DURATION, seed: int = 1, engine: str = "fast") -> tuple[Direction, QueueResult]:
    """Simulate the port of ``target`` (a link or a site, see :func:`busiest_direction`) at peak.

    ``buffer_bytes`` None: :func:`port_buffer` of the link.
    """
    key = busiest_direction(assignment, target)
    link = assignment.net.links[key[0]]
    buffer = buffer_bytes if buffer_bytes is not None else port_buffer(link.bandwidth)
    return key, simulate_queue(link_sources(assignment, key), link.bandwidth, buffer, duration, seed, engine)
