"""A task blocked in core code (a mailbox send, a page-flag wait) waits on the operation
the module below it in the trace asked for: the hung-task verdict names the first module
frame below the core guilty frame. A hung task whose trace holds no module stays core,
and other report kinds keep the core frame (an oops in mbox_send_message is the core's)."""

from triage.analysis import analyze_lines

from _posted import posted_lines, verdict_with_function as _verdict

WAIT = ["[ 1330.1] INFO: task kworker/0:0:6 blocked for more than 120 seconds.",
        "[ 1330.2] Call trace:",
        "[ 1330.3]  __switch_to+0xf8/0x150",
        "[ 1330.4]  __schedule+0x37c/0x141c",
        "[ 1330.5]  schedule+0x54/0xc4",
        "[ 1330.6]  schedule_timeout+0xa4/0x190",
        "[ 1330.7]  __wait_for_common+0xc4/0x224",
        "[ 1330.8]  wait_for_completion_timeout+0x2c/0x40"]
CORE_BELOW = ["[ 1331.0]  mbox_send_message+0xf0/0x1f4",
              "[ 1331.1]  rpi_firmware_property_list+0xf8/0x280",
              "[ 1331.2]  rpi_firmware_property+0x7c/0xc0"]


def test_posted_937_clock_driver_firmware_call_stuck_in_the_mailbox():
    assert _verdict(posted_lines("937"))[:2] == ("hung_task", "clk_raspberrypi")


def test_posted_1711_nfs_release_stuck_in_a_page_flag_wait():
    assert _verdict(posted_lines("1711"))[:2] == ("hung_task", "nfs")


def test_module_frame_below_a_core_wait_is_named():
    assert _verdict(WAIT + CORE_BELOW + [
        "[ 1331.3]  raspberrypi_fw_set_rate+0x64/0xe4 [clk_raspberrypi]",
        "[ 1331.4]  clk_change_rate+0xe4/0x470",
        "[ 1331.5]  process_one_work+0x210/0x480"]) == ("hung_task", "clk_raspberrypi", "raspberrypi_fw_set_rate")


def test_core_only_hung_task_stays_core():
    assert _verdict(WAIT + CORE_BELOW + [
        "[ 1331.3]  clk_change_rate+0xe4/0x470",
        "[ 1331.4]  process_one_work+0x210/0x480"]) == ("hung_task", None, "mbox_send_message")


def test_an_oops_in_core_code_called_by_a_module_stays_core():
    d = analyze_lines(["[  10.0] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008",
                       "[  10.1] pc : mbox_send_message+0x40/0x1f4",
                       "[  10.2] Call trace:",
                       "[  10.3]  mbox_send_message+0x40/0x1f4",
                       "[  10.4]  rpi_firmware_property_list+0xf8/0x280",
                       "[  10.5]  raspberrypi_fw_set_rate+0x64/0xe4 [clk_raspberrypi]",
                       "[  10.6]  clk_change_rate+0xe4/0x470"])
    assert d.verdict.culprit.module is None
