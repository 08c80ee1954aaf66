"""powerpc's call-trace frames (arch/powerpc/kernel/process.c show_stack: "[sp] [ip] %pS",
the link register's guess marked " (unreliable)", ELFv1 dot symbols on 64-bit) are frames,
and an allocation failure on powerpc is blamed on the module that asked."""

from triage.analysis import analyze_lines
from triage.events.frames import parse_trace_line


def test_ppc64_elfv1_dot_symbol_frame_with_module():
    fr = parse_trace_line("[c000000ffffcbbb0] [d000000009639b40] .tg3_poll_work+0x900/0x1110 [tg3]")
    assert (fr.function, fr.offset, fr.module, fr.reliable) == ("tg3_poll_work", 0x900, "tg3", True)


def test_ppc_unreliable_frame_and_ppc32_addresses():
    fr = parse_trace_line("[cf9cfef0] [c0072804] vfs_write+0x9c/0x16c (unreliable)")
    assert (fr.function, fr.reliable) == ("vfs_write", False)
    fr = parse_trace_line(" [c000000ffffcb610] [c000000000017330] show_stack+0x130/0x200")
    assert (fr.function, fr.reliable) == ("show_stack", True)


def test_not_frames():
    # register dumps, a bracketed pair without a symbol, and prose stay non-frames
    for text in ("[c000000ffffcb610] [c000000000017330]",
                 "NIP [c000000000d02480] LR [c000000000151318]",
                 "[c000000ffffcb610] [c000000000017330] some words here",
                 "[  252.718716] GPR00: c000000000151318 c000003fe35b7050"):
        assert parse_trace_line(text) is None, text


def test_ppc64_allocation_failure_names_the_driver_that_asked():
    v = analyze_lines([
        "[ 10.0] swapper/0: page allocation failure: order:0, mode:0x20",
        "[ 10.1] CPU: 0 PID: 0 Comm: swapper/0 Not tainted 3.10.23 #1",
        "[ 10.2] Call Trace:",
        "[ 10.3] [c000000ffffcb610] [c000000000017330] .show_stack+0x130/0x200 (unreliable)",
        "[ 10.4] [c000000ffffcb6e0] [c00000000087a8c8] .dump_stack+0x28/0x3c",
        "[ 10.5] [c000000ffffcb750] [c0000000001e06f0] .warn_alloc_failed+0x110/0x160",
        "[ 10.6] [c000000ffffcb800] [c0000000001e5984] .__alloc_pages_nodemask+0x9d4/0xbf0",
        "[ 10.7] [c000000ffffcb9e0] [c00000000023775c] .alloc_pages_current+0xcc/0x1b0",
        "[ 10.8] [c000000ffffcba80] [c0000000007098d4] .__netdev_alloc_frag+0x1a4/0x1d0",
        "[ 10.9] [c000000ffffcbb20] [c00000000070d750] .__netdev_alloc_skb+0xc0/0x130",
        "[ 11.0] [c000000ffffcbbb0] [d000000009639b40] .tg3_poll_work+0x900/0x1110 [tg3]",
        "[ 11.1] [c000000ffffcbd10] [d00000000963a3a4] .tg3_poll_msix+0x54/0x200 [tg3]",
        "[ 11.2] [c000000ffffcbdb0] [c00000000071fcec] .net_rx_action+0x1dc/0x310",
    ]).verdict
    assert (v.category, v.culprit.module, v.culprit.function) == ("alloc_failure", "tg3", "tg3_poll_work")


def test_ppc64_elfv1_nip_line_names_the_function_without_its_dot():
    from triage.events.frames import parse_ip_line
    fr = parse_ip_line("NIP [d000000009639b40] .tg3_poll_work+0x900/0x1110 [tg3]")
    assert (fr.function, fr.module) == ("tg3_poll_work", "tg3")
    assert parse_ip_line("NIP [c0458840] BIT_flushBits+0x1c/0x58").function == "BIT_flushBits"
