"""The crash scenarios: what the guest runs and what crash it should produce.

`expected_category` and `expected_module` are the intent; the manifest records
what the serial log actually shows, and the manifest check compares the two.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

NV = "/proc/nvidia_trigger"
ACME = "/proc/acme_storage_trigger"


@dataclass(frozen=True)
class Scenario:
    name: str
    guest_cmd: str                      # shell run by the guest's init
    expected_category: str
    expected_module: Optional[str]
    cmdline: List[str] = field(default_factory=list)  # extra kernel parameters
    expected_events: List[str] = field(default_factory=list)  # earlier non-fatal events
    timeout: int = 240                  # seconds from boot to panic
    # where an architecture reports the same crash under another category
    by_arch: Dict[str, str] = field(default_factory=dict)

    def category_for(self, arch: str) -> str:
        """The category this scenario's crash has on `arch` ("x86_64", "arm64")."""
        return self.by_arch.get(arch, self.expected_category)


def _acme(cmd: str) -> str:
    return f"echo {cmd} > {ACME}"


SCENARIOS: Dict[str, Scenario] = {s.name: s for s in [
    Scenario("sysrq", "echo c > /proc/sysrq-trigger", "sysrq", None),
    Scenario("oom_panic", "echo 1 > /proc/sys/vm/panic_on_oom; /bin/hog",
             "oom_panic", None),
    Scenario("oom_kill_then_null",
             "/bin/hog; echo \"triage-gen: hog exited $?\"; sleep 3; " + _acme("null"),
             "null_deref", "acme_storage", expected_events=["oom_kill"]),
    Scenario("gpu_alloc_null", f"echo alloc_null > {NV}",
             "gpu_alloc_fail_null_deref", "nvidia", expected_events=["alloc_failure"]),
    Scenario("gpu_pagealloc_null", f"echo dma_null > {NV}",
             "gpu_alloc_fail_null_deref", "nvidia", expected_events=["alloc_failure"]),
    Scenario("gpu_null", f"echo null > {NV}", "gpu_null_deref", "nvidia"),
    Scenario("null_deref", _acme("null"), "null_deref", "acme_storage"),
    # arm64 has no #GP: the same non-canonical load is a level 0 translation
    # fault, "Unable to handle kernel paging request at virtual address dead4ead...".
    Scenario("gpf", _acme("gpf"), "gpf", "acme_storage", by_arch={"arm64": "paging_fault"}),
    Scenario("kernel_bug", _acme("bug"), "kernel_bug", "acme_storage"),
    Scenario("warn_panic", _acme("warn"), "warn_panic", "acme_storage",
             cmdline=["panic_on_warn=1"]),
    Scenario("soft_lockup", "echo 5 > /proc/sys/kernel/watchdog_thresh; " + _acme("softlockup"),
             "soft_lockup", "acme_storage", cmdline=["softlockup_panic=1"]),
    Scenario("hung_task",
             "echo 10 > /proc/sys/kernel/hung_task_timeout_secs; "
             "(" + _acme("hung") + ") &",
             "hung_task", "acme_storage", cmdline=["hung_task_panic=1"], timeout=300),
]}
