"""Bound the length of log-derived strings kept in findings.

Both the diagnosis (which stores log text in findings) and the renderers cut
untrusted text to a bounded length, so a 100 MB line stays bounded.
"""

from typing import Optional

# Longest log-derived string a finding keeps or a renderer shows.
MAX_TEXT = 2000


def clip(text: Optional[str], limit: int = MAX_TEXT) -> str:
    """Cut `text` to `limit` characters, saying how much was dropped."""
    if text is None:
        return ""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more chars]"

