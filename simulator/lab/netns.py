"""Network namespaces: make, enter, list and remove them; run iproute2 and nftables inside.

Everything here calls the real tools (``ip``, ``nft``) or the kernel
directly. Entering a namespace is ``setns(2)`` on the calling thread (Python
3.11 has no ``os.setns``, hence ctypes): a socket opened inside stays in that
namespace after the thread leaves, which lets one process send and capture
in every namespace of a lab, and a command started inside runs there
(``fork`` copies the thread's namespace) without ``ip netns exec``'s
remounts.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import LabError, LabUnavailable

NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


def require_tools(*tools: str) -> None:
    """Raise :class:`LabUnavailable` unless running as root with every tool on the PATH."""
    if os.geteuid() != 0:
        raise LabUnavailable("a lab needs root (network namespaces, nftables)")
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise LabUnavailable(f"missing tool(s): {', '.join(missing)} (Debian packages iproute2, nftables)")


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise LabError(f"setns failed: {os.strerror(err)}")


@contextmanager
def inside(namespace: str) -> Iterator[None]:
    """Run the body with this thread in network namespace ``namespace``."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    try:
        try:
            fd = os.open(NETNS_DIR / namespace, os.O_RDONLY)
        except OSError as exc:
            raise LabError(f"namespace {namespace} does not exist ({exc.strerror})") from None
        try:
            _setns(fd)
        finally:
            os.close(fd)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)


def run(args: list[str], stdin: str | None = None, namespace: str | None = None, check: bool = True,
        timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a command (inside ``namespace`` when given); LabError with its stderr when it fails."""
    try:
        if namespace is None:
            done = subprocess.run(args, check=False, input=stdin, capture_output=True, text=True, timeout=timeout)
        else:
            with inside(namespace):
                done = subprocess.run(args, check=False, input=stdin, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise LabUnavailable(f"{args[0]} is not installed") from None
    except subprocess.TimeoutExpired:
        raise LabError(f"{' '.join(args)} did not finish within {timeout:.0f} s") from None
    if check and done.returncode != 0:
        where = f" in {namespace}" if namespace else ""
        raise LabError(f"{' '.join(args[:3])}{where} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def ip_batch(lines: Iterable[str], namespace: str | None = None, force: bool = False) -> str:
    """Run iproute2 commands (one per line, ``ip -batch``), in ``namespace`` when given; their output."""
    text = "\n".join(lines) + "\n"
    if text.strip() == "":
        return ""
    args = ["ip"] + (["-n", namespace] if namespace else []) + (["-force"] if force else []) + ["-batch", "-"]
    return run(args, stdin=text, check=not force).stdout


def nft_load(namespace: str, ruleset: str) -> None:
    """Load an nftables ruleset (``nft -f``) inside ``namespace``."""
    run(["nft", "-f", "-"], stdin=ruleset, namespace=namespace)


def write_sysctls(namespace: str, values: dict[str, str]) -> None:
    """Write ``/proc/sys`` keys (``net.ipv4.ip_forward`` ...) inside ``namespace``."""
    with inside(namespace):
        for key, value in values.items():
            path = Path("/proc/sys") / key.replace(".", "/")
            try:
                path.write_text(value)
            except OSError as exc:
                raise LabError(f"cannot set {key}={value} in {namespace}: {exc.strerror}") from None


def list_namespaces() -> list[str]:
    """Every named network namespace (``ip netns list``)."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir())


def add_namespaces(names: list[str]) -> None:
    ip_batch(f"netns add {n}" for n in names)


def delete_namespaces(names: list[str]) -> None:
    """Remove namespaces (already gone ones are fine)."""
    ip_batch((f"netns del {n}" for n in names), force=True)


def namespace_pids(namespace: str) -> list[int]:
    """The processes running inside ``namespace`` (``ip netns pids``)."""
    done = run(["ip", "netns", "pids", namespace], check=False)
    return sorted(int(p) for p in done.stdout.split() if p.isdigit())
