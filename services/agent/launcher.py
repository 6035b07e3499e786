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


def write(message):
    """Callers hold the lock: answers never interleave, and a run's pid is always written before its exit."""
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def answer(message):
    with lock:
        write(message)


def reap():
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            spawned.wait()
            spawned.clear()
            continue
        with lock:
            run = children.pop(pid, None)
        if run is None:
            continue
        run_id, out = run
        end = {"id": run_id, "output": tail(out)}
        if os.WIFSIGNALED(status):
            end["signal"] = os.WTERMSIG(status)
        else:
            end["exit"] = os.WEXITSTATUS(status)
        answer(end)


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
        # Holding the lock until the pid is recorded and written: the reaper cannot report an exit before it.
        with lock:
            pid = os.posix_spawnp(request["argv"][0], request["argv"], request["env"], file_actions=actions, setsid=True, setsigdef=(signal.SIGINT,))
            children[pid] = (run_id, request["out"])
            write({"id": run_id, "pid": pid})
        spawned.set()
    except Exception as err:  # the agent reports it as a run that did not start
        answer({"id": run_id, "error": f"{type(err).__name__}: {err}"})


def main():
    # Ctrl-C reaches the whole process group; the agent ends the launcher by closing its stdin.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=reap, daemon=True).start()
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "spawn":
            spawn(request)
        elif request["op"] == "kill":
            with lock:
                pid = next((p for p, (i, _) in children.items() if i == request["id"]), None)
            if pid is not None:
                try:
                    os.killpg(pid, request.get("signal", 15))
                except ProcessLookupError:
                    pass


if __name__ == "__main__":
    main()
