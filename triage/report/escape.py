"""Make untrusted log text safe to show: terminals, Markdown and HTML.

Kernel logs are attacker-influenced (a process name, a USB device string, a
fuzzer's payload). Anything taken from a log goes through one of these
functions before a renderer emits it, so no escape sequence reaches a
terminal and no markup reaches a browser.
"""

import html
import re
from typing import Optional

from triage.textclip import MAX_TEXT, clip  # noqa: F401  (re-exported for renderers)


_BIDI = {0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
         0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF}


def _escape_char(ch: str) -> str:
    cp = ord(ch)
    if cp == 0x09:
        return " "
    if cp == 0x0A:
        return "\\n"
    if cp == 0x0D:
        return "\\r"
    if cp < 0x20 or cp == 0x7F or 0x80 <= cp <= 0x9F:
        return f"\\x{cp:02x}"
    if 0xDC80 <= cp <= 0xDCFF:
        # a byte that was not UTF-8, kept by surrogateescape decoding
        return f"\\x{cp - 0xDC00:02x}"
    if 0xD800 <= cp <= 0xDFFF or cp in _BIDI:
        return f"\\u{cp:04x}"
    return ch


_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")




def safe_text(text: Optional[str], limit: int = MAX_TEXT) -> str:
    """Text for a terminal: control characters, escape sequences, bidi
    overrides and undecodable bytes become visible `\\xNN`/`\\uNNNN` escapes."""
    if text is None:
        return ""
    text = clip(text, limit)
    return _UNSAFE.sub(lambda m: _escape_char(m.group(0)), text)


def safe_html(text: Optional[str], limit: int = MAX_TEXT) -> str:
    """Text for HTML element content or a quoted attribute value."""
    return html.escape(safe_text(text, limit), quote=True)


# Inline Markdown: emphasis, code, links/images ([...] and the "![" prefix), tables,
# strikethrough. Line-start markers (#, -, +, 1.) cannot occur: log text is
# always placed after a renderer's own prefix.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def safe_markdown(text: Optional[str], limit: int = MAX_TEXT) -> str:
    """Text for Markdown prose or a table cell: Markdown punctuation is
    backslash-escaped and HTML metacharacters become entities, so a log line
    can neither format the document nor inject raw HTML."""
    s = safe_text(text, limit)
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # '>' was turned into an entity above; escape the rest of the specials.
    return _MD_SPECIAL.sub(r"\\\1", s)


def markdown_fence(body: str) -> str:
    """A fence of backticks longer than any run of backticks inside `body`."""
    longest = max((len(m.group(0)) for m in re.finditer(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def clean_json_value(value):
    """Replace lone surrogates (undecodable bytes) so the value encodes as UTF-8 JSON."""
    if isinstance(value, str):
        if re.search("[\ud800-\udfff]", value):
            return re.sub("[\ud800-\udfff]", lambda m: _escape_char(m.group(0)), value)
        return value
    if isinstance(value, dict):
        return {k: clean_json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_json_value(v) for v in value]
    return value
