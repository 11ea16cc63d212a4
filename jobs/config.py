"""Configuration: the built-in defaults overlaid with an optional TOML file."""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or holds a bad value."""


@dataclass(frozen=True)
class SpikeSettings:
    """Thresholds of the fake_follower_spike detector (see defaults.toml for their meaning)."""

    rule_version: str = "fake_follower_spike/1"
    baseline_days: int = 28
    min_loaded_baseline_days: int = 28
    min_follows: int = 20
    min_z: float = 5.0
    min_suspicious_followers: int = 15
    min_suspicious_share_of_excess: float = 0.5
    young_days: int = 30
    lockstep_window_minutes: int = 120
    lockstep_min_common: int = 10
    high_suspicious_followers: int = 200
    high_lockstep_share: float = 0.5
    medium_suspicious_followers: int = 50
    sample_followers: int = 20


@dataclass(frozen=True)
class BatchSettings:
    """Thresholds of the batch_registration detector (see defaults.toml for their meaning)."""

    rule_version: str = "batch_registration/1"
    gap_minutes: int = 20
    min_members: int = 8
    min_rate_ratio: float = 8.0
    min_span_minutes: int = 30
    history_days: int = 28
    high_members: int = 100
    medium_members: int = 30
    max_member_ids: int = 500


@dataclass(frozen=True)
class TierPolicy:
    """The credit-tier policy (see defaults.toml for the rules)."""

    policy_version: str = "credit_tiers/1"
    watch_days: int = 90
    restrict_medium_findings: int = 2
    trusted_min_age_days: int = 365
    trusted_clean_days: int = 180
    trusted_recent_use_days: int = 30


@dataclass(frozen=True)
class BlacklistRules:
    """When accounts and subjects are blacklisted (see defaults.toml)."""

    rule_version: str = "blacklist/1"
    spike_findings: int = 2
    spike_window_days: int = 90
    subject_blacklisted_accounts: int = 2
    subject_window_days: int = 90


@dataclass(frozen=True)
class NameMatchSettings:
    """closed_name_reregistration (see defaults.toml)."""

    rule_version: str = "closed_name_reregistration/2"
    max_edits: int = 1
    min_near_length: int = 4
    common_namesakes: int = 2
    max_handle_length: int = 8


def _section(kind: type, raw: dict[str, Any]):
    """A settings dataclass from a TOML table, each value cast to the field's default type."""
    defaults = kind()
    unknown = raw.keys() - {item.name for item in fields(kind)}
    if unknown:
        raise KeyError(f"unknown keys {sorted(unknown)}")
    return kind(**{name: type(getattr(defaults, name))(value) for name, value in raw.items()})


@dataclass(frozen=True)
class Settings:
    """Every tunable of accountwatch, read once per command."""

    time_zone: str = "Asia/Shanghai"
    spark_master: str = "local[*]"
    shuffle_partitions: int = 4
    driver_memory: str = "4g"
    jars_dir: Path = REPOSITORY_ROOT / ".jars"
    max_quarantine_share: float = 0.05
    max_late_days: int = 7
    lock_wait_seconds: float = 1800.0
    nightly_cron: str = "0 2 * * *"
    log_retention: str = "interval 190 days"
    deleted_file_retention: str = "interval 190 days"
    dormant_months: int = 6
    dormant_rule_version: str = "dormant_account/1"
    quota_rule_version: str = "quota_overrun/1"
    quota_limits: dict[str, int] = field(
        default_factory=lambda: {"individual": 2, "enterprise": 5, "media": 10, "government": 20, "other": 2}
    )
    spike: SpikeSettings = field(default_factory=SpikeSettings)
    batch: BatchSettings = field(default_factory=BatchSettings)
    blacklisted_subject_rule_version: str = "blacklisted_subject_registration/1"
    names: NameMatchSettings = field(default_factory=NameMatchSettings)
    actions: dict[str, dict[str, str]] = field(default_factory=dict)
    tiers: TierPolicy = field(default_factory=TierPolicy)
    blacklist: BlacklistRules = field(default_factory=BlacklistRules)
    source: str = "built-in defaults"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def rule_versions(self) -> dict[str, str]:
        """Each detector's rule version, written into its findings."""
        return {
            "dormant_account": self.dormant_rule_version,
            "quota_overrun": self.quota_rule_version,
            "batch_registration": self.batch.rule_version,
            "fake_follower_spike": self.spike.rule_version,
            "blacklisted_subject_registration": self.blacklisted_subject_rule_version,
            "closed_name_reregistration": self.names.rule_version,
        }

    def provenance(self) -> dict[str, object]:
        """What a result depends on in the configuration: rule and policy versions and a digest of every rule."""
        rules = {name: value for name, value in asdict(self).items() if name not in RUNTIME_SETTINGS}
        digest = hashlib.sha256(json.dumps(rules, sort_keys=True, default=str).encode()).hexdigest()
        return {
            "rule_versions": self.rule_versions,
            "credit_tier_policy": self.tiers.policy_version,
            "blacklist_rules": self.blacklist.rule_version,
            "config_sha256": digest,
            "config_source": self.source,
        }


# How and where accountwatch runs, not what it decides: left out of the configuration digest.
RUNTIME_SETTINGS = frozenset(
    {"spark_master", "shuffle_partitions", "driver_memory", "jars_dir", "source", "lock_wait_seconds", "nightly_cron"}
)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise ConfigError(f"configuration file {path} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"configuration file {path} is not valid TOML: {error}") from error


def load_settings(config_file: Path | str | None = None) -> Settings:
    """Read the built-in defaults, overlay `config_file` when given, and check the values."""
    raw = _read_toml(DEFAULTS_FILE)
    source = "built-in defaults"
    if config_file:
        raw = _merge(raw, _read_toml(Path(config_file)))
        source = str(config_file)
    try:
        settings = Settings(
            time_zone=str(raw["platform"]["time_zone"]),
            spark_master=str(raw["spark"]["master"]),
            shuffle_partitions=int(raw["spark"]["shuffle_partitions"]),
            driver_memory=str(raw["spark"]["driver_memory"]),
            jars_dir=Path(raw["spark"]["jars_dir"]) if raw["spark"]["jars_dir"] else REPOSITORY_ROOT / ".jars",
            max_quarantine_share=float(raw["ingest"]["max_quarantine_share"]),
            max_late_days=int(raw["ingest"]["max_late_days"]),
            lock_wait_seconds=float(raw["runs"]["lock_wait_seconds"]),
            nightly_cron=str(raw["runs"]["nightly_cron"]),
            log_retention=str(raw["lake"]["log_retention"]),
            deleted_file_retention=str(raw["lake"]["deleted_file_retention"]),
            dormant_months=int(raw["dormant_account"]["months"]),
            dormant_rule_version=str(raw["dormant_account"]["rule_version"]),
            quota_rule_version=str(raw["quota_overrun"]["rule_version"]),
            quota_limits={str(k): int(v) for k, v in raw["quota_overrun"]["limits"].items()},
            spike=_section(SpikeSettings, raw["fake_follower_spike"]),
            batch=_section(BatchSettings, raw["batch_registration"]),
            blacklisted_subject_rule_version=str(raw["blacklisted_subject_registration"]["rule_version"]),
            names=_section(NameMatchSettings, raw["closed_name_reregistration"]),
            actions={
                str(detector): {str(severity): str(action) for severity, action in row.items()}
                for detector, row in raw["recommended_actions"].items()
            },
            tiers=_section(TierPolicy, raw["credit_tiers"]),
            blacklist=_section(BlacklistRules, raw["blacklist"]),
            source=source,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"configuration {source}: bad or missing value ({error})") from error
    try:
        settings.zone  # noqa: B018 - validates the zone name
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ConfigError(f"configuration {source}: unknown platform.time_zone {settings.time_zone!r}") from error
    if not 0 <= settings.max_quarantine_share <= 1:
        raise ConfigError(f"configuration {source}: ingest.max_quarantine_share must be between 0 and 1")
    missing = {"individual", "enterprise", "media", "government", "other"} - settings.quota_limits.keys()
    if missing:
        raise ConfigError(f"configuration {source}: quota_overrun.limits lacks {sorted(missing)}")
    _check_actions(settings)
    return settings


def _check_actions(settings: Settings) -> None:
    from schemas.findings import DETECTORS, SEVERITIES
    from schemas.standing import ACTIONS

    for detector in DETECTORS:
        row = settings.actions.get(detector, {})
        missing = [severity for severity in SEVERITIES if severity not in row]
        if missing:
            raise ConfigError(f"configuration {settings.source}: recommended_actions.{detector} lacks {missing}")
        unknown = sorted({action for action in row.values() if action not in ACTIONS})
        if unknown:
            raise ConfigError(
                f"configuration {settings.source}: recommended_actions.{detector} has unknown actions {unknown} "
                f"(expected {', '.join(ACTIONS)})"
            )
