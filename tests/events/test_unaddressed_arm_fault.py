"""An arm/arm64 "Unable to handle kernel paging request at virtual address" line that lost
its address (wrapped after "virtual", as in tuning-half posted log 1336) takes the address
show_pte() prints on its "[%016lx] pgd=" line: near NULL it is a NULL dereference."""

from triage.events.parser import parse_log

WRAPPED = [
    "[    5.424958] Unable to handle kernel paging request at virtual",
    "address 00001008",
    "[    5.435485] Mem abort info:",
    "[    5.442509]   Exception class = DABT (current EL), IL = 32 bits",
    "[    5.463951] user pgtable: 4k pages, 48-bit VAs, pgd = ffff80003d66d000",
    "[    5.467078] [0000000000001008] *pgd=0000000000000000",
    "[    5.470000] Internal error: Oops: 96000045 [#1] PREEMPT SMP",
    "[    5.520155] pc : clk_reparent+0x60/0xe8",
    "[    5.520300] Call trace:",
    "[    5.520400]  clk_reparent+0x60/0xe8",
    "[    5.520500]  __clk_set_parent_before+0x40/0x88",
]


def test_show_pte_address_names_a_near_null_fault():
    ev = parse_log(WRAPPED).events[0]
    assert ev.kind == "null_deref"
    assert ev.fields["address"] == 0x1008


def test_show_pte_address_above_the_limit_stays_a_paging_fault():
    lines = [l.replace("0000000000001008", "ffff000012345678") for l in WRAPPED]
    ev = parse_log(lines).events[0]
    assert ev.kind == "paging_fault"
    assert ev.fields["address"] == 0xffff000012345678


def test_a_header_with_its_address_keeps_it():
    lines = ["[    5.424958] Unable to handle kernel paging request at virtual address ffff000012345678"] + WRAPPED[2:]
    ev = parse_log(lines).events[0]
    assert ev.kind == "paging_fault"
    assert ev.fields["address"] == 0xffff000012345678


def test_posted_1336_whole_log():
    # the real log WRAPPED is quoted from (labels.toml: null_deref, no module)
    from _posted import posted_lines
    ev = parse_log(posted_lines("1336")).events[0]
    assert (ev.kind, ev.fields["address"]) == ("null_deref", 0x1008)
