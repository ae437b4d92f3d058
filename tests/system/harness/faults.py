"""Fault injection for the reliability tests: network namespaces with a
veth link that can be cut, tiny tmpfs mounts that can be filled, process
group checks, and the soak switch. Everything a helper creates it also
removes (close(), or the context manager), also when the test fails."""
import errno
import ipaddress
import os
import shutil
import sqlite3
import subprocess
import time

import pytest


def soak(short, long):
    """The short count for make check, the long one under make soak
    (COHORT_SOAK=1)."""
    return long if os.environ.get("COHORT_SOAK") else short


def report(name, **counts):
    """One line of fault counts, e.g. "faults=20 runs_checked=1000
    lost=0": printed (pytest -s shows it) and appended to the file that
    $COHORT_FAULT_REPORT names (make system prints it after the run)."""
    line = f"FAULTS {name}: " + " ".join(f"{k}={v}"
                                          for k, v in counts.items())
    print("\n" + line)
    path = os.environ.get("COHORT_FAULT_REPORT")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def group_members(pgid):
    """Live (non-zombie) processes of process group pgid."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                text = f.read()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2:].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            out.append(int(d))
    return out


def wait_group_running(pgid, at_least=2, timeout=20.0):
    """The members of process group pgid once it has at least at_least of
    them. A step's group is recorded before the step is let go, so right
    after the record the group may still be the held child alone."""
    deadline = time.monotonic() + timeout
    members = []
    while time.monotonic() < deadline:
        members = group_members(pgid)
        if len(members) >= at_least:
            return members
        time.sleep(0.05)
    raise AssertionError(f"process group {pgid} has {members} after "
                         f"{timeout}s, wanted {at_least} members")


def integrity(db):
    """PRAGMA integrity_check of a SQLite file (read beside the daemon)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("PRAGMA integrity_check").fetchall()
    finally:
        con.close()


def log_lines(proc, event):
    return [ln for ln in proc.log_text().splitlines()
            if f" event={event} " in ln + " "]


def need_root(what):
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs root (not root here: uid "
                    f"{os.geteuid()}); skipped")


def _ip(*args, ns=None, check=True):
    argv = ["ip", *(["netns", "exec", ns, "ip"] if ns else []), *args]
    r = subprocess.run(argv, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r


class NetNs:
    """A network namespace joined to the host by a veth pair: the host
    end has .1 and the namespace end .2 of a /30 in 10.200.0.0/14 picked
    from the test's pid and a serial. cut() takes the host end down,
    restore() brings it back."""

    serial = 0

    def __init__(self):
        need_root("a network namespace")
        NetNs.serial += 1
        tag = (os.getpid() * 7 + NetNs.serial) % 60000
        self.ns = f"cohort-{os.getpid()}-{NetNs.serial}"
        self.host_if = f"vch{tag}"
        self.ns_if = f"vct{tag}"
        # one /30 per tag in 10.200.0.0/14, so that namespaces of two
        # test processes (make check runs suites side by side) never
        # share a subnet
        base = (10 << 24 | 200 << 16) + tag * 4
        self.host_addr = str(ipaddress.IPv4Address(base + 1))
        self.ns_addr = str(ipaddress.IPv4Address(base + 2))
        self.created = False
        try:
            _ip("netns", "add", self.ns)
            self.created = True
            _ip("link", "add", self.host_if, "type", "veth", "peer",
                "name", self.ns_if)
            _ip("link", "set", self.ns_if, "netns", self.ns)
            _ip("addr", "add", f"{self.host_addr}/30", "dev", self.host_if)
            _ip("link", "set", self.host_if, "up")
            _ip("addr", "add", f"{self.ns_addr}/30", "dev", self.ns_if,
                ns=self.ns)
            _ip("link", "set", self.ns_if, "up", ns=self.ns)
            _ip("link", "set", "lo", "up", ns=self.ns)
        except (RuntimeError, OSError) as e:
            self.close()
            pytest.skip(f"cannot create a network namespace here: {e}")

    @property
    def prefix(self):
        return ("ip", "netns", "exec", self.ns)

    def cut(self):
        _ip("link", "set", self.host_if, "down")

    def restore(self):
        _ip("link", "set", self.host_if, "up")

    def close(self):
        _ip("link", "del", self.host_if, check=False)
        if self.created:
            _ip("netns", "del", self.ns, check=False)
            self.created = False


class Tmpfs:
    """A tmpfs of size bytes mounted on path (made and removed here).
    fill() takes every free byte with a filler file; drain() gives
    them back."""

    def __init__(self, path, size):
        need_root("mounting a tmpfs")
        os.makedirs(path, exist_ok=True)
        self.path = path
        self.filler = os.path.join(path, ".filler")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            f"size={size},mode=0700", "tmpfs", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
        self.mounted = True

    def fill(self):
        """Writes until the file system says ENOSPC; returns bytes used."""
        n = 0
        chunk = b"\0" * 65536
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                     0o600)
        try:
            while True:
                try:
                    n += os.write(fd, chunk)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    if len(chunk) == 1:
                        break
                    chunk = chunk[:len(chunk) // 2]
        finally:
            os.close(fd)
        return n

    def drain(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def free_bytes(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def close(self):
        if self.mounted:
            subprocess.run(["umount", "-l", self.path], capture_output=True)
            self.mounted = False
            shutil.rmtree(self.path, ignore_errors=True)
