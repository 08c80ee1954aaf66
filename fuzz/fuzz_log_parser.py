"""Fuzz target: the kernel-log parser (line reader, prefixes, events) and the classifier on its result."""

import io

from _harness import instrumented, run

with instrumented():
    from triage.classify import classify, load_rules
    from triage.events import iter_lines, parse_log

RULES = load_rules()


def test_one(data: bytes) -> None:
    log = parse_log(iter_lines(io.BytesIO(data)))
    classify(log, RULES)


if __name__ == "__main__":
    run(test_one)
