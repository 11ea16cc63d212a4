from __future__ import annotations

import sys
import tomllib
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints

import pytest
from pydantic import BaseModel

from accountwatch.jobs.core import config
from accountwatch.jobs.core.config import ConfigError, ConfigFile, Settings, load_settings
from accountwatch.schemas.findings import DETECTORS, SEVERITIES
from accountwatch.schemas.landing import SUBJECT_TYPES

# The digest evidence bundles record for the built-in defaults: a change to it must be deliberate (it changed with
# unapproved_transfer/2: a handover judged once the old operators have stayed away for the overlap days).
DEFAULTS_DIGEST = "029be965283099ed2a85a06cec0018a8b3c364031e3b1f0fa6c86caca7cee139"


def schema_keys(kind: Any = ConfigFile, prefix: str = "") -> set[str]:
    """Every dotted key of the schema, sections left out."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        children = {name: info.annotation for name, info in kind.model_fields.items()}
    elif isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        children = {item.name: hints[item.name] for item in fields(kind)}
    else:
        return {prefix.rstrip(".")}
    return set().union(*(schema_keys(child, f"{prefix}{name}.") for name, child in children.items()))


def file_keys(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every dotted key of a TOML table with its value."""
    keys: dict[str, Any] = {}
    for name, value in table.items():
        if isinstance(value, dict):
            keys.update(file_keys(value, f"{prefix}{name}."))
        else:
            keys[f"{prefix}{name}"] = value
    return keys


def defaults() -> dict[str, Any]:
    with config.DEFAULTS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def refusal(tmp_path: Path, text: str) -> str:
    """The message load_settings refuses a configuration file holding `text` with."""
    path = tmp_path / "accountwatch.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    message = str(refused.value)
    assert message.startswith(f"configuration file {path}: ")
    assert "\n" not in message
    return message.removeprefix(f"configuration file {path}: ")


def test_defaults_load_with_every_value_of_its_type():
    settings = load_settings()

    assert settings.source == "built-in defaults"
    assert settings.time_zone == "Asia/Shanghai"
    assert settings.max_late_days == 7
    assert settings.lock_wait_seconds == 1800.0 and isinstance(settings.lock_wait_seconds, float)
    assert settings.prefect_startup_seconds == 600.0 and isinstance(settings.prefect_startup_seconds, float)
    assert settings.quota_limits == {"individual": 2, "enterprise": 5, "media": 10, "government": 20, "other": 2}
    assert settings.spike.min_z == 5.0 and isinstance(settings.spike.min_z, float)
    assert settings.actions["batch_registration"] == {
        "low": "warning",
        "medium": "limit_functions",
        "high": "close_account",
    }


def test_defaults_file_sets_every_key_of_the_schema_and_no_other():
    assert set(file_keys(defaults())) == schema_keys()


def test_defaults_agree_with_the_settings_dataclass_defaults():
    loaded = load_settings()

    assert loaded == Settings(actions=loaded.actions)


def test_schema_takes_every_subject_type_detector_and_severity():
    keys = schema_keys()

    assert {key.rpartition(".")[2] for key in keys if key.startswith("quota_overrun.limits.")} == SUBJECT_TYPES
    assert {f"recommended_actions.{detector}.{severity}" for detector in DETECTORS for severity in SEVERITIES} == {
        key for key in keys if key.startswith("recommended_actions.")
    }


def test_default_configuration_digest_is_the_one_evidence_bundles_record():
    assert load_settings().provenance()["config_sha256"] == DEFAULTS_DIGEST


def test_override_applies_and_keeps_every_other_default(tmp_path):
    path = tmp_path / "accountwatch.toml"
    path.write_text(
        "[ingest]\nmax_quarantine_share = 0.02\n\n"
        "[fake_follower_spike]\nmin_z = 6\n\n"
        "[quota_overrun.limits]\nindividual = 3\n\n"
        '[recommended_actions.quota_overrun]\nhigh = "blacklist"\n\n'
        "[runs]\nprefect_startup_seconds = 120\n"
    )
    built_in = load_settings()

    settings = load_settings(path)

    assert settings.source == str(path)
    assert settings.max_quarantine_share == 0.02
    assert settings.max_late_days == built_in.max_late_days
    assert settings.spike.min_z == 6.0 and isinstance(settings.spike.min_z, float)
    assert settings.spike.min_follows == built_in.spike.min_follows
    assert settings.quota_limits == {**built_in.quota_limits, "individual": 3}
    assert settings.actions["quota_overrun"] == {
        "low": "limit_functions",
        "medium": "limit_functions",
        "high": "blacklist",
    }
    assert settings.actions["batch_registration"] == built_in.actions["batch_registration"]
    assert settings.prefect_startup_seconds == 120.0
    assert settings.provenance()["config_sha256"] != DEFAULTS_DIGEST


def test_runtime_only_override_keeps_the_default_digest(tmp_path):
    path = tmp_path / "accountwatch.toml"
    path.write_text('[spark]\nshuffle_partitions = 1\ndriver_memory = "1g"\n\n[runs]\nlock_wait_seconds = 60\n')

    assert load_settings(path).provenance()["config_sha256"] == DEFAULTS_DIGEST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[ingest]\nmax_quarantine_shre = 0.5\n",
            "unknown key ingest.max_quarantine_shre (did you mean ingest.max_quarantine_share?)",
        ),
        (
            "[quota_overrun.limits]\nindividul = 3\n",
            "unknown key quota_overrun.limits.individul (did you mean quota_overrun.limits.individual?)",
        ),
        ("[ingset]\nmax_late_days = 3\n", "unknown section [ingset] (did you mean [ingest]?)"),
        (
            '[recommended_actions.fake_folower_spike]\nhigh = "warning"\n',
            "unknown section [recommended_actions.fake_folower_spike] "
            "(did you mean [recommended_actions.fake_follower_spike]?)",
        ),
        (
            '[recommended_actions.dormant_account]\ncritical = "warning"\n',
            "unknown key recommended_actions.dormant_account.critical (expected one of low, medium, high)",
        ),
        ("[quota_overrun.limits]\nmedia = -1\n", "quota_overrun.limits.media: expected an integer >= 0, got -1"),
        ("[ingest]\nmax_late_days = -1\n", "ingest.max_late_days: expected an integer >= 0, got -1"),
        ("[runs]\nlock_wait_seconds = -5\n", "runs.lock_wait_seconds: expected a number of seconds >= 0, got -5"),
        (
            "[runs]\nprefect_startup_seconds = 0\n",
            "runs.prefect_startup_seconds: expected a number of seconds >= 1, got 0",
        ),
        ("[ingest]\nmax_late_days = true\n", "ingest.max_late_days: expected an integer >= 0, got true"),
        ("[ingest]\nmax_late_days = 2.9\n", "ingest.max_late_days: expected an integer >= 0, got 2.9"),
        ("[ingest]\nmax_late_days = 3.0\n", "ingest.max_late_days: expected an integer >= 0, got 3.0"),
        ('[fake_follower_spike]\nmin_z = "5"\n', 'fake_follower_spike.min_z: expected a number >= 0, got "5"'),
        ("[fake_follower_spike]\nmin_z = nan\n", "fake_follower_spike.min_z: expected a number >= 0, got NaN"),
        (
            "[ingest]\nmax_quarantine_share = 1.5\n",
            "ingest.max_quarantine_share: expected a number between 0 and 1, got 1.5",
        ),
        (
            "[batch_registration]\nmin_span_minutes = 0\n",
            "batch_registration.min_span_minutes: expected an integer >= 1, got 0",
        ),
        (
            '[platform]\ntime_zone = "Asia/Shangai"\n',
            "platform.time_zone: expected a time zone name that exists, such as 'Asia/Shanghai', got \"Asia/Shangai\"",
        ),
        (
            '[lake]\nlog_retention = "190 days"\n',
            "lake.log_retention: expected 'interval N days' with a whole N >= 1, such as 'interval 190 days', "
            'got "190 days"',
        ),
        (
            '[recommended_actions.quota_overrun]\nhigh = "ban"\n',
            "recommended_actions.quota_overrun.high: expected one of warning, limit_functions, suspend_updates, "
            'close_account, blacklist, bar_re_registration, got "ban"',
        ),
        (
            '[runs]\nnightly_cron = "0 2 * *"\n',
            "runs.nightly_cron: expected a cron expression of five fields such as '0 2 * * *', got \"0 2 * *\"",
        ),
        (
            '[spark]\ndriver_memory = "4 gigabytes"\n',
            "spark.driver_memory: expected a JVM memory size such as '4g' or '512m', got \"4 gigabytes\"",
        ),
        ("ingest = 5\n", "ingest: expected a table, got 5"),
        ("[ingest.max_late_days]\ndays = 3\n", "ingest.max_late_days: expected an integer >= 0, got a table"),
    ],
)
def test_mistake_is_refused_naming_file_key_and_expectation(tmp_path, text, expected):
    assert refusal(tmp_path, text) == expected


def test_unknown_section_without_a_close_name_lists_the_known_sections(tmp_path):
    message = refusal(tmp_path, "[xyzzy]\nvalue = 1\n")

    assert message.startswith("unknown section [xyzzy] (expected one of platform, spark, ingest, runs, lake, ")


def test_every_mistake_of_a_file_is_reported_on_one_line(tmp_path):
    message = refusal(tmp_path, "[ingest]\nmax_late_days = -1\nmax_quarantine_shre = 0.5\n")

    assert message == (
        "ingest.max_late_days: expected an integer >= 0, got -1; "
        "unknown key ingest.max_quarantine_shre (did you mean ingest.max_quarantine_share?)"
    )


@pytest.mark.parametrize("value", ["true", '"5"', "[5]"])
def test_every_numeric_key_refuses_a_value_that_is_no_number(tmp_path, value):
    numeric = {key for key, default in file_keys(defaults()).items() if isinstance(default, int | float)}
    for key in sorted(numeric):
        section, _, name = key.rpartition(".")

        message = refusal(tmp_path, f"[{section}]\n{name} = {value}\n")

        assert message.startswith(f"{key}: expected "), message


def test_every_text_key_refuses_a_number(tmp_path):
    text = {key for key, default in file_keys(defaults()).items() if isinstance(default, str)}
    for key in sorted(text):
        section, _, name = key.rpartition(".")

        message = refusal(tmp_path, f"[{section}]\n{name} = 5\n")

        assert message.startswith(f"{key}: expected ") and message.endswith(", got 5"), message


def test_defaults_file_is_checked_against_the_same_schema(tmp_path, monkeypatch):
    broken = tmp_path / "defaults.toml"
    text = config.DEFAULTS_FILE.read_text()
    broken.write_text(text.replace("max_late_days = 7\n", "max_late_days = -7\n").replace("months = 6\n", ""))
    monkeypatch.setattr(config, "DEFAULTS_FILE", broken)

    with pytest.raises(ConfigError) as refused:
        load_settings()

    assert str(refused.value) == (
        f"configuration file {broken}: ingest.max_late_days: expected an integer >= 0, got -7; "
        "dormant_account.months is missing"
    )


def test_file_that_is_not_toml_is_refused_naming_it(tmp_path):
    path = tmp_path / "accountwatch.toml"
    path.write_text("[ingest\n")

    with pytest.raises(ConfigError, match=f"configuration file {path} is not valid TOML"):
        load_settings(path)


def test_command_line_prints_a_configuration_mistake_as_one_error_line(tmp_path, monkeypatch, capsys):
    from accountwatch.flows import cli

    (tmp_path / "lake" / "findings").mkdir(parents=True)
    path = tmp_path / "accountwatch.toml"
    path.write_text("[ingest]\nmax_quarantine_shre = 0.5\n")
    arguments = ["findings", "--date", "2026-03-02", "--lake", str(tmp_path / "lake"), "--config", str(path)]
    monkeypatch.setattr(sys, "argv", ["accountwatch", *arguments])

    with pytest.raises(SystemExit) as exited:
        cli.main()

    assert exited.value.code == 1
    assert capsys.readouterr().err == (
        f"accountwatch: error: configuration file {path}: "
        "unknown key ingest.max_quarantine_shre (did you mean ingest.max_quarantine_share?)\n"
    )
