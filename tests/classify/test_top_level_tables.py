"""Every top-level key read as a name -> value table refuses a file that gives it as a string,
number or array with a SignatureError naming the file and the key (the CLI's exit 8 message),
not an AttributeError from the loader (an internal error); a table there loads."""

import pytest

from triage.classify import load_rules
from triage.classify.rules import _TABLE_KEYS
from triage.errors import SignatureError


@pytest.mark.parametrize("key", _TABLE_KEYS)
@pytest.mark.parametrize("value", ['"x"', "3", '["x"]'])
def test_a_non_table_is_refused_naming_file_and_key(tmp_path, key, value):
    (tmp_path / "mine.toml").write_text(f"{key} = {value}\n")
    with pytest.raises(SignatureError) as exc:
        load_rules([str(tmp_path)])
    assert f"[{key}] must be a table" in str(exc.value) and "mine.toml" in str(exc.value)


@pytest.mark.parametrize("key", _TABLE_KEYS)
def test_an_empty_table_loads(tmp_path, key):
    (tmp_path / "mine.toml").write_text(f"[{key}]\n")
    assert load_rules([str(tmp_path)]).rules
