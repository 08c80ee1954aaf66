"""Every part of an OOM report, in the wordings of mm/oom_kill.c and mm/memcontrol.c
from 2.6.9 to 6.x, read as an OOM event on its own (an excerpt may hold any part).

Oracle: the format strings (cited in triage/events/headers.py and parser.py)."""

import pytest

from triage.analysis import analyze_lines

OOM = [
    # 2.6.9-2.6.18 out_of_memory()
    ["oom-killer: gfp_mask=0xd0, order=0"],
    # 2.6.2x invoked line, oomkilladj; 2.6.32 oom_adj
    ["java invoked oom-killer: gfp_mask=0x201d2, order=0, oomkilladj=0"],
    ["java invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0, oom_score_adj=0"],
    # 2.6.32-2.6.35 oom_kill_process / __oom_kill_task
    ["Out of memory: kill process 2345 (java) score 912 or a child"],
    ["Memory cgroup out of memory: kill process 2345 (java) score 999 or a child"],
    ["Killed process 2345 (java) vsz:4123456kB, anon-rss:3000000kB, file-rss:1234kB"],
    # (2.6.19-2.6.31 printed a bare "Killed process %d (%s)" after the kill line above; alone it
    # is any program's wording and stays unread, tests/events/test_posted_wordings.py)
    # dump_header()'s line wrapped at the blank after "invoked oom-killer:", gfp on the next line
    ["Xorg invoked oom-killer:", "gfp_mask=0x240c0d0(GFP_TEMPORARY|__GFP_COMP|__GFP_ZERO), order=3,",
     "oom_score_adj=0"],
    ["Xorg invoked oom-killer: "],
    # 2.6.36-5.0
    ["Out of memory: Kill process 2345 (java) score 953 or sacrifice child"],
    ["Out of memory (oom_kill_allocating_task): Kill process 2345 (java) score 0 or sacrifice child"],
    ["Killed process 2345 (java) total-vm:4123456kB, anon-rss:3000000kB, file-rss:0kB, shmem-rss:0kB"],
    # 5.1+
    ["Out of memory: Killed process 2345 (java) total-vm:4123456kB, anon-rss:3000000kB, file-rss:0kB, "
     "shmem-rss:0kB, UID:1000 pgtables:6000kB oom_score_adj:0"],
    ["oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,"
     "task=java,pid=2345,uid=1000"],
    # the reaper (4.6+)
    ["oom_reaper: reaped process 2345 (java), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"],
    ["oom_reaper: unable to reap pid:2345 (java)"],
    # memory cgroup report lines (v1 and v2)
    ["Task in /docker/abc killed as a result of limit of /docker/abc"],
    ["memory: usage 1048576kB, limit 1048576kB, failcnt 123"],
    ["memory+swap: usage 1048576kB, limit 9007199254740988kB, failcnt 0"],
    ["kmem: usage 10240kB, limit 9007199254740988kB, failcnt 0"],
    ["swap: usage 0kB, limit 9007199254740988kB, failcnt 0"],
    # the task table, headers of each era
    ["Tasks state (memory values in pages):"],
    ["[ pid ]   uid  tgid total_vm      rss cpu oom_adj oom_score_adj name"],
    ["[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name"],
]


@pytest.mark.parametrize("lines", OOM, ids=[l[0][:50] for l in OOM])
def test_any_part_of_an_oom_report_is_an_oom_kill(lines):
    v = analyze_lines([f"[  101.{i:06d}] {l}" for i, l in enumerate(lines)]).verdict
    assert v.category == "oom_kill", (lines, v.category, v.title)


@pytest.mark.parametrize("line", [
    "Dec 01 10:00:00 host systemd[1]: foo.service: Killing process 1234 (foo) with signal SIGKILL.",
    "Dec 01 10:00:01 host earlyoom[812]: sending SIGTERM to process 1234 uid 1000 \"java\": badness 900",
    "Dec 01 10:00:02 host systemd-oomd[601]: Killed /user.slice/app.scope due to memory pressure",
    "[  101.000000] Killed process 1234 (foo) because the user asked",
    # prose naming the OOM killer without dump_header()'s colon, or the colon not at the cut
    "[  101.000000] then Xorg invoked oom-killer",
    "[  101.000000] Xorg invoked oom-killer:because of chrome",
])
def test_not_the_oom_killer(line):
    assert analyze_lines([line]).verdict.category == "none"


def test_reaper_after_the_kill_stays_part_of_it():
    from triage.events import parse_log
    log = parse_log(["[  100.000000] Out of memory: Killed process 1234 (stress) total-vm:8kB, anon-rss:8kB, "
                     "file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:16kB oom_score_adj:0",
                     "[  100.100000] oom_reaper: reaped process 1234 (stress), now anon-rss:0kB, file-rss:0kB, "
                     "shmem-rss:0kB"])
    assert [e.kind for e in log.events] == ["oom_kill", "oom_reaper"]


@pytest.mark.parametrize("line,pid", [
    # 2.6.2x-2.6.35 oom_kill_process() "%s: kill process %d (%s) score %li or a child" with the
    # constrained kills' messages ("No available memory (MPOL_BIND)", 2.6.2x "No available memory
    # in cpuset"), cut by a terminal's width after the comm or the score, as the unconstrained one
    ("No available memory (MPOL_BIND): kill process 2345 (java)", 2345),
    ("No available memory in cpuset: kill process 2346 (java) score 0", 2346),
    ("Out of memory: kill process 2347 (java) score 912", 2347),
    # 4.19+ __oom_kill_process() "%s: OOM victim %d (%s) is already exiting. Skip killing the task"
    # with out_of_memory()'s oom_kill_allocating_task message (a memory.oom.group member)
    ("Out of memory (oom_kill_allocating_task): OOM victim 2348 (java) is already exiting. Skip killing the task",
     2348),
    ("Memory cgroup out of memory: OOM victim 2349 (java) is already exiting. Skip killing the task", 2349),
])
def test_every_oom_kill_process_message_prefixes_the_cut_and_exiting_lines(line, pid):
    from triage.events.headers import match_header
    h = match_header(line)
    assert h is not None and h.kind == "oom_kill" and h.fields["victim_pid"] == pid, line
    assert analyze_lines([f"[  101.000000] {line}"]).verdict.category == "oom_kill"


@pytest.mark.parametrize("line", [
    # no kernel printed the constrained kills' messages before "OOM victim" (gone since 2.6.36)
    "No available memory (MPOL_BIND): OOM victim 2345 (java) is already exiting. Skip killing the task",
    "No available memory in cpuset: OOM victim 2345 (java) is already exiting. Skip killing the task",
    # not a message of oom_kill_process()
    "No memory available: kill process 2345 (java)",
    "Killing process 2345 (java)",
    "cgroup out of memory: OOM victim 2345 (java) is already exiting",
])
def test_not_an_oom_kill_process_message(line):
    from triage.events.headers import match_header
    h = match_header(line)
    assert h is None or h.kind != "oom_kill", line
