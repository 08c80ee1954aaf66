"""rpc.c _issueRpcAndWait's "rpcSendMessage failed with status" is the NVIDIA resman's report
that the GSP firmware no longer takes RPCs ([[nvrm_fault_wordings]]): after the driver's own
WARNING it is that GPU fault (the posted corpus's WARNING-then-fault rule), and an Xid in the
log still names the failure above it."""

from triage.analysis import analyze_lines, analyze_path

from _posted import posted_path

_RPC = "[  200.000100] NVRM: GPU0 _issueRpcAndWait: rpcSendMessage failed with status 0x0000000f for fn 10 sequence 7!"


def test_posted_nvidia_warning_then_gsp_rpc_failures_is_the_gpu_fault():
    # 4511: WARNING in nvidia_dev_put_uuid [nvidia], then TLB invalidation and GSP RPC failures
    v = analyze_path(posted_path("4511")).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", "nvidia")


def test_the_rpc_failure_alone_is_a_gpu_fault():
    v = analyze_lines([_RPC]).verdict
    assert (v.category, v.culprit.module) == ("gpu_fault", "nvidia")


def test_an_xid_79_names_the_failure_above_the_rpc_failure():
    xid = "[  200.000000] NVRM: Xid (PCI:0000:01:00): 79, pid=1234, name=python3, GPU has fallen off the bus."
    v = analyze_lines([xid, _RPC]).verdict
    assert (v.category, v.title) == ("gpu_xid", "NVRM: GPU has fallen off the bus")
