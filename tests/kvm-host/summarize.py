#!/usr/bin/env python3
"""Ran, passed, failed and skipped kvm tests per capability: joins xunit's XML results with the capability log
that the tests' HostRequirements gate writes (MEMSVC_CAPABILITY_LOG: test name, backend, needs), after the
line that states what the kvm backend's probe found on the host.

    summarize.py CAPABILITY_LOG RESULTS.xml [RESULTS.xml ...]

A test that needs nothing beyond /dev/kvm is counted under "kvm"; a test that never reached the gate (it failed
before, or does not open the hypervisor) under "(opens no hypervisor)". Prints one line per capability, then the totals as
'kvm tests: N passed, N failed, N skipped'."""
import collections
import sys
import xml.etree.ElementTree as ET


def read_log(path):
    """The needs of each test, and the probe lines ("#probe<TAB>backend: capabilities"), each once."""
    needs = collections.defaultdict(set)
    probes = []
    try:
        with open(path, encoding="utf-8") as log:
            for line in log:
                parts = line.rstrip("\n").split("\t")
                if len(parts) == 2 and parts[0] == "#probe":
                    if parts[1] not in probes:
                        probes.append(parts[1])
                elif len(parts) == 3:
                    name, _backend, caps = parts
                    needs[name].update(c for c in caps.split(",") if c != "none")
    except FileNotFoundError:
        pass
    return needs, probes


def results(paths):
    for path in paths:
        for test in ET.parse(path).getroot().iter("test"):
            yield test.get("name").replace("\\\"", "\""), test.get("result"), (test.findtext("reason") or "").strip()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    needs, probes = read_log(sys.argv[1])
    for probe in probes:
        print(f"probed: {probe}")
    table = collections.defaultdict(collections.Counter)
    totals = collections.Counter()
    reasons = collections.Counter()
    for name, result, reason in results(sys.argv[2:]):
        result = {"Pass": "passed", "Fail": "failed", "Skip": "skipped"}.get(result, "other")
        totals[result] += 1
        if result == "skipped":
            reasons[reason.splitlines()[0][:160] if reason else "(no reason)"] += 1
        caps = needs.get(name)
        if caps:
            columns = sorted(caps)
        elif name in needs:
            columns = ["kvm"]
        elif name.startswith("MemSvc.Server.Tests."):
            columns = ["kvm, through the gRPC API"]
        else:
            columns = ["(opens no hypervisor)"]
        for cap in columns:
            table[cap][result] += 1
    print(f"{'capability':<32} {'ran':>5} {'passed':>7} {'failed':>7} {'skipped':>8}")
    for cap in sorted(table):
        c = table[cap]
        print(f"{cap:<32} {c['passed'] + c['failed']:>5} {c['passed']:>7} {c['failed']:>7} {c['skipped']:>8}")
    for reason, count in reasons.most_common():
        print(f"  skipped {count}x: {reason}")
    print(f"kvm tests: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped")


if __name__ == "__main__":
    main()
