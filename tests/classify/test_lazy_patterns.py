"""Built-in rule regexes are compiled on first use (LazyPattern); this is where
a bad one is caught, and user rule files still fail at load."""

import re

import pytest

from triage.classify.rules import load_files, load_rules
from triage.lazyre import LazyPattern
from triage.errors import SignatureError


def _patterns(rs):
    for pats in rs.skip.values():
        yield from pats
    for r in rs.rules:
        for cond in (r.match, r.match.preceded_by, r.match.not_preceded_by, r.match.followed_by):
            if cond is None:
                continue
            yield from cond.fields.values()
            yield from (getattr(cond, "not_fields", None) or {}).values()


def test_every_builtin_regex_compiles():
    pats = list(_patterns(load_rules()))
    assert len(pats) > 100
    lazy = [p for p in pats if isinstance(p, LazyPattern)]
    assert len(lazy) == len(pats)
    for p in lazy:
        assert isinstance(p.compiled(), re.Pattern), p.pattern


def test_lazy_pattern_behaves_like_compiled():
    p = LazyPattern(r"^(foo|ba+r)$")
    assert p._re is None
    assert p.search("baar") and not p.match("x") and p.pattern == r"^(foo|ba+r)$"
    assert "search" in vars(p)        # later calls skip __getattr__
    assert p.flags == re.compile(p.pattern).flags


def test_user_file_bad_regex_fails_at_load(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text('[[rule]]\nid = "x"\ntitle = "t"\ncategory = "oom_kill"\nseverity = "low"\nmeaning = "m"\n'
                 '[rule.match]\nkind = "oom_kill"\nfields = { comm = "(" }\n')
    with pytest.raises(SignatureError, match="bad regex"):
        load_files([f])
