"""Configuration: the built-in defaults overlaid with an optional TOML file, both checked against one schema."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Annotated, Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    with_config,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from accountwatch.schemas.standing import ACTIONS

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")
REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or holds a bad value."""


def _expecting(expected: str) -> WrapValidator:
    """Report any failure of the wrapped checks as one error saying what the key expects."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("expected", expected) from None

    return WrapValidator(check)


def _matching(pattern: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(value)
        return value

    return AfterValidator(check)


def _existing_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(name) from error
    return name


def _known_action(action: str) -> str:
    if action not in ACTIONS:
        raise ValueError(action)
    return action


# Every value of the file has one of these types. Strict: no true for 1, no 2.9 or "5" for an integer, no "5" for a
# number (an integer may stand for a number).
Count = Annotated[int, Strict(), Field(ge=0), _expecting("an integer >= 0")]
PositiveCount = Annotated[int, Strict(), Field(ge=1), _expecting("an integer >= 1")]
Share = Annotated[float, Strict(), Field(ge=0, le=1), _expecting("a number between 0 and 1")]
NonNegative = Annotated[float, Strict(), Field(ge=0), _expecting("a number >= 0")]
Seconds = Annotated[float, Strict(), Field(ge=0), _expecting("a number of seconds >= 0")]
PositiveSeconds = Annotated[float, Strict(), Field(ge=1), _expecting("a number of seconds >= 1")]
Text = Annotated[str, Strict(), _expecting("a string")]
Version = Annotated[str, Strict(), Field(min_length=1), _expecting("a non-empty string such as 'name/1'")]
TimeZoneName = Annotated[
    str, Strict(), AfterValidator(_existing_zone), _expecting("a time zone name that exists, such as 'Asia/Shanghai'")
]
Retention = Annotated[
    str,
    Strict(),
    _matching(r"interval [1-9][0-9]* days"),
    _expecting("'interval N days' with a whole N >= 1, such as 'interval 190 days'"),
]
MemorySize = Annotated[
    str, Strict(), _matching(r"(?i)[1-9][0-9]*[kmgt]b?"), _expecting("a JVM memory size such as '4g' or '512m'")
]
CronExpression = Annotated[
    str,
    Strict(),
    _matching(r"[0-9A-Za-z*/,?-]+( [0-9A-Za-z*/,?-]+){4}|@(yearly|annually|monthly|weekly|daily|midnight|hourly)"),
    _expecting("a cron expression of five fields such as '0 2 * * *'"),
]
Action = Annotated[str, Strict(), AfterValidator(_known_action), _expecting(f"one of {', '.join(ACTIONS)}")]

# Unknown keys are errors, and inf or nan is no number.
SCHEMA_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False)


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class SpikeSettings:
    """Thresholds of the fake_follower_spike detector (see defaults.toml for their meaning)."""

    rule_version: Version = "fake_follower_spike/2"
    baseline_days: PositiveCount = 28
    min_loaded_baseline_days: PositiveCount = 28
    min_follows: Count = 20
    min_z: NonNegative = 5.0
    min_suspicious_followers: Count = 15
    min_suspicious_share_of_excess: Share = 0.5
    young_days: Count = 30
    lockstep_window_minutes: PositiveCount = 120
    lockstep_min_common: PositiveCount = 10
    cluster_days: PositiveCount = 7
    min_cluster_share: Share = 0.5
    high_suspicious_followers: Count = 200
    high_lockstep_share: Share = 0.5
    medium_suspicious_followers: Count = 50
    sample_followers: Count = 20


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class TransferSettings:
    """Thresholds of the unapproved_transfer detector (see defaults.toml for their meaning)."""

    rule_version: Version = "unapproved_transfer/2"
    approval_days: PositiveCount = 30
    operator_window_days: PositiveCount = 90
    overlap_days: Count = 2


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class EngagementSettings:
    """Thresholds of the fake_engagement detector (see defaults.toml for their meaning)."""

    rule_version: Version = "fake_engagement/5"
    baseline_days: PositiveCount = 28
    min_loaded_baseline_days: PositiveCount = 28
    min_events: Count = 50
    min_z: NonNegative = 5.0
    article_age_days: Count = 7
    min_baseline_articles: PositiveCount = 5
    new_actor_days: PositiveCount = 7
    young_days: Count = 30
    min_actors_per_device: PositiveCount = 10
    lockstep_minutes: PositiveCount = 60
    min_lockstep_actors: PositiveCount = 20
    min_lockstep_share: Share = 0.5
    min_repeats: PositiveCount = 10
    min_repeating_actors: PositiveCount = 5
    min_suspicious_actors: Count = 20
    min_suspicious_share_of_excess: Share = 0.5
    ratio_factor: NonNegative = 5.0
    min_ratio: NonNegative = 0.5
    min_ratio_events: Count = 50
    min_unread_share: Share = 0.5
    medium_suspicious_events: Count = 200
    high_suspicious_events: Count = 1000
    sample_actors: Count = 20


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class HoardingSettings:
    """Thresholds of the account_hoarding detector (see defaults.toml for their meaning)."""

    rule_version: Version = "account_hoarding/1"
    min_accounts: PositiveCount = 5
    unused_after_registration_days: PositiveCount = 60
    unused_days: PositiveCount = 90
    takeover_days: PositiveCount = 30
    max_listed_accounts: PositiveCount = 100


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class BatchSettings:
    """Thresholds of the batch_registration detector (see defaults.toml for their meaning)."""

    rule_version: Version = "batch_registration/1"
    gap_minutes: PositiveCount = 20
    min_members: PositiveCount = 8
    min_rate_ratio: NonNegative = 8.0
    min_span_minutes: PositiveCount = 30
    history_days: PositiveCount = 28
    high_members: Count = 100
    medium_members: Count = 30
    max_member_ids: PositiveCount = 500


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class TierPolicy:
    """The credit-tier policy (see defaults.toml for the rules)."""

    policy_version: Version = "credit_tiers/1"
    watch_days: PositiveCount = 90
    restrict_medium_findings: PositiveCount = 2
    trusted_min_age_days: Count = 365
    trusted_clean_days: Count = 180
    trusted_recent_use_days: Count = 30


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class BlacklistRules:
    """When accounts and subjects are blacklisted (see defaults.toml)."""

    rule_version: Version = "blacklist/1"
    spike_findings: PositiveCount = 2
    spike_window_days: PositiveCount = 90
    subject_blacklisted_accounts: PositiveCount = 2
    subject_window_days: PositiveCount = 90


@with_config(SCHEMA_CONFIG)
@dataclass(frozen=True)
class NameMatchSettings:
    """closed_name_reregistration (see defaults.toml)."""

    rule_version: Version = "closed_name_reregistration/3"
    max_edits: Count = 1
    min_near_length: PositiveCount = 4
    common_namesakes: PositiveCount = 2
    max_handle_length: Count = 8
    min_distinctive_length: PositiveCount = 3


class _Section(BaseModel):
    model_config = SCHEMA_CONFIG


class PlatformSection(_Section):
    """[platform]"""

    time_zone: TimeZoneName


class SparkSection(_Section):
    """[spark]"""

    master: Annotated[str, Strict(), Field(min_length=1), _expecting("a Spark master URL such as 'local[*]'")]
    shuffle_partitions: PositiveCount
    driver_memory: MemorySize
    jars_dir: Text
    interpreted_max_days: Count


class IngestSection(_Section):
    """[ingest]"""

    max_quarantine_share: Share
    max_late_days: Count


class RunsSection(_Section):
    """[runs]"""

    lock_wait_seconds: Seconds
    nightly_cron: CronExpression
    prefect_startup_seconds: PositiveSeconds


class LakeSection(_Section):
    """[lake]"""

    log_retention: Retention
    deleted_file_retention: Retention


class DormantSection(_Section):
    """[dormant_account]"""

    rule_version: Version
    months: PositiveCount


class RuleVersionSection(_Section):
    """A detector section holding only its rule version."""

    rule_version: Version


class QuotaLimits(_Section):
    """[quota_overrun.limits]: the most accounts a subject of each type may hold."""

    individual: Count
    enterprise: Count
    media: Count
    government: Count
    other: Count


class ActionsBySeverity(_Section):
    """[recommended_actions.<detector>]"""

    low: Action
    medium: Action
    high: Action


class RecommendedActions(_Section):
    """[recommended_actions]: the measure each detector's findings suggest."""

    fake_follower_spike: ActionsBySeverity
    batch_registration: ActionsBySeverity
    dormant_account: ActionsBySeverity
    quota_overrun: ActionsBySeverity
    blacklisted_subject_registration: ActionsBySeverity
    closed_name_reregistration: ActionsBySeverity
    unapproved_transfer: ActionsBySeverity
    account_hoarding: ActionsBySeverity
    fake_engagement: ActionsBySeverity


class QuotaSection(_Section):
    """[quota_overrun] and its [quota_overrun.limits] per subject type."""

    rule_version: Version
    limits: QuotaLimits


class ConfigFile(_Section):
    """The schema of the configuration: every section and key of defaults.toml, and nothing else."""

    platform: PlatformSection
    spark: SparkSection
    ingest: IngestSection
    runs: RunsSection
    lake: LakeSection
    dormant_account: DormantSection
    quota_overrun: QuotaSection
    fake_follower_spike: SpikeSettings
    batch_registration: BatchSettings
    blacklisted_subject_registration: RuleVersionSection
    closed_name_reregistration: NameMatchSettings
    unapproved_transfer: TransferSettings
    account_hoarding: HoardingSettings
    fake_engagement: EngagementSettings
    recommended_actions: RecommendedActions
    credit_tiers: TierPolicy
    blacklist: BlacklistRules


@dataclass(frozen=True)
class Settings:
    """Every tunable of accountwatch, read once per command."""

    time_zone: str = "Asia/Shanghai"
    spark_master: str = "local[*]"
    shuffle_partitions: int = 4
    driver_memory: str = "4g"
    jars_dir: Path = REPOSITORY_ROOT / ".jars"
    interpreted_max_days: int = 3
    max_quarantine_share: float = 0.05
    max_late_days: int = 7
    lock_wait_seconds: float = 1800.0
    nightly_cron: str = "0 2 * * *"
    prefect_startup_seconds: float = 600.0
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
    transfer: TransferSettings = field(default_factory=TransferSettings)
    hoarding: HoardingSettings = field(default_factory=HoardingSettings)
    engagement: EngagementSettings = field(default_factory=EngagementSettings)
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
            "unapproved_transfer": self.transfer.rule_version,
            "account_hoarding": self.hoarding.rule_version,
            "fake_engagement": self.engagement.rule_version,
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
    {
        "spark_master",
        "shuffle_partitions",
        "driver_memory",
        "jars_dir",
        "interpreted_max_days",
        "source",
        "lock_wait_seconds",
        "nightly_cron",
        "prefect_startup_seconds",
    }
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
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"configuration file {path} is not valid TOML: {error}") from error
    except OSError as error:
        raise ConfigError(f"configuration file {path} cannot be read: {error}") from error


def _schema_fields(kind: Any) -> dict[str, Any]:
    """The keys a table of the schema takes, each with its type (empty for a plain value)."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return {name: info.annotation for name, info in kind.model_fields.items()}
    if isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        return {item.name: hints[item.name] for item in fields(kind)}
    return {}


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    return json.dumps(value, ensure_ascii=False, default=str)


def _unknown_key(path: list[str], value: Any) -> str:
    """Name an unknown key or section with the closest known one."""
    *parent, name = path
    kind: Any = ConfigFile
    for part in parent:
        kind = _schema_fields(kind)[part]
    known = list(_schema_fields(kind))
    what, opening, closing = ("section", "[", "]") if isinstance(value, dict) else ("key", "", "")
    prefix = "".join(f"{part}." for part in parent)
    closest = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {opening}{prefix}{closest[0]}{closing}?" if closest else f"expected one of {', '.join(known)}"
    return f"unknown {what} {opening}{prefix}{name}{closing} ({hint})"


def _problem(error: ErrorDetails) -> str:
    """One error of the schema as `key: expected ..., got ...`."""
    path = [str(part) for part in error["loc"]]
    key = ".".join(path)
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return _unknown_key(path, error["input"])
    if error["type"] == "missing":
        return f"{key} is missing"
    if error["type"] == "expected":
        return f"{key}: expected {error['msg']}, got {_shown(error['input'])}"
    if error["type"] in ("model_type", "dataclass_type", "dataclass_exact_type"):
        return f"{key}: expected a table, got {_shown(error['input'])}"
    return f"{key}: {error['msg']}, got {_shown(error['input'])}"


def _validated(raw: dict[str, Any], path: Path | str) -> ConfigFile:
    try:
        return ConfigFile.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(_problem(detail) for detail in error.errors(include_url=False))
        raise ConfigError(f"configuration file {path}: {problems}") from error


def _settings(config: ConfigFile, source: str) -> Settings:
    spark = config.spark
    return Settings(
        time_zone=config.platform.time_zone,
        spark_master=spark.master,
        shuffle_partitions=spark.shuffle_partitions,
        driver_memory=spark.driver_memory,
        jars_dir=Path(spark.jars_dir) if spark.jars_dir else REPOSITORY_ROOT / ".jars",
        interpreted_max_days=spark.interpreted_max_days,
        max_quarantine_share=config.ingest.max_quarantine_share,
        max_late_days=config.ingest.max_late_days,
        lock_wait_seconds=config.runs.lock_wait_seconds,
        nightly_cron=config.runs.nightly_cron,
        prefect_startup_seconds=config.runs.prefect_startup_seconds,
        log_retention=config.lake.log_retention,
        deleted_file_retention=config.lake.deleted_file_retention,
        dormant_months=config.dormant_account.months,
        dormant_rule_version=config.dormant_account.rule_version,
        quota_rule_version=config.quota_overrun.rule_version,
        quota_limits=config.quota_overrun.limits.model_dump(),
        spike=config.fake_follower_spike,
        batch=config.batch_registration,
        blacklisted_subject_rule_version=config.blacklisted_subject_registration.rule_version,
        names=config.closed_name_reregistration,
        transfer=config.unapproved_transfer,
        hoarding=config.account_hoarding,
        engagement=config.fake_engagement,
        actions=config.recommended_actions.model_dump(),
        tiers=config.credit_tiers,
        blacklist=config.blacklist,
        source=source,
    )


def load_settings(config_file: Path | str | None = None) -> Settings:
    """Read the built-in defaults, overlay `config_file` when given, and check the result against the schema."""
    defaults = _read_toml(DEFAULTS_FILE)
    config = _validated(defaults, DEFAULTS_FILE)
    if not config_file:
        return _settings(config, "built-in defaults")
    # The defaults passed on their own, so whatever fails now is the file's doing.
    merged = _merge(defaults, _read_toml(Path(config_file)))
    return _settings(_validated(merged, config_file), str(config_file))
