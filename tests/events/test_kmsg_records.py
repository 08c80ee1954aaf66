"""/dev/kmsg and netconsole extended records: `cat /dev/kmsg` and netconsole's extended
mode print "<level>,<seq>,<usec>,<flags>[,caller=T123][,ncfrag=<off>/<len>];<message>"
(Documentation/ABI/testing/dev-kmsg, Documentation/networking/netconsole.rst). The header
is a prefix, as a printk stamp is; so is what is left of it when a poster cut it down to
the caller id ("T124;", "T124,ncfrag=0/1022;"), and a syslog date and host before it.

Lines quoted from tuning-half posted log 916 (netconsole from an amdgpu laptop)."""

import pytest

from triage.analysis import analyze_lines
from triage.events.prefix import strip_prefix


@pytest.mark.parametrize("line, msg, ts, caller, host", [
    ("6,339,5140900,-;NET: Registered protocol family 10", "NET: Registered protocol family 10", 5.1409, None, None),
    ("4,1297,74466412,-,caller=T124;RAX: 0000000000000000", "RAX: 0000000000000000", 74.466412, "T124", None),
    ("4,1297,74466412,c,caller=T124,ncfrag=0/1022;Modules linked in: a", "Modules linked in: a", 74.466412,
     "T124", None),
    ("Aug 31 12:01:07 localhost 4,1297,74466412,-,caller=T124;RAX: 0", "RAX: 0", 74.466412, "T124", "localhost"),
    ("T124;------------[ cut here ]------------", "------------[ cut here ]------------", None, "T124", None),
    ("T124,ncfrag=956/1022;mac80211 libarc4", "mac80211 libarc4", None, "T124", None),
    ("C3; rcu_do_batch+0x1b6/0x540", " rcu_do_batch+0x1b6/0x540", None, "C3", None),
])
def test_kmsg_record_header_is_a_prefix(line, msg, ts, caller, host):
    got = strip_prefix(line)
    assert got[0] == msg and got[2] == caller and got[3] == host
    assert (got[1] is None) == (ts is None) and (ts is None or abs(got[1] - ts) < 1e-6)


@pytest.mark.parametrize("line", [
    "Test: 1;", "12,34;x", "T124 is not a header;", "CPU: 3 PID: 1 Comm: swapper/0",
    "Tainted: [W]=WARN", "Aug 31 12:01:07 localhost systemd[1]: Started x",
])
def test_other_text_keeps_its_words(line):
    assert strip_prefix(line)[0] == line


def test_netconsole_warning_is_read():
    lines = [
        "T124;------------[ cut here ]------------",
        "T124;percpu ref (css_release) <= 0 (-1) after switching to atomic",
        "T124;WARNING: lib/percpu-refcount.c:197 at percpu_ref_switch_to_atomic_rcu+0x194/0x1a0, CPU#11: rcuc/11/124",
        "T124,ncfrag=0/1022;Modules linked in: netconsole ccm amdgpu drm_client_lib",
        "T124;CPU: 11 UID: 0 PID: 124 Comm: rcuc/11 Tainted: G        W           6.17.0-rc3-next-20250829-master #215",
        "T124;RIP: 0010:percpu_ref_switch_to_atomic_rcu+0x194/0x1a0",
        "T124;Call Trace:",
        "T124; <TASK>",
        "T124; rcu_do_batch+0x1b6/0x540",
        "T124; rcu_core+0x141/0x250",
        "T124; </TASK>",
        "T124;---[ end trace 0000000000000000 ]---",
    ]
    v = analyze_lines(lines).verdict
    assert v.category == "warning"
    assert v.culprit.module in (None, "") and v.culprit.function == "percpu_ref_switch_to_atomic_rcu"
