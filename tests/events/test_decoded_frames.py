"""Frames in the forms a symboliser or a newer arm64 kernel prints them.

* scripts/decode_stacktrace.sh replaces `func+0x1c/0x30` by `func (file:line ...)`
  (addr2line -i's inline chain, innermost first, so the last location is the
  function's own file) and keeps a module's name after the parentheses, as `[mod]`
  or bare in newer versions of the script;
* arm64 dump_backtrace_entry() (6.13+) appends where the unwinder found the frame,
  ` (P)` / ` (L)` / ` (T)` / ` (C)`.

The lines are quoted from tuning-half posted logs 762 (decode_stacktrace output in
a dri-devel mail) and 364 (a Grace KASAN report with (P) marks), or built on the
script's format string where the corpus has no example (the bare module word)."""

import pytest

from triage.analysis import analyze_lines
from triage.events.frames import parse_ip_line, parse_trace_line

from _posted import posted_lines as _posted


def test_decoded_frame_keeps_the_function_and_its_own_file():
    fr = parse_trace_line(" a6xx_gmu_rpmh_init (arch/arm64/include/asm/io.h:43 include/asm-generic/io.h:293 "
                          "drivers/gpu/drm/msm/adreno/a6xx_gmu.h:183 drivers/gpu/drm/msm/adreno/a6xx_gmu.c:621) (P)")
    assert (fr.function, fr.module, fr.source) == ("a6xx_gmu_rpmh_init", None, "drivers/gpu/drm/msm/adreno/a6xx_gmu.c")
    fr = parse_trace_line(" component_bind_all (drivers/base/component.c:660)")
    assert (fr.function, fr.source, fr.reliable) == ("component_bind_all", "drivers/base/component.c", True)
    fr = parse_trace_line(" ? report_bug (lib/bug.c:201 lib/bug.c:219)")
    assert fr.function == "report_bug" and not fr.reliable


@pytest.mark.parametrize("line, module", [
    (" nouveau_fence_done (drivers/gpu/drm/nouveau/nouveau_fence.c:255) nouveau", "nouveau"),
    (" nouveau_fence_done+0x1c/0x30 (drivers/gpu/drm/nouveau/nouveau_fence.c:255) [nouveau]", "nouveau"),
])
def test_decoded_module_frame(line, module):
    fr = parse_trace_line(line)
    assert fr.function == "nouveau_fence_done" and fr.module == module


def test_decoded_faulting_location():
    fr = parse_ip_line("pc : a6xx_gmu_rpmh_init (arch/arm64/include/asm/io.h:43 "
                       "drivers/gpu/drm/msm/adreno/a6xx_gmu.c:621)")
    assert fr.function == "a6xx_gmu_rpmh_init" and fr.source == "drivers/gpu/drm/msm/adreno/a6xx_gmu.c"
    assert parse_ip_line("RIP: 0010:dma_fence_signal (drivers/dma-buf/dma-fence.c:467)").function == "dma_fence_signal"


def test_unresolved_decoded_locations_are_still_frames():
    # decode_stacktrace.sh without debuginfo: addr2line answers "??:?" or a bare file with
    # line "?" (posted 2216, the kernel test robot's bochs/ttm report). The frame is the
    # function; "??" is no source, and a bare file name names no driver by path, so the
    # built-in GPU library's prefix does (ttm_mem_io_reserve: ttm, not the work item's helper)
    fr = parse_ip_line("RIP: 0010:ttm_mem_io_reserve (??:?)")
    assert (fr.function, fr.source) == ("ttm_mem_io_reserve", None)
    fr = parse_trace_line(" ? bochs_pipe_update (bochs.c:?)")
    assert (fr.function, fr.source, fr.reliable) == ("bochs_pipe_update", "bochs.c", False)
    v = analyze_lines(_posted("2216")).verdict
    assert (v.category, v.culprit.module) == ("gpu_null_deref", "ttm")
    # prose with question marks in parentheses is not a frame
    assert parse_trace_line("did it crash (??:?) again") is None


def test_arm64_unwind_source_mark_is_not_part_of_the_frame():
    fr = parse_trace_line("\t  tegra_qspi_isr_thread+0xcc0/0x1e60 [spi_tegra210_quad] (P)")
    assert (fr.function, fr.offset, fr.module) == ("tegra_qspi_isr_thread", 0xcc0, "spi_tegra210_quad")
    assert parse_trace_line(" __switch_to+0xf8/0x1a8 (T)").function == "__switch_to"


@pytest.mark.parametrize("line", [
    "Hardware name: Pine64 Rock64 (DT)",
    "pstate: 80400005 (Nzcv daif +PAN -UAO -TCO -DIT -SSBS BTYPE=--)",
    "CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0-9-amd64 (Debian 6.1.27-1)",
    "see the fix (drivers/gpu/drm/msm/msm_drv.c:159)",
    "Unable to handle kernel paging request at virtual address (null)",
    "Mem abort info: (P)",
])
def test_prose_and_register_lines_are_not_frames(line):
    assert parse_trace_line(line) is None


def test_decoded_oops_in_a_builtin_driver_is_named_by_its_source_file():
    # 762: msm built in (empty module list), the frames decoded: the source file names the driver
    d = analyze_lines(_posted("762"))
    assert (d.verdict.category, d.verdict.culprit.module, d.verdict.culprit.function) == \
        ("gpu_fault", "msm", "a6xx_gmu_rpmh_init")


def test_decoded_core_frame_names_no_gpu_driver():
    # the same report with the faulting function decoded to a core file: no driver is named
    lines = [s.replace("drivers/gpu/drm/msm/adreno/a6xx_gmu.c", "drivers/base/regmap/regmap.c")
              .replace("drivers/gpu/drm/msm/adreno/a6xx_gmu.h", "drivers/base/regmap/internal.h")
             for s in _posted("762")]
    d = analyze_lines(lines)
    assert d.verdict.category == "paging_fault" and d.verdict.culprit.module is None


def test_decoded_faulting_location_with_a_bare_module_name():
    # 778: the kernel test robot's decode_stacktrace output keeps the module bare after the
    # parentheses, also on the RIP line
    fr = parse_ip_line("RIP: 0010:i915_gem_mmap (arch/x86/include/asm/atomic.h:23 "
                       "drivers/gpu/drm/i915/gem/i915_gem_mman.c:1027) i915")
    assert (fr.function, fr.module) == ("i915_gem_mmap", "i915")
    d = analyze_lines(_posted("778"))
    assert (d.verdict.category, d.verdict.culprit.module, d.verdict.culprit.function) == \
        ("gpu_fault", "i915", "i915_gem_mmap")
