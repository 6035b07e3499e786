#!/usr/bin/env python3
"""The agent's process launcher.

Forking the agent (a Node process of ~100 MB) for every run costs about 1 ms of CPU in the agent alone;
posix_spawn from this small process costs a tenth of that. The agent writes one JSON line per request on
stdin and reads one JSON line per answer on stdout:

  {"op": "spawn", "id": "t:1", "argv": [...], "env": {...}, "out": "/path", "limits": {"cpu": 0.5, "memory": 64},
   "cwd": "/run/dir"}   (cwd optional: the run's working directory; the launcher's own otherwise)
                                                                              ->  {"id": "t:1", "pid": 123}
                                                                              or {"id": "t:1", "error": "..."}
  {"op": "kill", "id": "t:1", "signal": 15}
  when the process ends                                ->  {"id": "t:1", "exit": 0, "output": "<last 64 KiB>"}
                                                       or {"id": "t:1", "signal": 9, "output": "...", "oom": true}
stdout and stderr of a run go, interleaved, to the file named by "out"; its tail comes with the exit; its stdin is
/dev/null. The agent removes the file once the exit is reported: until then it tells a new agent that the run was
started.

The sandbox (argv[1] --config '<json>', from the agent): runs are started as an unprivileged user ("uid", "gid",
"groups"): the launcher stays root, sets the user's groups once, and for each spawn makes the user its real uid and
gid for the moment of posix_spawn, whose RESETIDS makes them the child's effective ones too (exec then sets the saved
ones): no fork of this process. A run can signal the launcher only from its start until the uids are taken back
(a few microseconds, longer on a loaded machine), and never trace it: its effective and saved uids stay root's.
The output file is opened here, as root, and handed to the run as its stdout: the run directory stays root's. A run with "limits"
gets a cgroup of its own ("cgroups": {"mode": "v1"|"v2", "hierarchies": [{"root", "home"}]}): the launcher moves
itself into it for the spawn, so the child is born inside it, and back home after; once the run ends, whatever is
left in its cgroup is killed and the cgroup removed.

No request ends the launcher (every run it holds would end with it): a line that is not JSON, lacks a field, has
one of the wrong type, names an unknown op or is longer than MAX_LINE is answered {"id": ..., "error": "<field>:
<rule>"} when its id can be read, else said once on stderr, and skipped.

One thread waits on both stdin and the children (SIGCHLD through a wakeup pipe): a reaper thread beside the
reader cost a lock and a hand-over of the interpreter for every run. Answers are written once per wake-up, all
together: each write wakes the agent, and on a virtual machine a wake-up costs more than the write.
"""
import json
import os
import re
import selectors
import signal
import sys
import time

TAIL = 64 * 1024
LINGER = 0.002  # seconds the answers to a read of requests may wait for runs that end at once
# A request line may take this many bytes (its newline aside); launcher.ts refuses a longer one before sending it.
# A spawn carries one dispatch's command and env, and NATS carries at most 1 MB per message by default (64 MB at
# most): 16 MiB leaves room for any sane setting while bounding what one line can make this process hold.
MAX_LINE = 16 * 1024 * 1024
MAX_ID = 1024
# The agent writes `{"op": ..., "id": ...` first: the id of a line too long to parse is read from its start.
ID_AT_START = re.compile(rb'^\{\s*"op"\s*:\s*"[a-z]{1,16}"\s*,\s*"id"\s*:\s*("(?:[^"\\]|\\.){1,%d}")' % MAX_ID)
children = {}  # pid -> (id, output file, cgroup dirs or None)
SANDBOX = {"uid": None, "gid": None, "groups": [], "cgroups": None}
stale_cgroups = []  # cgroup dirs whose processes were still dying when their run ended: removed later
pids = {}  # id -> pid, of the runs in children
pending = []  # answers not yet written, in the order they were made: a run's pid always before its exit


class BadRequest(Exception):
    """A request this launcher refuses; its message names the field and the rule."""


def flush():
    if not pending:
        return
    data = memoryview("".join(pending).encode())
    pending.clear()
    while data:
        data = data[os.write(1, data):]


def answer_error(run_id, message):
    pending.append(json.dumps({"id": run_id, "error": message}) + "\n")


def complain(message, line, size=None):
    """A line without a readable id cannot be answered: said once on stderr (the agent logs it), then skipped."""
    shown = line[:200].decode("utf-8", errors="replace")
    size = f"{len(line)} bytes" if size is None else size
    sys.stderr.write(f"launcher: skipped a request line ({size}): {message}: {shown!r}\n")
    sys.stderr.flush()


def readable_id(request):
    run_id = request.get("id") if isinstance(request, dict) else None
    return run_id if isinstance(run_id, str) and 0 < len(run_id) <= MAX_ID else None


def got(value):
    """A value as a refusal quotes it: short, and never the whole of a large one."""
    if isinstance(value, dict):
        return f"an object of {len(value)} key{'' if len(value) == 1 else 's'}"
    if isinstance(value, list):
        return f"an array of {len(value)} item{'' if len(value) == 1 else 's'}"
    text = json.dumps(value[:61] if isinstance(value, str) else value)
    return text if len(text) <= 60 else text[:57] + "..."


# Where the launcher stays between spawns (a run's directory may be removed after its spawn).
HOME_DIR = os.getcwd()


def check_spawn(request):
    argv, env, out = request.get("argv"), request.get("env"), request.get("out")
    if not isinstance(argv, list) or not argv:
        raise BadRequest(f"argv: must be a non-empty array of strings (got {got(argv)})")
    for i, arg in enumerate(argv):
        if not isinstance(arg, str):
            raise BadRequest(f"argv[{i}]: must be a string (got {got(arg)})")
        if "\0" in arg:
            raise BadRequest(f"argv[{i}]: must not hold a NUL character")
    if argv[0] == "":
        raise BadRequest("argv[0]: must name the program (got \"\")")
    if not isinstance(env, dict):
        raise BadRequest(f"env: must be an object of strings (got {got(env)})")
    for key, value in env.items():
        if not isinstance(value, str):
            raise BadRequest(f"env.{key[:60]}: must be a string (got {got(value)})")
    if not isinstance(out, str) or out == "" or "\0" in out:
        raise BadRequest(f"out: must be a file path (got {got(out)})")
    limits = request.get("limits")
    if limits is not None:
        if not isinstance(limits, dict):
            raise BadRequest(f"limits: must be an object (got {got(limits)})")
        for key in ("cpu", "memory"):
            value = limits.get(key)
            if value is not None and (type(value) not in (int, float) or value <= 0):
                raise BadRequest(f"limits.{key}: must be a positive number (got {got(value)})")
        if SANDBOX["cgroups"] is None and (limits.get("cpu") is not None or limits.get("memory") is not None):
            raise BadRequest("limits: this launcher has no cgroups to enforce them with")
    cwd = request.get("cwd")
    if cwd is not None and (not isinstance(cwd, str) or not cwd.startswith("/") or "\0" in cwd):
        raise BadRequest(f"cwd: must be an absolute path (got {got(cwd)})")
    return argv, env, out, limits, cwd


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def make_cgroup(run_id, limits):
    """The run's cgroup in each hierarchy, its limits written; returns [(dir, home)]."""
    cg = SANDBOX["cgroups"]
    name = "run-" + re.sub(r"[^A-Za-z0-9_-]", ".", run_id)
    made = []
    try:
        for h in cg["hierarchies"]:
            d = os.path.join(h["root"], name)
            os.makedirs(d, exist_ok=True)
            made.append((d, h["home"]))
            cpu, memory = limits.get("cpu"), limits.get("memory")
            if cg["mode"] == "v2":
                if cpu is not None:
                    write(os.path.join(d, "cpu.max"), f"{max(1000, round(cpu * 100000))} 100000")
                if memory is not None:
                    write(os.path.join(d, "memory.max"), str(int(memory * 1048576)))
                    if os.path.exists(os.path.join(d, "memory.swap.max")):
                        write(os.path.join(d, "memory.swap.max"), "0")
            elif h["controller"] == "memory" and memory is not None:
                write(os.path.join(d, "memory.limit_in_bytes"), str(int(memory * 1048576)))
                # Without a swap limit a run could go past its memory into swap.
                if os.path.exists(os.path.join(d, "memory.memsw.limit_in_bytes")):
                    write(os.path.join(d, "memory.memsw.limit_in_bytes"), str(int(memory * 1048576)))
            elif h["controller"] == "cpu" and cpu is not None:
                write(os.path.join(d, "cpu.cfs_period_us"), "100000")
                write(os.path.join(d, "cpu.cfs_quota_us"), str(max(1000, round(cpu * 100000))))
    except OSError:
        remove_cgroups(made)
        raise
    return made


def cgroup_oom(dirs):
    """Did the kernel kill a process of this cgroup for its memory limit?"""
    for d, _ in dirs:
        for name in ("memory.events", "memory.oom_control"):
            try:
                with open(os.path.join(d, name)) as f:
                    for line in f:
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value or 0) > 0:
                            return True
            except (OSError, ValueError):
                pass
    return False


def remove_cgroups(dirs):
    """Kills what a run left in its cgroup (its orphans) and removes the cgroup; one still busy is tried later."""
    for d, _ in dirs:
        try:
            if os.path.exists(os.path.join(d, "cgroup.kill")):
                write(os.path.join(d, "cgroup.kill"), "1")
            else:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except (ProcessLookupError, ValueError):
                            pass
        except OSError:
            pass
        try:
            os.rmdir(d)
        except FileNotFoundError:
            pass
        except OSError:
            stale_cgroups.append(d)


def retry_stale():
    for d in stale_cgroups[:]:
        try:
            os.rmdir(d)
            stale_cgroups.remove(d)
        except FileNotFoundError:
            stale_cgroups.remove(d)
        except OSError:
            pass


def move_self(dirs, to_run):
    for d, home in dirs:
        write(os.path.join(d if to_run else home, "cgroup.procs"), str(os.getpid()))


def spawn(request):
    run_id = request["id"]
    argv, env, out, limits, cwd = check_spawn(request)
    if run_id in pids:
        raise BadRequest(f"id: {got(run_id)} is already running")
    uid, gid = SANDBOX["uid"], SANDBOX["gid"]
    fd, dirs, moved, moved_dir = None, None, False, False
    try:
        # Opened here, as root: the run gets it as its stdout, and the run directory need not be the user's.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        actions = [
            # Not the launcher's stdin: that is the agent's request pipe, and a run that reads it eats the requests.
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, fd, 1),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ]
        if limits and (limits.get("cpu") is not None or limits.get("memory") is not None):
            dirs = make_cgroup(run_id, limits)
            move_self(dirs, True)
            moved = True
        if cwd is not None:
            # posix_spawn has no working directory of its own: the child is born in the launcher's, so the
            # launcher steps into the run's for the spawn (one request at a time: nothing else sees it).
            os.chdir(cwd)
            moved_dir = True
        if uid is not None:
            os.setresgid(gid, -1, -1)
            os.setresuid(uid, -1, -1)
        try:
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions, setsid=True, resetids=uid is not None,
                                  setsigdef=(signal.SIGINT, signal.SIGCHLD))
        finally:
            if uid is not None:
                os.setresuid(0, -1, -1)
                os.setresgid(0, -1, -1)
    except Exception as err:  # the agent reports it as a run that did not start
        if dirs is not None:
            remove_cgroups(dirs)
        answer_error(run_id, f"{type(err).__name__}: {err}")
        return
    finally:
        if moved_dir:
            os.chdir(HOME_DIR)
        if moved:
            move_self(dirs, False)
        if fd is not None:
            os.close(fd)
    children[pid] = (run_id, out, dirs)
    pids[run_id] = pid
    pending.append(json.dumps({"id": run_id, "pid": pid}) + "\n")


def kill(request):
    sig = request.get("signal", int(signal.SIGTERM))
    if type(sig) is not int or not 1 <= sig < signal.NSIG:
        raise BadRequest(f"signal: must be a signal number, 1 to {signal.NSIG - 1} (got {got(sig)})")
    pid = pids.get(request["id"])
    if pid is not None:
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            pass  # ended already: its exit is on its way


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
        run_id, out, dirs = run
        del pids[run_id]
        end = {"id": run_id, "output": tail(out)}
        if os.WIFSIGNALED(status):
            end["signal"] = os.WTERMSIG(status)
        else:
            end["exit"] = os.WEXITSTATUS(status)
        if dirs is not None:
            if cgroup_oom(dirs):
                end["oom"] = True
            remove_cgroups(dirs)
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


OPS = {"spawn": spawn, "kill": kill}


def handle(line):
    """One request line. Nothing in it ends the launcher: every run it holds would go with it."""
    if not line.strip():
        return
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as err:  # not JSON, not UTF-8, or nested too deep
        complain(f"not JSON ({type(err).__name__})", line)
        return
    run_id = readable_id(request)
    if run_id is None:
        complain(f'not an object with an "id" (a string of 1 to {MAX_ID} characters)', line)
        return
    try:
        op = OPS.get(request.get("op"))
        if op is None:
            raise BadRequest(f'op: must be "spawn" or "kill" (got {got(request.get("op"))})')
        op(request)
    except BadRequest as err:
        answer_error(run_id, str(err))
    except Exception as err:  # a bug here must not end the runs either; the waiting spawn learns of it
        answer_error(run_id, f"launcher: {type(err).__name__}: {err}")


def too_long(start):
    """A line over MAX_LINE: answered for its id if its start names one, else said on stderr; never parsed."""
    found = ID_AT_START.match(start)
    run_id = None
    if found:
        try:
            run_id = json.loads(found.group(1))
        except ValueError:
            pass
    if isinstance(run_id, str) and run_id:
        answer_error(run_id, f"request: longer than {MAX_LINE} bytes")
    else:
        complain("the rest of it not read", start, f"longer than {MAX_LINE} bytes")


class Lines:
    """Splits stdin into lines, holding at most MAX_LINE bytes of one: the rest of a longer line is dropped."""

    HEAD = 8192  # what is kept of a line being dropped: enough to find its id

    def __init__(self):
        self.parts = []  # the line so far, in chunks (joined once: a 1 MB line comes in 16 reads)
        self.size = 0
        self.head = None  # set while a line too long is dropped: its start

    def feed(self, chunk):
        """The lines a read completes. A read is at most 64 KiB, far below MAX_LINE: only the line it continues
        can be too long, and the common case (whole lines, nothing held) is one split."""
        pieces = chunk.split(b"\n")
        if len(pieces) == 1:
            self.hold(chunk)
            return []
        lines = pieces[:-1]
        if self.parts or self.head is not None:
            self.hold(pieces[0])
            if self.head is None:
                lines[0] = b"".join(self.parts)
            else:
                too_long(self.head)
                del lines[0]
            self.parts, self.size, self.head = [], 0, None
        self.hold(pieces[-1])
        return lines

    def hold(self, piece):
        if not piece:
            return
        if self.head is not None:
            return
        if self.size + len(piece) > MAX_LINE:
            head = b""
            for part in [*self.parts, piece]:
                head += part[:self.HEAD - len(head)]
                if len(head) >= self.HEAD:
                    break
            self.head = head
            self.parts, self.size = [], 0
            return
        self.parts.append(piece)
        self.size += len(piece)


def configure(argv):
    """--config '<json>': the user runs are started as, and the cgroups that enforce their limits."""
    if len(argv) < 3 or argv[1] != "--config":
        return
    config = json.loads(argv[2])
    if config.get("uid") is not None:
        SANDBOX["uid"], SANDBOX["gid"] = int(config["uid"]), int(config["gid"])
        SANDBOX["groups"] = [int(g) for g in config.get("groups", [])]
        # Kept for every run (posix_spawn passes the launcher's groups on); root's own groups are not.
        os.setgroups(SANDBOX["groups"])
    SANDBOX["cgroups"] = config.get("cgroups")


def main():
    configure(sys.argv)
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
    lines = Lines()
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
            for line in lines.feed(chunk):
                handle(line)
            # The answers to new requests wait a moment: a run that ends within it is answered once, pid and exit
            # in one write, and the agent is woken once instead of twice.
            if flush_at is None and pending:
                flush_at = time.monotonic() + LINGER
        reap()
        if stale_cgroups:
            retry_stale()
        if ended or (flush_at is not None and time.monotonic() >= flush_at):
            flush()
            flush_at = None


if __name__ == "__main__":
    main()
