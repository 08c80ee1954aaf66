"""The HTML report's memory picture (inline SVG, no script), from Diagnosis.dump.

Per zone: free pages as a bar against the min, low and high watermarks (each
zone on its own scale, the marks labelled), and free blocks by order (pages
held in free blocks of 2^order pages, the block count on each bar), so a reader
sees at a glance whether free memory was under the watermarks and whether an
order-N request had a block to take. Zone names come from the dump: escaped.
"""

from typing import Any, Callable, Dict, List

ROW_H, LABEL_W, PLOT_W = 30, 150, 420
_FREE, _MARK = "#4c78a8", "#c00"


def memory_svg(dump: Dict[str, Any], esc: Callable[[str], str]) -> str:
    """Both charts as one HTML fragment; "" when the dump has no zones. Facts read
    from VMCOREINFO alone have no watermarks: only the free blocks are drawn."""
    zones = [z for z in ((dump or {}).get("memory") or {}).get("zones") or [] if z.get("free_blocks_by_order")]
    marked = [z for z in zones if z.get("managed_pages") and z.get("wmark_high") is not None]
    return (_watermarks(marked, esc) if marked else "") + (_orders(zones, esc) if zones else "")


def _watermarks(zones: List[Dict[str, Any]], esc: Callable[[str], str]) -> str:
    height = len(zones) * (ROW_H + 16) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + PLOT_W + 220}" height="{height}" '
             'role="img" aria-label="free pages against watermarks per zone">']
    for i, z in enumerate(zones):
        y = 8 + i * (ROW_H + 16)
        top = max(z["free_pages"], z["wmark_high"] * 2, 1)
        scale = PLOT_W / top
        label = esc(f"node {z['node']} {z['name']}")
        parts.append(f'<text x="{LABEL_W - 6}" y="{y + ROW_H * 0.6:.1f}" text-anchor="end">{label}</text>'
                     f'<rect x="{LABEL_W}" y="{y}" width="{PLOT_W}" height="{ROW_H}" fill="#f4f4f4"/>'
                     f'<rect x="{LABEL_W}" y="{y}" width="{max(1.0, z["free_pages"] * scale):.1f}" '
                     f'height="{ROW_H}" fill="{_FREE}"><title>{label}: {z["free_pages"]} free pages'
                     f'</title></rect>')
        for name in ("min", "low", "high"):
            x = LABEL_W + z[f"wmark_{name}"] * scale
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - 2}" y2="{y + ROW_H + 2}" '
                         f'stroke="{_MARK}" stroke-width="1.5"><title>{name} {z[f"wmark_{name}"]} pages</title>'
                         f'</line><text x="{x:.1f}" y="{y + ROW_H + 12}" text-anchor="middle" '
                         f'fill="{_MARK}">{name}</text>')
        parts.append(f'<text x="{LABEL_W + PLOT_W + 6}" y="{y + ROW_H * 0.6:.1f}">{z["free_pages"]} free / '
                     f'high {z["wmark_high"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _orders(zones: List[Dict[str, Any]], esc: Callable[[str], str]) -> str:
    bw, gap, h = 26, 6, 90
    orders = max(len(z["free_blocks_by_order"]) for z in zones)
    width = LABEL_W + orders * (bw + gap) + 20
    height = len(zones) * (h + 34) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             'role="img" aria-label="free blocks by order per zone">']
    for i, z in enumerate(zones):
        y0 = 8 + i * (h + 34)
        pages = [n << o for o, n in enumerate(z["free_blocks_by_order"])]
        peak = max(pages) or 1
        label = esc("node %s %s" % (z["node"], z["name"]))
        parts.append(f'<text x="{LABEL_W - 6}" y="{y0 + h / 2:.1f}" text-anchor="end">{label}</text>')
        for o, (n, p) in enumerate(zip(z["free_blocks_by_order"], pages)):
            x = LABEL_W + o * (bw + gap)
            bh = h * p / peak
            parts.append(f'<rect x="{x}" y="{y0 + h - bh:.1f}" width="{bw}" height="{max(bh, 0.5):.1f}" '
                         f'fill="{_FREE if n else "#ddd"}"><title>order {o}: {n} free blocks of {1 << o} '
                         f'pages ({p} pages)</title></rect>'
                         f'<text x="{x + bw / 2}" y="{y0 + h + 12}" text-anchor="middle">{o}</text>'
                         f'<text x="{x + bw / 2}" y="{y0 + h + 24}" text-anchor="middle" fill="#555">{n}</text>')
    parts.append("</svg>")
    return ("<p class=\"meta\">Free blocks by order (bar: pages held in free blocks of that order; "
            "numbers: order, then block count)</p>" + "".join(parts))
