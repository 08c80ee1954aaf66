"""The batch's scratch SQLite files (triage.batch.scratch): unlinked once open, and unlinked,
with nothing left open, when opening fails: merge and --redact make theirs in the output
directory, which no later run clears."""

import os
import sqlite3

import pytest

from triage.batch import fleetdb, scratch, spool


def _fds() -> set:
    return set(os.listdir("/proc/self/fd"))


def test_open_scratch_unlinks_its_file_and_works(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"")
    db = scratch.open_scratch(str(path), "CREATE TABLE t (x INTEGER);")
    try:
        assert not path.exists()
        db.execute("INSERT INTO t VALUES (1)")
        db.execute("COMMIT")
        assert db.execute("SELECT x FROM t").fetchall() == [(1,)]
    finally:
        db.close()


@pytest.mark.parametrize("make", [lambda p: fleetdb.FleetDB(p), lambda p: spool.Spool(p)])
def test_a_failed_open_leaves_no_file_and_no_descriptor(tmp_path, monkeypatch, make):
    # a full disk, or a schema SQLite refuses: executescript raises after the file exists
    path = tmp_path / ".triage-fleet-x.sqlite"
    path.write_bytes(b"")
    before = _fds()
    monkeypatch.setattr(fleetdb, "_SCHEMA", "CREATE TABLE (;")
    monkeypatch.setattr(spool, "_SCHEMA", "CREATE TABLE (;")
    with pytest.raises(sqlite3.Error):
        make(str(path))
    assert not path.exists()
    assert _fds() == before


def test_fleet_of_texts_lets_go_of_its_database_when_a_record_fails(tmp_path):
    path = tmp_path / "fleet.sqlite"
    path.write_bytes(b"")
    before = _fds()
    with pytest.raises(ValueError):
        fleetdb.fleet_of_texts(str(path), ['{"id": "a", "status": "error"}', "{not json"])
    assert not path.exists() and _fds() == before
    fdb, views = fleetdb.fleet_of_texts(None, ['{"id": "a", "status": "error"}'])
    try:
        assert views["summary"]["error"] == 1 and list(views["errors"]) == [{"dump": "a", "host": None, "error": None}]
    finally:
        fdb.close()


def test_records_and_rows_index_like_lists():
    recs = [{"id": f"d{i}", "status": "error", "error": str(i)} for i in range(5)]
    fdb = fleetdb.FleetDB()
    try:
        for r in recs:
            fdb.add(r)
        views = fdb.finish()
        stored, errors = fdb.records(), views["errors"]
        want_errors = [{"dump": r["id"], "host": None, "error": r["error"]} for r in recs]
        for i in range(-7, 7):
            for got, want in ((stored, recs), (errors, want_errors)):
                if -5 <= i < 5:
                    assert got[i] == want[i]
                else:       # SQLite takes a negative OFFSET as 0: recs[-6] was the first record
                    with pytest.raises(IndexError):
                        got[i]
        assert stored[:2] == recs[:2] and stored[1:4] == recs[1:4] and errors[::-2] == want_errors[::-2]
        assert len(stored) == 5 and stored == recs and bool(errors)
    finally:
        fdb.close()
