"""Redaction of database drivers' errors: one line, no password, only for what a driver raised."""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

from flock_nbext.redaction import driver_error_reason


def test_a_driver_error_becomes_its_first_line_with_secrets_masked():
    try:
        sqlite3.connect(":memory:").execute("select * from missing_table")
    except sqlite3.Error as exc:
        assert driver_error_reason(exc) == "no such table: missing_table"
    err = sqlite3.OperationalError("login failed for user 'ann' with pwd s3cr3t-Pw\nsecond line")
    assert driver_error_reason(err, password="s3cr3t-Pw") == "login failed for user 'ann' with pwd ***"


def test_sqlalchemy_errors_report_the_drivers_message():
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        try:
            conn.execute(sa.text("select nope from nowhere"))
        except sa.exc.SQLAlchemyError as exc:
            assert driver_error_reason(exc) == "no such table: nowhere"


def test_other_errors_are_not_a_databases_unless_asked_for():
    assert driver_error_reason(ValueError("bug of ours")) is None
    assert driver_error_reason(PermissionError("read-only file")) is None
    assert driver_error_reason(PermissionError("read-only file"), also=(OSError,)) == "read-only file"
    assert len(driver_error_reason(sqlite3.Error("x" * 900), limit=400)) == 400
