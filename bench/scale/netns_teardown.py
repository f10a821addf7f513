"""What a namespace's devices cost the kernel after it is dropped (issue 14): makes N
namespaces laid out as a VPC was (two subnet bridges, twenty /32 addresses) or as a
VPC of endpoints is now (the twenty /32 on lo, no bridge), drops them all, then times
making 100 more at once, the way a restart right after a clean stop does. Prints both
layouts' numbers side by side. Bridges cost an rcu_barrier() each under the RTNL lock
when the kernel destroys them (br_multicast_dev_del), and every namespace made
meanwhile waits. Root; names are lp-ntd<pid>-*, all removed at exit.
  /usr/bin/python3 bench/scale/netns_teardown.py [N=1000]"""
import ctypes
import os
import subprocess
import sys
import threading
import time

libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET, MS_BIND, MNT_DETACH = 0x40000000, 4096, 2
PREFIX = f"lp-ntd{os.getpid()}-"
made = []

LAYOUTS = {
    "bridges": "link set lo up\nlink add lp-b1 type bridge\nlink add lp-b2 type bridge\n"
               "link set lp-b1 up\nlink set lp-b2 up\n" +
               "".join(f"addr add 10.0.{j}.{k}/32 dev lp-b{j}\n" for j in (1, 2) for k in range(1, 11)),
    "lo": "link set lo up\n" + "".join(f"addr add 10.0.{j}.{k}/32 dev lo\n" for j in (1, 2) for k in range(1, 11)),
}


def make(name, batch):
    path = f"/run/netns/{name}"
    os.makedirs("/run/netns", exist_ok=True)
    open(path, "w").close()
    made.append(name)
    err = []

    def unshare_and_bind():  # on its own thread, as net::createNamespace does
        if libc.unshare(CLONE_NEWNET) != 0 or libc.mount(
                f"/proc/self/task/{threading.get_native_id()}/ns/net".encode(), path.encode(), b"none", MS_BIND,
                None) != 0:
            err.append(ctypes.get_errno())

    t = threading.Thread(target=unshare_and_bind)
    t.start()
    t.join()
    if err:
        raise OSError(err[0], f"namespace {name}")
    subprocess.run(["ip", "-n", name, "-batch", batch], check=True)


def drop(names):
    for name in names:
        libc.umount2(f"/run/netns/{name}".encode(), MNT_DETACH)
        try:
            os.unlink(f"/run/netns/{name}")
        except FileNotFoundError:
            pass
        made.remove(name)


def run(layout, n):
    batch = f"/tmp/{PREFIX}{layout}.batch"
    with open(batch, "w") as f:
        f.write(LAYOUTS[layout])
    names = [f"{PREFIX}{layout[0]}{i}" for i in range(n)]
    t = time.monotonic()
    for name in names:
        make(name, batch)
    built = time.monotonic() - t
    t = time.monotonic()
    drop(names)
    dropped = time.monotonic() - t
    after = [f"{PREFIX}{layout[0]}a{i}" for i in range(100)]
    t = time.monotonic()
    for name in after:
        make(name, batch)
    again = time.monotonic() - t
    drop(after)
    os.unlink(batch)
    return built, dropped, again


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    if os.geteuid() != 0:
        sys.exit("netns_teardown: needs root")
    try:
        rows = {}
        for layout in ("lo", "bridges"):
            rows[layout] = run(layout, n)
            time.sleep(1)
        print(f"{n} namespaces, each with 20 /32 addresses          |   on lo | on 2 bridges")
        print(f"make them (s)                                        | {rows['lo'][0]:7.1f} | {rows['bridges'][0]:7.1f}")
        print(f"drop them (s, the unmounts)                          | {rows['lo'][1]:7.1f} | {rows['bridges'][1]:7.1f}")
        print(f"make 100 more right after (s)                        | {rows['lo'][2]:7.1f} | {rows['bridges'][2]:7.1f}")
        print(f"ratio, bridges / lo: {rows['bridges'][2] / max(rows['lo'][2], 1e-3):.1f}x")
    finally:
        drop(list(made))


if __name__ == "__main__":
    main()
