"""closed_name_reregistration: a fresh public account named like a closed or blacklisted account.

Names are compared after `normalise_name`: the same name (high) or `max_edits` away (medium), when the barred
name is distinctive, or any such name when the barred account's own subject registers it (high).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from accountwatch.jobs.core.config import NameMatchSettings
from accountwatch.jobs.detectors.barred import FULL_WIDTH, HALF_WIDTH, changes_window, normalised_name
from accountwatch.jobs.detectors.base import BarringInputs, Detector, FindingView, RawRows, Scoring, evidence_field

NAME = "closed_name_reregistration"


def _blocks(frame: DataFrame, column: str) -> DataFrame:
    """Two rows per name, keyed by its first two and its last two characters.

    One edit leaves either intact in a name of four or more characters, so near matches always share a key.
    """
    return frame.select(
        "*",
        F.explode(
            F.array(F.concat(F.lit("^"), F.substring(column, 1, 2)), F.concat(F.lit("$"), F.substring(column, -2, 2)))
        ).alias("_block"),
    )


# A handle: letters, then maybe a counter, the way a name is taken when the plain one is gone (`qiwei405`,
# `Qiwei_88`). Group 1 is the letters, group 2 the counter.
HANDLE = "^([a-z]+)[ ._-]?([0-9]*)$"


def _near(left: str, right: str, settings: NameMatchSettings) -> Column:
    """The same normalised name, or one at most `max_edits` away when both are long enough."""
    return (F.col(left) == F.col(right)) | (
        (F.levenshtein(left, right) <= settings.max_edits)
        & (F.length(left) >= settings.min_near_length)
        & (F.length(right) >= settings.min_near_length)
    )


def _words(column: str) -> Column:
    """A name's words, width and case folded: its runs of letters (spaces, punctuation and digits part them)."""
    folded = F.lower(F.translate(F.col(column), FULL_WIDTH, HALF_WIDTH))
    return F.filter(F.split(folded, "[^\\p{L}]+"), lambda word: word != "")


def _other_short_word(settings: NameMatchSettings) -> Column:
    """Near (not equal) names whose words pair up and differ in a whole short word: `Daily Digest, 苏州` and
    `Daily Digest, 杭州` are two cities' digests one edit apart, not a variant of one name."""
    new, barred = _words("account_name"), _words("match_name")
    short = settings.min_distinctive_length
    swapped = F.zip_with(
        new, barred, lambda left, right: (left != right) & (F.length(left) < short) & (F.length(right) < short)
    )
    return (F.col("edits") > 0) & (F.size(new) == F.size(barred)) & F.array_contains(swapped, True)


def _handle(column: str) -> tuple[Column, Column]:
    """A name's letters and counter when, width and case folded, it is a handle; two empty strings otherwise."""
    folded = F.trim(F.lower(F.translate(F.col(column), FULL_WIDTH, HALF_WIDTH)))
    return F.regexp_extract(folded, HANDLE, 1), F.regexp_extract(folded, HANDLE, 2)


def live_namesakes(pairs: DataFrame, snapshots: DataFrame, settings: NameMatchSettings) -> DataFrame:
    """Per candidate pair, how many other subjects' live accounts already bear the barred name or one an edit away.

    `pairs`: run_date, account_id, subject_id (the new account), match_id, match_subject, match_normalised (the
    barred one). `snapshots`: each public account's state on each run day (run_date, account_id, account_name,
    subject_id, status, registered_at): one row per account in a nightly run. A namesake is not closed, was
    registered before the run day, and belongs to neither the new account's subject nor the barred one's; each
    subject counts once, so one subject's many accounts do not make a name common. Only the few barred names
    that matched a fresh registration are looked up, on their first-two and last-two character keys.
    """
    barred = _blocks(
        pairs.select(
            "run_date", "account_id", "subject_id", "match_id", "match_subject", "match_normalised"
        ).distinct(),
        "match_normalised",
    )
    live = _blocks(
        snapshots.where((F.col("status") != "closed") & (F.col("registered_at") < F.col("run_date").cast("timestamp")))
        .select(
            "run_date",
            F.col("account_id").alias("namesake_id"),
            F.col("subject_id").alias("namesake_subject"),
            normalised_name("account_name").alias("namesake_normalised"),
        )
        .where(F.length("namesake_normalised") > 0),
        "namesake_normalised",
    )
    unrelated = (
        ~F.col("namesake_subject").eqNullSafe(F.col("subject_id"))
        & ~F.col("namesake_subject").eqNullSafe(F.col("match_subject"))
        & (F.col("namesake_id") != F.col("account_id"))
        & (F.col("namesake_id") != F.col("match_id"))
    )
    return (
        barred.join(live, ["run_date", "_block"])
        .where(unrelated & _near("namesake_normalised", "match_normalised", settings))
        .groupBy("run_date", "account_id", "match_id")
        .agg(F.countDistinct("namesake_subject").alias("live_namesakes"))
    )


# Long: the match and each reason it is or is not counted are one Spark plan; the evidence spells every reason.
def name_reregistrations(
    protected: DataFrame, snapshots: DataFrame, settings: NameMatchSettings
) -> Callable[[DataFrame], DataFrame]:
    """Fresh registrations that take a closed or blacklisted account's distinctive name, or its subject's own.

    `protected`: run_date, account_id, account_name, subject_id, why (closed, blacklisted): the names barred
    on that run day. `snapshots`: the public accounts' states those days (see live_namesakes). A name many
    unrelated live accounts already bear (`common_namesakes` subjects or more), or a short letters-only name
    taken with a counter (a personal handle such as `qiwei405` against `qiwei`), is common: one closed
    account cannot reserve it, so a match on it counts only when the barred account's own subject registers.
    """

    def transform(fresh: DataFrame) -> DataFrame:
        new = _blocks(
            fresh.withColumn("normalised", normalised_name("account_name")).where(F.length("normalised") > 0),
            "normalised",
        )
        barred = _blocks(
            protected.select(
                "run_date",
                F.col("account_id").alias("match_id"),
                F.col("account_name").alias("match_name"),
                F.col("subject_id").alias("match_subject"),
                "why",
            )
            .withColumn("match_normalised", normalised_name("match_name"))
            .where(F.length("match_normalised") > 0),
            "match_normalised",
        )
        pairs = (
            new.join(barred, ["run_date", "_block"])
            .where((F.col("account_id") != F.col("match_id")) & _near("normalised", "match_normalised", settings))
            .withColumn("edits", F.levenshtein("normalised", "match_normalised"))
            .dropDuplicates(["run_date", "account_id", "match_id", "why"])
        )
        judged = pairs.join(
            live_namesakes(pairs, snapshots, settings), ["run_date", "account_id", "match_id"], "left"
        ).withColumn("live_namesakes", F.coalesce("live_namesakes", F.lit(0)))

        letters, counter = _handle("account_name")
        match_letters, match_counter = _handle("match_name")
        handle = (
            F.length(letters).between(1, settings.max_handle_length)
            & F.length(match_letters).between(1, settings.max_handle_length)
            & ((counter != "") | (match_counter != ""))
        )
        length = F.length("match_normalised")
        crowded = F.col("live_namesakes") >= settings.common_namesakes
        # One or two characters (张伟, a bare initial pair) are personal names or initials many people share.
        too_short = length < settings.min_distinctive_length
        other_word = _other_short_word(settings)
        distinctive = ~handle & ~crowded & ~too_short & ~other_word
        same_subject = F.coalesce(F.col("match_subject") == F.col("subject_id"), F.lit(False))
        common_because = F.concat_ws(
            "; ",
            F.when(
                handle,
                F.format_string(
                    "a letters-only name of %d characters (at most %d) taken with a counter, like a personal handle",
                    F.length(match_letters),
                    F.lit(settings.max_handle_length),
                ),
            ),
            F.when(
                too_short,
                F.format_string(
                    "%d characters after normalising (fewer than %d), like a common personal name",
                    length,
                    F.lit(settings.min_distinctive_length),
                ),
            ),
            F.when(
                other_word,
                F.format_string(
                    "the names differ in a whole word of fewer than %d characters (%s for %s): another name, "
                    "not a variant of it",
                    F.lit(settings.min_distinctive_length),
                    F.array_join(F.array_except(_words("account_name"), _words("match_name")), " "),
                    F.array_join(F.array_except(_words("match_name"), _words("account_name")), " "),
                ),
            ),
            F.when(
                crowded,
                F.format_string(
                    "%d other subjects' live accounts already bear it or a name one edit away (%d make a name common)",
                    F.col("live_namesakes"),
                    F.lit(settings.common_namesakes),
                ),
            ),
        )
        distinctive_because = F.format_string(
            "%d characters, not a short handle with a counter, and %d other subjects' live accounts bear it or a "
            "name one edit away (fewer than %d)",
            length,
            F.col("live_namesakes"),
            F.lit(settings.common_namesakes),
        )
        reason = (
            F.when(
                same_subject & distinctive,
                F.concat(F.lit("the barred account's own subject, and a distinctive name: "), distinctive_because),
            )
            .when(
                same_subject,
                F.concat(
                    F.lit("the barred account's own subject (the name alone is common: "), common_because, F.lit(")")
                ),
            )
            .when(distinctive, F.concat(F.lit("distinctive name: "), distinctive_because))
            .otherwise(F.concat(F.lit("common name, not counted: "), common_because))
        )
        counted = same_subject | distinctive
        match = F.struct(
            F.col("edits"),
            F.col("match_id").alias("account_id"),
            F.col("match_name").alias("account_name"),
            F.col("why"),
            same_subject.alias("same_subject"),
            distinctive.alias("name_distinctive"),
            F.col("live_namesakes"),
            reason.alias("reason"),
        )
        closest = F.col("matches")[0]
        return (
            judged.groupBy("run_date", "account_id", "subject_id", "account_name", "normalised", "registered_at")
            .agg(
                F.array_sort(F.collect_list(F.when(counted, match))).alias("matches"),
                F.array_sort(F.collect_list(F.when(~counted, match))).alias("common_matches"),
                F.min(F.when(counted, F.col("edits"))).alias("_edits"),
                F.max(F.when(counted, F.greatest(F.length("normalised"), length))).alias("_length"),
                F.max(counted & same_subject).alias("_same_subject"),
            )
            .where(F.size("matches") > 0)
            .select(
                "run_date",
                "account_id",
                "subject_id",
                F.when(F.col("_same_subject") | (F.col("_edits") == 0), "high").otherwise("medium").alias("severity"),
                (1.0 - F.col("_edits") / F.col("_length")).alias("score"),
                F.to_json(
                    F.struct(
                        "account_name",
                        "normalised",
                        "registered_at",
                        closest["name_distinctive"].alias("name_distinctive"),
                        closest["live_namesakes"].alias("live_namesakes"),
                        closest["reason"].alias("reason"),
                        "matches",
                        "common_matches",
                    )
                ).alias("evidence"),
            )
        )

    return transform


def barred_names(snapshots: DataFrame, listed: DataFrame) -> DataFrame:
    """For each snapshot day: closed public accounts, and accounts blacklisted (active) before that day."""
    closed = snapshots.where(F.col("status") == "closed").select(
        "run_date", "account_id", "account_name", "subject_id", F.lit("closed").alias("why")
    )
    accounts = listed.where(F.col("entity_type") == "account").select(
        F.col("entity_id").alias("account_id"), "listed_on"
    )
    blacklisted = (
        snapshots.join(accounts, "account_id")
        .where(F.col("listed_on") < F.col("run_date"))
        .select("run_date", "account_id", "account_name", "subject_id", F.lit("blacklisted").alias("why"))
    )
    return closed.unionByName(blacklisted)


def bar(inputs: BarringInputs) -> DataFrame:
    """The day's fresh registrations taking the name of a closed or blacklisted account."""
    protected = barred_names(inputs.snapshots, inputs.listed)
    return inputs.fresh.transform(name_reregistrations(protected, inputs.snapshots, inputs.settings.names))


def sentence(evidence: dict[str, Any]) -> str:
    """What a closed_name_reregistration finding shows, in one sentence."""
    matches = "; ".join(
        f"{match.get('account_name')} ({match.get('account_id')}, {match.get('why')}, {match.get('edits')} edits)"
        for match in evidence.get("matches") or []
    )
    reason = f": {evidence['reason']}" if evidence.get("reason") else ""
    return f"name {evidence.get('account_name')!r} takes the name of {matches}{reason}"


def raw_rows(finding: FindingView) -> RawRows:
    """The new account's registration, and the accounts whose names it took."""
    first = changes_window(finding.run_date, finding.settings.max_late_days)
    return RawRows(
        registrations=((finding.account_id, first, finding.run_date),),
        accounts=tuple(("account_id", match["account_id"]) for match in finding.evidence.get("matches") or []),
    )


def evidence_key() -> list[Column]:
    """A name taken again is the accounts it matched."""
    return [evidence_field("$.matches[*].account_id")]


def _look_alikes(truth: Any) -> set:
    """Common-name collisions and the name two edits away: a look-alike counts as flagged on any day."""
    return {account_id for account_id, _ in truth.common_name_collisions} | set(truth.closed_name_negatives)


DETECTOR = Detector(
    name=NAME,
    rule="bar the names of closed accounts from being registered again",
    section=NAME,
    reads=("account_changes", "account_daily", "blacklist"),
    phase="after_blacklist",
    severities=("medium", "high"),
    sentence=sentence,
    raw_rows=raw_rows,
    evidence_key=evidence_key,
    scoring=Scoring(
        case="account_day",
        planted=lambda truth: truth.closed_name_reregistration,
        look_alikes=_look_alikes,
        look_alike_case="account",
    ),
    bar=bar,
)
