"""The JSON form: Diagnosis.to_dict(), versioned (docs/json-schema.md)."""

import json

from triage.report.escape import clean_json_value
from triage.findings import Diagnosis


def render_json(d: Diagnosis) -> str:
    """One JSON object, pure ASCII: control characters (C0, C1), bidi overrides
    and all non-ASCII are \\u-escaped, so it is safe on a terminal; undecodable bytes
    appear as `\\xNN` text so the output is always valid UTF-8."""
    return json.dumps(clean_json_value(d.to_dict()), indent=2, ensure_ascii=True) + "\n"
