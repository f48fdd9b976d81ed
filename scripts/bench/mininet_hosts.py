#!/usr/bin/python3
"""Peer benchmark: Mininet building and starting N hosts on one Linux bridge.

    usage: mininet_hosts.py N [--no-ping] [--verbose]

Builds N hosts (h1..hN, 10.0.0.0/8, autoSetMacs) attached to one `lxbr`
switch (mininet.nodelib.LinuxBridge), with no controller, and times
net.build() + net.start(); optionally pings a small bounded sample of host
pairs; then times net.stop().  Prints one JSON line on stdout:

    {"peer":"mininet","hosts":N,"build_start_s":X,"stop_s":Y,"ping_ok":true,...}

Progress and diagnostics go to stderr.

SAFETY.  Do not run this directly: run scripts/bench/mininet.sh, which runs it
inside private network, mount and PID namespaces (unshare), so that every
link, bridge and host namespace Mininet makes lives in a network namespace
that vanishes with the run.  The script refuses to run unless the wrapper
says which network namespace is the machine's root one and we are not in it.
Mininet's machine-wide cleanup (killall/pkill by name, rm /tmp/*.log, deleting
every *-ethN link) and its global sysctl tweaks (fixLimits) are replaced by
no-ops before any Mininet object is made.
"""

import argparse
import json
import os
import resource
import signal
import sys
import time

# Must be Debian's python3 (the mininet package installs into its dist-packages).
sys.path.insert(0, '/usr/lib/python3/dist-packages')


def log(*args):
    print('[mininet_hosts]', *args, file=sys.stderr, flush=True)


def refuse_unless_private_namespaces():
    """Refuse to run in the machine's root network namespace."""
    root_net = os.environ.get('MININET_BENCH_ROOT_NETNS')
    root_mnt = os.environ.get('MININET_BENCH_ROOT_MNTNS')
    if not root_net or not root_mnt:
        sys.exit('mininet_hosts.py: refusing to run outside scripts/bench/mininet.sh '
                 '(MININET_BENCH_ROOT_NETNS/MNTNS not set)')
    here_net = os.readlink('/proc/self/ns/net')
    here_mnt = os.readlink('/proc/self/ns/mnt')
    if here_net == root_net or here_mnt == root_mnt:
        sys.exit('mininet_hosts.py: refusing to run: not in a private network/mount '
                 'namespace (net %s, mnt %s)' % (here_net, here_mnt))
    if os.getpid() != 1:
        # With `unshare --pid --fork` we are PID 1 of our own PID namespace, so
        # everything we start dies with us.
        sys.exit('mininet_hosts.py: refusing to run: not PID 1 of a private PID '
                 'namespace (pid %d)' % os.getpid())


def neutralize_mininet_cleanup():
    """Replace every machine-wide cleanup/tuning hook of Mininet with a no-op.

    Read from the installed mininet 2.3.0 sources:
      clean.py  Cleanup.cleanup / cleanup: killall & pkill -9 by name,
                rm -f /tmp/*.log ..., ip link del of every *-ethN, ovs-vsctl del-br;
                killprocs(): pkill -9 -f PATTERN; sh(): runs any shell command;
                Cleanup.callbacks / addCleanupCallback.
      term.py   cleanUpScreens(): pkill -9 -f "mnexec.*socat" (imported by
                net.py and clean.py under the same name).
      util.py   fixLimits(): raises global sysctls (fs.file-max, net.core.*mem_max,
                neigh gc_thresh*, route.max_size, kernel.pty.max) and never
                restores them; called from Mininet.init() (net.py imports it).
      net.py    Mininet.iperf(): 'killall -9 iperf' (not used here).
    """
    import mininet.clean as mclean
    import mininet.net as mnet
    import mininet.term as mterm
    import mininet.util as mutil

    def noop(*_args, **_kwargs):
        log('blocked a Mininet machine-wide cleanup call (no-op)')

    def refuse_sh(cmd, *_args, **_kwargs):
        log('blocked mininet.clean.sh(%r) (no-op)' % (cmd,))
        return ''

    mclean.Cleanup.cleanup = classmethod(lambda cls: noop())
    mclean.Cleanup.callbacks = []
    mclean.Cleanup.addCleanupCallback = classmethod(lambda cls, cb: None)
    mclean.cleanup = noop
    mclean.addCleanupCallback = lambda cb: None
    mclean.killprocs = noop
    mclean.sh = refuse_sh
    mclean.cleanUpScreens = noop
    mterm.cleanUpScreens = noop
    mnet.cleanUpScreens = noop

    def safe_fix_limits():
        # Only the process-local part of fixLimits (rlimits); no global sysctl.
        for res, want in ((resource.RLIMIT_NPROC, 8192),
                          (resource.RLIMIT_NOFILE, 16384)):
            soft, hard = resource.getrlimit(res)
            if hard != resource.RLIM_INFINITY and hard < want:
                want = hard
            if soft != resource.RLIM_INFINITY and soft < want:
                resource.setrlimit(res, (want, hard))

    mutil.fixLimits = safe_fix_limits
    mnet.fixLimits = safe_fix_limits
    # iperf() would 'killall -9 iperf'; make sure nobody calls it.
    mnet.Mininet.iperf = lambda *a, **k: (_ for _ in ()).throw(
        RuntimeError('Mininet.iperf disabled in this benchmark'))


def ping_sample(net, n, tries=3):
    """Ping a few host pairs (bounded: <= 3 pairs x tries x ~3 s)."""
    if n < 2:
        return None, []
    hosts = net.hosts
    pairs = [(hosts[0], hosts[-1]), (hosts[-1], hosts[0])]
    if n >= 4:
        pairs.append((hosts[1], hosts[n // 2]))
    results = []
    ok_all = True
    for src, dst in pairs:
        ok = False
        for _ in range(tries):
            out = src.cmd('timeout 5 ping -n -c 1 -W 2 %s' % dst.IP())
            if ' 1 received' in out or ' 0% packet loss' in out:
                ok = True
                break
            time.sleep(0.5)
        results.append({'src': src.name, 'dst': dst.name, 'ok': ok})
        ok_all = ok_all and ok
    return ok_all, results


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('hosts', type=int, nargs='?', default=1000)
    ap.add_argument('--no-ping', action='store_true', help='skip the ping sample')
    ap.add_argument('--verbose', action='store_true', help="Mininet 'info' logging")
    ap.add_argument('--dump-neigh', action='store_true',
                    help='print the neighbour entries of h1 and of the switch '
                         'namespace to stderr (diagnostics)')
    args = ap.parse_args()
    n = args.hosts
    if n < 1 or n > 4000:
        sys.exit('mininet_hosts.py: N must be in 1..4000')

    refuse_unless_private_namespaces()
    neutralize_mininet_cleanup()
    # As PID 1 of the namespace we would ignore SIGTERM/SIGINT without handlers;
    # turn them into an exception so the run stops and still reports.
    def on_signal(signum, _frame):
        raise SystemExit('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    from mininet.log import setLogLevel
    from mininet.net import Mininet
    from mininet.nodelib import LinuxBridge
    from mininet.topo import SingleSwitchTopo

    setLogLevel('info' if args.verbose else 'warning')

    result = {'peer': 'mininet', 'hosts': n}
    # Equivalent of: mn --topo single,N --switch lxbr --controller none --mac
    topo = SingleSwitchTopo(k=n)
    net = Mininet(topo=topo, switch=LinuxBridge, controller=None,
                  autoSetMacs=True, build=False, waitConnected=False)
    rc = 0
    try:
        log('building+starting %d hosts on one LinuxBridge ...' % n)
        t0 = time.monotonic()
        net.build()
        t1 = time.monotonic()
        net.start()
        t2 = time.monotonic()
        result['build_start_s'] = round(t2 - t0, 3)
        result['build_s'] = round(t1 - t0, 3)
        result['start_s'] = round(t2 - t1, 3)
        log('build %.1fs, start %.1fs' % (t1 - t0, t2 - t1))
        sw = net.switches[0]
        ports = len([i for i in sw.intfList() if i.name != 'lo'])
        result['switch_ports'] = ports
        # What the kernel says (our own sysfs, mounted by mininet.sh).
        try:
            kports = len(os.listdir('/sys/class/net/%s/brif' % sw.name))
        except OSError:
            kports = -1
        result['bridge_ports_kernel'] = kports
        if ports != n or kports != n:
            log('WARNING: switch has %d ports (kernel: %d), expected %d'
                % (ports, kports, n))
            rc = 1
        if args.dump_neigh:
            for node in (net.hosts[0], sw):
                log('neighbours in %s namespace:\n%s' % (
                    node.name, node.cmd('ip -4 neigh show nud all; ip -6 neigh show nud all')))
        result['ping_ok'] = None
        if not args.no_ping:
            ok, pings = ping_sample(net, n)
            result['ping_ok'] = ok
            result['pings'] = pings
            if ok is False:
                rc = 1
    except BaseException as e:  # report, then still stop what was built
        result['error'] = '%s: %s' % (type(e).__name__, e)
        rc = 1
    finally:
        t3 = time.monotonic()
        try:
            net.stop()
        except BaseException as e:
            result.setdefault('error', 'stop: %s: %s' % (type(e).__name__, e))
            rc = 1
        result['stop_s'] = round(time.monotonic() - t3, 3)
    order = ['peer', 'hosts', 'build_start_s', 'stop_s', 'ping_ok']
    out = {k: result[k] for k in order if k in result}
    out.update({k: v for k, v in result.items() if k not in out})
    print(json.dumps(out, separators=(',', ':')), flush=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
