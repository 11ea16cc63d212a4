"""Reading, writing and merging the path-based Delta tables under the lake folder."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from delta.tables import DeltaTable
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StructType

from jobs.config import Settings
from schemas import accounts, events, findings, operations, standing


@dataclass(frozen=True)
class TableSpec:
    """A lake table: its schema, partitioning and whether it is evidence kept for the regulator."""

    name: str
    schema: StructType
    partition_by: tuple[str, ...] = ()
    evidence: bool = True


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("account_changes", accounts.ACCOUNT_CHANGES, ("ingest_date",)),
        TableSpec("accounts", accounts.ACCOUNTS),
        TableSpec("subscriptions", events.SUBSCRIPTIONS, ("event_date",)),
        TableSpec("engagement", events.ENGAGEMENT, ("event_date",)),
        TableSpec("account_activity", events.ACCOUNT_ACTIVITY),
        TableSpec("account_daily", events.ACCOUNT_DAILY, ("ingest_date",)),
        TableSpec("user_activity", events.USER_ACTIVITY, evidence=False),
        TableSpec("quarantine", operations.QUARANTINE, ("ingest_date",)),
        TableSpec("dq_results", operations.DQ_RESULTS),
        TableSpec("loaded_days", operations.LOADED_DAYS),
        TableSpec("findings", findings.FINDINGS, ("run_date",)),
        TableSpec("detector_state", findings.DETECTOR_STATE, ("run_date",), evidence=False),
        TableSpec("detector_runs", findings.DETECTOR_RUNS),
        TableSpec("registration_keys", findings.REGISTRATION_KEYS, ("reg_date",), evidence=False),
        TableSpec("reviews", standing.REVIEWS),
        TableSpec("account_tiers", standing.ACCOUNT_TIERS),
        TableSpec("blacklist", standing.BLACKLIST),
    )
}


def between(column: str, start: date, end: date) -> str:
    """A SQL predicate for start <= column <= end (Delta's replaceWhere cannot take BETWEEN on a partition column)."""
    return f"{column} >= DATE'{start.isoformat()}' AND {column} <= DATE'{end.isoformat()}'"


class Lake:
    """The lake folder: one Delta table per name, created on first use with the configured retention."""

    def __init__(self, spark: SparkSession, root: Path | str, settings: Settings) -> None:
        self.spark = spark
        # Delta takes a relative location for a table name: always hand it an absolute path.
        self.root = Path(root).absolute()
        self.settings = settings
        self._ensured: dict[str, DeltaTable] = {}

    def path(self, name: str) -> str:
        return str(self.root / name)

    def exists(self, name: str) -> bool:
        return DeltaTable.isDeltaTable(self.spark, self.path(name))

    def ensure(self, name: str) -> DeltaTable:
        """Create the table if it does not exist yet and return it."""
        if name in self._ensured:
            return self._ensured[name]
        spec = TABLES[name]
        builder = DeltaTable.createIfNotExists(self.spark).location(self.path(name)).addColumns(spec.schema)
        if spec.partition_by:
            builder = builder.partitionedBy(*spec.partition_by)
        if spec.evidence:
            builder = builder.property("delta.logRetentionDuration", self.settings.log_retention).property(
                "delta.deletedFileRetentionDuration", self.settings.deleted_file_retention
            )
        self._ensured[name] = builder.execute()
        return self._ensured[name]

    def read(self, name: str) -> DataFrame:
        """The table's current rows, or an empty frame of its schema when it was never written."""
        if not self.exists(name):
            return self.spark.createDataFrame([], TABLES[name].schema)
        return self.spark.read.format("delta").load(self.path(name))

    def replace(self, name: str, rows: DataFrame, predicate: str) -> None:
        """Atomically replace the rows matching `predicate` with `rows` (one commit)."""
        self.ensure(name)
        (
            rows.select(*[field.name for field in TABLES[name].schema])
            .write.format("delta")
            .mode("overwrite")
            .option("replaceWhere", predicate)
            .save(self.path(name))
        )

    def upsert(
        self,
        name: str,
        rows: DataFrame,
        keys: Sequence[str],
        update_when: str | None = None,
        delete_unmatched_where: str | None = None,
        update_set: dict[str, str] | None = None,
    ) -> None:
        """MERGE `rows` on `keys`: insert new rows, update matched ones (when `update_when` holds).

        With `delete_unmatched_where`, target rows in that slice that `rows` no longer holds are deleted,
        so a rerun of the slice converges on exactly what the source says.
        """
        table = self.ensure(name)
        on = " AND ".join(f"target.{key} <=> source.{key}" for key in keys)
        if delete_unmatched_where:
            on = f"{on} AND ({delete_unmatched_where.replace('{t}', 'target')})"
        merge = (
            table.alias("target")
            .merge(rows.select(*[field.name for field in TABLES[name].schema]).alias("source"), on)
            .whenNotMatchedInsertAll()
        )
        if update_set:
            merge = merge.whenMatchedUpdate(condition=update_when, set=dict(update_set.items()))  # type: ignore[arg-type]
        else:
            merge = merge.whenMatchedUpdateAll(condition=update_when)
        if delete_unmatched_where:
            merge = merge.whenNotMatchedBySourceDelete(condition=delete_unmatched_where.replace("{t}", "target"))
        merge.execute()
