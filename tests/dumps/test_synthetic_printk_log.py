"""The synthetic pre-5.10 (struct printk_log / struct log) dumps are accepted only when
makedumpfile --dump-dmesg (Debian 1.7.2, the oracle) prints exactly the log the
generator meant to store, for the ELF and the kdump-compressed outputs alike.

Then triage must print the same text from every format, including the snappy and
zstd files this makedumpfile cannot read.
"""

import subprocess
import sys

import pytest

from _synthetic import DATA, MAKEDUMPFILE, generate, needs_makedumpfile, synthetic_elf  # noqa: F401


def _mdf_dmesg(path, tmp_path) -> str:
    out = tmp_path / "dmesg.out"
    if out.exists():
        out.unlink()
    p = subprocess.run([MAKEDUMPFILE, "--dump-dmesg", str(path), str(out)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()[-1500:]
    return out.read_text()


@needs_makedumpfile
@pytest.mark.parametrize("variant", list(generate.VARIANTS))
def test_makedumpfile_reads_generated_elf(synthetic_elf, variant, tmp_path):
    g = generate.make_guest(variant)
    text = _mdf_dmesg(synthetic_elf[variant], tmp_path)
    assert text == g.expected
    assert len(g.kept) > 25


@needs_makedumpfile
@pytest.mark.parametrize("variant", list(generate.VARIANTS))
@pytest.mark.parametrize("codec", ["zlib", "lzo"])
def test_makedumpfile_reads_generated_kdump(variant, codec, tmp_path):
    import kdump_writer
    g = generate.make_guest(variant)
    p = tmp_path / f"{variant}.kdump"
    generate.write_kdump(g, str(p), kdump_writer.KdumpSpec(codec=codec, phys_base=g.phys_base))
    assert _mdf_dmesg(p, tmp_path) == g.expected


@needs_makedumpfile
@pytest.mark.parametrize("name", ["centos7-wrapped.kdump-zlib", "centos7-wrapped.kdump-lzo",
                                  "centos8-dynamic.mdf-l-d31.kdump"])
def test_committed_files_match_makedumpfile(name, tmp_path):
    variant = name.split(".")[0]
    expected = (DATA / f"{variant}.dmesg.txt").read_text()
    assert _mdf_dmesg(DATA / name, tmp_path) == expected


def test_wrapped_variants_really_wrap():
    import printk_log
    for name in ("centos7-wrapped", "centos8-wrapped"):
        prof, recs, buflen, _dyn = generate.VARIANTS[name]
        ring = printk_log.build_ring(recs(), buflen, prof.log_align)
        assert ring.first_idx > ring.next_idx, name        # the live area wraps
        assert ring.first_seq > 0, name                    # and old records were dropped
        # a len == 0 wrap marker sits at the end of the used area
        end = ring.first_idx
        while True:
            ln = int.from_bytes(ring.buf[end + 8:end + 10], "little")
            if ln == 0:
                break
            end += ln
        assert end + 16 <= buflen


def test_committed_expected_text_is_reproducible():
    # Page contents are compared in test_kdump_reader; compressed bytes may differ
    # between library versions, so only the expected text is compared here.
    for variant in ("centos7-wrapped", "centos8-dynamic"):
        assert generate.make_guest(variant).expected == (DATA / f"{variant}.dmesg.txt").read_text()


@pytest.mark.parametrize("name", ["centos7-wrapped.kdump-zlib", "centos7-wrapped.kdump-lzo",
                                  "centos7-wrapped.kdump-snappy", "centos7-wrapped.kdump-zstd",
                                  "centos8-dynamic.kdump-snappy", "centos8-dynamic.kdump-zstd",
                                  "centos8-dynamic.mdf-l-d31.kdump", "centos8-dynamic.mdf-c-d31.flat"])
def test_triage_dmesg_prints_the_makedumpfile_text(name):
    """Expected text = what makedumpfile prints (checked above for the formats it reads)."""
    variant = name.split(".")[0]
    p = subprocess.run([sys.executable, "-m", "triage", "dmesg", str(DATA / name)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout.decode() == (DATA / f"{variant}.dmesg.txt").read_text()
