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
stdout and stderr of a run go, interleaved, to the file named by "out"; its tail comes with the exit, and the
file is removed.
"""
import json
import os
import signal
import sys
import threading

TAIL = 64 * 1024
lock = threading.Lock()
children = {}  # pid -> (id, output file)
spawned = threading.Event()
pending = []  # answers not yet written, in the order they were made


def write(message):
    """Callers hold the lock: answers keep their order, and a run's pid always goes out before its exit."""
    pending.append(json.dumps(message) + "\n")


def flush():
    """Callers hold the lock. One write for every answer a read of requests (or a round of reaping) made: each
    write wakes the agent, and a wake-up costs a virtual machine more than the write."""
    if pending:
        sys.stdout.write("".join(pending))
        sys.stdout.flush()
        pending.clear()


def reap():
    while True:
        try:
            ended = [os.wait()]
        except ChildProcessError:
            spawned.wait()
            spawned.clear()
            continue
        # Every other child that ended meanwhile, without waiting: their exits leave in the same write.
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            ended.append((pid, status))
        with lock:
            runs = [(children.pop(pid, None), status) for pid, status in ended]
        ends = []
        for run, status in runs:
            if run is None:
                continue
            run_id, out = run
            end = {"id": run_id, "output": tail(out)}
            if os.WIFSIGNALED(status):
                end["signal"] = os.WTERMSIG(status)
            else:
                end["exit"] = os.WEXITSTATUS(status)
            ends.append(end)
        with lock:
            for end in ends:
                write(end)
            flush()


def tail(path):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL))
            data = f.read()
        os.unlink(path)
        return data.decode("utf-8", errors="replace")
    except OSError:
        return ""


def spawn(request):
    run_id = request["id"]
    actions = [
        (os.POSIX_SPAWN_OPEN, 1, request["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    try:
        # Holding the lock until the pid is recorded and queued: the reaper cannot queue an exit before it.
        with lock:
            pid = os.posix_spawnp(request["argv"][0], request["argv"], request["env"], file_actions=actions, setsid=True, setsigdef=(signal.SIGINT,))
            children[pid] = (run_id, request["out"])
            write({"id": run_id, "pid": pid})
        spawned.set()
    except Exception as err:  # the agent reports it as a run that did not start
        with lock:
            write({"id": run_id, "error": f"{type(err).__name__}: {err}"})


def kill(request):
    with lock:
        pid = next((p for p, (i, _) in children.items() if i == request["id"]), None)
    if pid is not None:
        try:
            os.killpg(pid, request.get("signal", 15))
        except ProcessLookupError:
            pass


def main():
    # Ctrl-C reaches the whole process group; the agent ends the launcher by closing its stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=reap, daemon=True).start()
    rest = b""
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            return
        *lines, rest = (rest + chunk).split(b"\n")
        for line in lines:
            if not line.strip():
                continue
            request = json.loads(line)
            if request["op"] == "spawn":
                spawn(request)
            elif request["op"] == "kill":
                kill(request)
        # The answers to every request of this read, in one write.
        with lock:
            flush()


if __name__ == "__main__":
    main()
