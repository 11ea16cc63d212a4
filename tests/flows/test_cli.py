from __future__ import annotations

import pytest

from accountwatch.flows.cli import DEMO_MARKER, _pii_key, main
from accountwatch.jobs.core.pii import PII_KEY_VARIABLE, MissingPiiKeyError


def test_a_demo_lake_without_the_key_variable_uses_the_demos_local_key(tmp_path, monkeypatch):
    monkeypatch.delenv(PII_KEY_VARIABLE)
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / DEMO_MARKER).write_text("demo")
    (tmp_path / "demo-pii.key").write_text("demo-key-0123456789abcdef\n")
    assert _pii_key(lake) == b"demo-key-0123456789abcdef"


def test_any_other_lake_without_the_key_variable_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(PII_KEY_VARIABLE)
    lake = tmp_path / "lake"
    lake.mkdir()
    (tmp_path / "demo-pii.key").write_text("demo-key-0123456789abcdef\n")
    with pytest.raises(MissingPiiKeyError, match=PII_KEY_VARIABLE):
        _pii_key(lake)


def test_the_key_variable_wins_over_a_demo_key(tmp_path, monkeypatch):
    monkeypatch.setenv(PII_KEY_VARIABLE, "operator-key-0123456789")
    lake = tmp_path / "lake"
    lake.mkdir()
    (lake / DEMO_MARKER).write_text("demo")
    (tmp_path / "demo-pii.key").write_text("demo-key-0123456789abcdef\n")
    assert _pii_key(lake) == b"operator-key-0123456789"


def test_no_command_shows_the_commands_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["accountwatch"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code != 0
    shown = capsys.readouterr()
    assert "Traceback" not in shown.err and "NoArgsIsHelpError" not in shown.err
    assert "export-evidence" in shown.err + shown.out


def test_an_unknown_option_is_one_usage_error(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["accountwatch", "run", "--no-such-option"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert "No such option" in capsys.readouterr().err
