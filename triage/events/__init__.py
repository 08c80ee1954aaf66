"""events layer of triage: kernel log text -> KernelLog (lines, events, facts).

Public API:
    parse_log(lines: Iterable[str], gpu: GpuData = None, reps: Reporters = None) -> KernelLog
    parse_text(text: str, gpu: GpuData = None, reps: Reporters = None) -> KernelLog
        `gpu`: the GPU data of the run's signature set (RuleSet.gpu_data: GPU
        device names, fault wordings, report functions); `reps`: its reporters'
        frames (RuleSet.reporters: [[report_frames]], [skip].report) and the
        [parser] lists (Reporters.names); the built-in data when None
    read_log_file(path, gpu=None, reps=None) -> KernelLog (streamed, bounded line length)
    iter_lines(binary_fp) -> Iterator[str]     (decode any bytes safely)
    decode_taint(taint: str) -> List[str]      ("P: proprietary module loaded", ...)

Event.kind values and their fields are listed in docs/events.md.
Every Event carries fields["headline"], the crash kind as syzkaller-style
titles spell it ("KASAN: use-after-free Read", "BUG: soft lockup", ...).
"""

from triage.events.parser import LogParser, parse_log, parse_text
from triage.events.reader import iter_lines, read_log_file
from triage.events.taint import decode_taint

__all__ = ["LogParser", "parse_log", "parse_text", "iter_lines", "read_log_file", "decode_taint"]
