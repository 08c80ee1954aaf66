"""Pick a renderer by name: text (default), json, markdown, html."""

from typing import Callable, Optional

from triage.findings import Diagnosis

FORMATS = ("text", "json", "markdown", "html")


def renderer(fmt: str) -> Callable[[Diagnosis], str]:
    """The render function for `fmt` (imported lazily: the CLI pays only for one)."""
    if fmt == "text":
        from triage.report.text import render_text as fn
    elif fmt == "json":
        from triage.report.jsonfmt import render_json as fn
    elif fmt == "markdown":
        from triage.report.markdown import render_markdown as fn
    elif fmt == "html":
        from triage.report.html import render_html as fn
    else:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return fn


def render(d: Diagnosis, fmt: str = "text", width: Optional[int] = None) -> str:
    """`d` rendered in `fmt`; `width` (columns) bounds the text format's lines."""
    if fmt == "text" and width is not None:
        from triage.report.text import render_text
        return render_text(d, width)
    return renderer(fmt)(d)
