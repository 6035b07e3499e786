#!/usr/bin/env python3
"""The agent's process launcher.

Forking the agent (a Node process of ~100 MB) for every run costs about 1 ms of CPU in the agent alone;
posix_spawn from this small process costs a tenth of that. The agent writes one JSON line per request on
stdin and reads one JSON line per answer on stdout:

  {"op": "spawn", "id": "t:1", "argv": [...], "env": {...}, "out": "/path"}  ->  {"id": "t:1", "pid": 123}
                                                                              or {"id": "t:1", "error": "..."}
  {"op": "kill", "id": "t:1", "signal": 15}
  when the process ends                                ->  {"id": "t:1", "exit": 0, "output": "<last 64 KiB>"}
                                                       or {"id": "t:1", "signal": 9, "output": "..."}
stdout and stderr of a run go, interleaved, to the file named by "out"; its tail comes with the exit. The agent
removes the file once the exit is reported: until then it tells a new agent that the run was started.

One thread waits on both stdin and the children (SIGCHLD through a wakeup pipe): a reaper thread beside the
reader cost a lock and a hand-over of the interpreter for every run. Answers are written once per wake-up, all
together: each write wakes the agent, and on a virtual machine a wake-up costs more than the write.
"""
import json
import os
import selectors
import signal
import time

TAIL = 64 * 1024
LINGER = 0.002  # seconds the answers to a read of requests may wait for runs that end at once
children = {}  # pid -> (id, output file)
pending = []  # answers not yet written, in the order they were made: a run's pid always before its exit


def flush():
    if not pending:
        return
    data = memoryview("".join(pending).encode())
    pending.clear()
    while data:
        data = data[os.write(1, data):]


def spawn(request):
    run_id = request["id"]
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    try:
        pid = os.posix_spawnp(request["argv"][0], request["argv"], request["env"], file_actions=actions, setsid=True, setsigdef=(signal.SIGINT, signal.SIGCHLD))
    except Exception as err:  # the agent reports it as a run that did not start
        pending.append(json.dumps({"id": run_id, "error": f"{type(err).__name__}: {err}"}) + "\n")
        return
    children[pid] = (run_id, request["out"])
    pending.append(json.dumps({"id": run_id, "pid": pid}) + "\n")


def kill(request):
    pid = next((p for p, (i, _) in children.items() if i == request["id"]), None)
    if pid is not None:
        try:
            os.killpg(pid, request.get("signal", 15))
        except ProcessLookupError:
            pass


def reap():
    """Every child that has ended, without waiting."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        run = children.pop(pid, None)
        if run is None:
            continue
        run_id, out = run
        end = {"id": run_id, "output": tail(out)}
        if os.WIFSIGNALED(status):
            end["signal"] = os.WTERMSIG(status)
        else:
            end["exit"] = os.WEXITSTATUS(status)
        pending.append(json.dumps(end) + "\n")


def tail(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL))
            data = f.read()
        return data.decode("utf-8", errors="replace")
    except OSError:
        return ""


def handle(line):
    if not line.strip():
        return
    request = json.loads(line)
    if request["op"] == "spawn":
        spawn(request)
    elif request["op"] == "kill":
        kill(request)


def main():
    # Ctrl-C reaches the whole process group; the agent ends the launcher by closing its stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)  # a full pipe loses nothing: every wake-up reaps all
    # A handler (doing nothing) is what makes the signal reach the wakeup pipe; the loop reaps.
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ, "requests")
    selector.register(wake_r, selectors.EVENT_READ, "children")
    rest = b""
    flush_at = None
    while True:
        timeout = None if flush_at is None else max(0.0, flush_at - time.monotonic())
        ready = selector.select(timeout)
        ended = False
        for key, _ in ready:
            if key.data == "children":
                ended = True
                try:
                    os.read(wake_r, 4096)
                except BlockingIOError:
                    pass
                continue
            chunk = os.read(0, 1 << 16)
            if not chunk:
                flush()
                return
            *lines, rest = (rest + chunk).split(b"\n")
            for line in lines:
                handle(line)
            # The answers to new requests wait a moment: a run that ends within it is answered once, pid and exit
            # in one write, and the agent is woken once instead of twice.
            if flush_at is None and pending:
                flush_at = time.monotonic() + LINGER
        reap()
        if ended or (flush_at is not None and time.monotonic() >= flush_at):
            flush()
            flush_at = None


if __name__ == "__main__":
    main()
