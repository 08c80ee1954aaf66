"""Page-fragment refills (skb_page_frag_refill, sk_page_frag_refill) and the page
pool only hand pages to whoever asked: an allocation failure under them names the
driver or protocol below them, and stays core when the core asked."""

from triage.analysis import analyze_lines

from _posted import posted_lines

HEAD = ["[  785.581200] kworker/0:1: page allocation failure: order:0, mode:0x4020(GFP_ATOMIC|__GFP_HIGHMEM)",
        "[  785.581210] CPU: 0 PID: 12 Comm: kworker/0:1 Not tainted 5.4.0 #1",
        "[  785.581220] Call Trace:",
        "[  785.581230]  dump_stack+0x6d/0x8b",
        "[  785.581240]  warn_alloc+0xfe/0x160",
        "[  785.581250]  __alloc_pages_slowpath+0xe07/0xe40",
        "[  785.581260]  __alloc_pages_nodemask+0x2cd/0x320",
        "[  785.581270]  alloc_pages_current+0x6a/0xe0"]


def _module(lines):
    d = analyze_lines(lines)
    assert d.verdict.category == "alloc_failure"
    return d.verdict.culprit.module if d.verdict.culprit else None


def test_posted_1412_virtio_net_receive_refill():
    lines = posted_lines("1412")
    assert _module(lines) == "virtio_net"


def test_page_pool_under_a_driver_names_the_driver():
    assert _module(HEAD + ["[  785.581280]  page_pool_alloc_pages+0x21/0x60",
                           "[  785.581290]  mlx5e_post_rx_wqes+0x1a0/0x600 [mlx5_core]",
                           "[  785.581300]  mlx5e_napi_poll+0x10d/0x6d0 [mlx5_core]"]) == "mlx5_core"


def test_socket_fragment_refill_for_core_tcp_stays_core():
    assert _module(HEAD + ["[  785.581280]  skb_page_frag_refill+0xd4/0x100",
                           "[  785.581290]  sk_page_frag_refill+0x1d/0x80",
                           "[  785.581300]  tcp_sendmsg_locked+0x2a1/0xd90",
                           "[  785.581310]  tcp_sendmsg+0x27/0x40"]) is None
