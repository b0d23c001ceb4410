# Sourced by the shell checks of a live upgrade (tests/cross-release, tests/systemd). Defines guest_waiting_on_fault:
# with the caller's `ctl` (memsvcctl against the server under test), it makes VM "guest", an ORCHESTRATOR VM whose
# vCPU writes a private page as shared and waits on fault 1 (resolution timeout 10 minutes); resolved with CONVERT,
# its program checks what it wrote, reports 2 and halts. Returns once the vCPU waits, non-zero if it never does.
guest_waiting_on_fault() {
    ctl vm create --id guest --type sw-protected --policy orchestrator --resolution-timeout 600 > /dev/null
    ctl gmem create guest --size 2097152 > /dev/null
    ctl region set guest --slot 0 --gpa 0 --size 2097152 --gmem 1 > /dev/null
    ctl attr set guest --gpa 0 --size 4096 --private > /dev/null
    ctl vcpu load guest 0 -s "report 1; write 0x0 4096 0x5a shared; check 0x0 4096 0x5a shared; report 2; halt" > /dev/null
    ctl vcpu start guest 0 > /dev/null
    for _ in $(seq 100); do ctl vcpu get guest 0 | grep -q "waiting on fault 1" && return 0; sleep 0.1; done
    return 1
}
