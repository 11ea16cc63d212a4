"""Find a day's landing files and read them, whatever their format, as rows of raw strings."""

from __future__ import annotations

import csv
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from accountwatch.schemas.landing import LandingTable

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
CORRUPT = "_corrupt_record"
BLANK_LINE = "_blank_line"
# Parquet native timestamps become ISO strings with their offset, so every format parses the same way.
ISO_WITH_OFFSET = "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX"
ISO_LOCAL = "yyyy-MM-dd'T'HH:mm:ss.SSSSSS"


class LandingError(RuntimeError):
    """A landing file or folder that cannot be read; the message names it."""


@dataclass(frozen=True)
class LandingFile:
    """One file of one day's landing folder."""

    path: Path
    format: str
    folder_date: date


def day_folder(landing: Path, table: str, day: date) -> Path:
    return landing / table / f"date={day.isoformat()}"


def days_between(start: date, end: date) -> list[date]:
    """Every day from start to end, both included."""
    return [start + timedelta(days=offset) for offset in range((end - start).days + 1)]


DAY_FOLDER = re.compile(r"date=(\d{4}-\d{2}-\d{2})")


def check_day_folders(landing: Path, table: str) -> None:
    """Fail naming the first folder of `table` whose name is not `date=YYYY-MM-DD` with a real date."""
    table_folder = Path(landing).absolute() / table
    if not table_folder.is_dir():
        return
    for path in sorted(table_folder.iterdir()):
        if path.name.startswith((".", "_")) or not path.is_dir():
            continue
        # Rows in a folder that names no day would never be loaded, and no run would say so.
        match = DAY_FOLDER.fullmatch(path.name)
        try:
            date.fromisoformat(match.group(1) if match else "")
        except ValueError:
            raise LandingError(f"{path}: not a day folder (expected date=YYYY-MM-DD with a real date)") from None


def list_day_files(landing: Path, table: str, day: date) -> list[LandingFile]:
    """The data files of one table's folder for `day`; hidden and marker files are ignored."""
    # The JVM resolves relative paths against its own working folder, not Python's.
    folder = day_folder(Path(landing).absolute(), table, day)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.iterdir()):
        # Hidden and marker files (_SUCCESS) carry no rows, and neither does an empty file.
        if path.name.startswith((".", "_")):
            continue
        if path.is_symlink() and not path.exists():
            raise LandingError(f"{path}: a symbolic link to {os.readlink(path)}, which does not exist")
        if not path.is_file() or path.stat().st_size == 0:
            continue
        file_format = FORMATS.get(path.suffix.lower())
        if file_format is None:
            raise LandingError(f"{path}: unknown file type {path.suffix!r} (expected .csv, .jsonl or .parquet)")
        found.append(LandingFile(path, file_format, day))
    return found


def _check_readable(landing_file: LandingFile) -> tuple[str, ...] | None:
    """Fail with the file's name when it cannot be read at all; return a CSV header or a Parquet schema."""
    path = landing_file.path
    try:
        if landing_file.format == "parquet":
            schema = pq.read_schema(path)
            return tuple(f"{name}:{schema.field(name).type}" for name in schema.names)
        path.read_bytes().decode("utf-8")
        if landing_file.format == "csv":
            with path.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), None)
            if not header:
                raise LandingError(f"{path}: CSV file has no header row")
            return tuple(name.strip() for name in header)
    except UnicodeDecodeError as error:
        raise LandingError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    except (OSError, ValueError) as error:
        if isinstance(error, LandingError):
            raise
        raise LandingError(f"{path}: cannot be read ({error})") from error
    return None


def _string_schema(names: list[str]) -> StructType:
    return StructType([StructField(name, StringType(), True) for name in names] + [StructField(CORRUPT, StringType())])


def _with_contract_columns(frame: DataFrame, table: LandingTable) -> DataFrame:
    """Keep the contract's columns (absent ones as null) plus the file, its folder day and the corrupt text."""
    present = set(frame.columns)
    columns: list[Column] = [
        (F.col(f"`{name}`") if name in present else F.lit(None).cast("string")).alias(name) for name in table.columns
    ]
    corrupt = F.col(CORRUPT) if CORRUPT in present else F.lit(None).cast("string")
    blank_line = F.col(BLANK_LINE) if BLANK_LINE in present else F.lit(False)
    file_path = F.col("_metadata.file_path")
    return frame.select(
        *columns,
        corrupt.alias(CORRUPT),
        file_path.alias("source_file"),
        F.monotonically_increasing_id().alias("_read_order"),
        blank_line.alias(BLANK_LINE),
    )


def _json_lines(spark: SparkSession, table: LandingTable, files: list[LandingFile]) -> DataFrame:
    """JSON Lines files line by line: a line is one object, parsed in the JVM; any other line is a corrupt record."""
    # Spark's JSON reader drops blank lines (shifting later line numbers) and splits a line holding an array
    # into rows, so each line is read as text and only an object is parsed.
    lines = spark.read.text([str(f.path) for f in files])
    line = F.regexp_replace(F.col("value"), "^\ufeff", "")
    is_object = line.rlike(r"^\s*\{")
    parsed = F.from_json(
        F.when(is_object, line),
        _string_schema(list(table.columns)),
        {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT},
    )
    return lines.select(
        *[parsed[name].alias(name) for name in table.columns],
        F.when(is_object, parsed[CORRUPT]).otherwise(line).alias(CORRUPT),
        line.rlike(r"^\s*$").alias(BLANK_LINE),
        "_metadata",
    )


def _nanosecond_timestamps(layout: tuple[str, ...]) -> dict[str, bool]:
    """Parquet columns holding nanosecond timestamps, mapped to whether they carry a time zone."""
    found = {}
    for entry in layout:
        name, _, arrow_type = entry.partition(":")
        if arrow_type.startswith("timestamp[ns"):
            found[name] = "tz=" in arrow_type
    return found


def _parquet_value_as_string(column: Column, type_name: str, nanos_with_zone: bool | None, zone: str) -> Column:
    if nanos_with_zone is not None:
        instant = F.timestamp_micros(F.floor(column / 1000))
        if nanos_with_zone:
            return F.date_format(instant, ISO_WITH_OFFSET)
        # Without a zone the number is a wall time: render it as UTC so no offset is applied twice.
        return F.date_format(F.to_utc_timestamp(instant, zone), ISO_LOCAL)
    if type_name == "timestamp":
        return F.date_format(column, ISO_WITH_OFFSET)
    if type_name == "timestamp_ntz":
        # A timestamp without zone means platform time, as a string without offset does.
        return F.date_format(column, ISO_LOCAL)
    return column.cast("string")


def read_landing(spark: SparkSession, table: LandingTable, files: list[LandingFile]) -> DataFrame | None:
    """Every row of `files` as strings with source_file, source_row (1-based within the file) and ingest_date.

    source_row is the data row of a CSV file, the line of a JSON Lines file and the row of a Parquet file.

    Returns None when there are no files.
    """
    if not files:
        return None
    csv_groups: dict[tuple[str, ...], list[LandingFile]] = {}
    jsonl_files: list[LandingFile] = []
    parquet_groups: dict[tuple[str, ...], list[LandingFile]] = {}
    for landing_file in files:
        layout = _check_readable(landing_file) or ()
        if landing_file.format == "csv":
            csv_groups.setdefault(layout, []).append(landing_file)
        elif landing_file.format == "jsonl":
            jsonl_files.append(landing_file)
        else:
            parquet_groups.setdefault(layout, []).append(landing_file)
    folder_dates = {os.path.abspath(f.path): f.folder_date for f in files}
    frames: list[DataFrame] = []
    for header, group in csv_groups.items():
        frame = (
            spark.read.schema(_string_schema(list(header)))
            .option("header", True)
            .option("multiLine", True)
            .option("escape", '"')
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", CORRUPT)
            .option("encoding", "UTF-8")
            .csv([str(f.path) for f in group])
        )
        frames.append(_with_contract_columns(frame, table))
    if jsonl_files:
        frames.append(_with_contract_columns(_json_lines(spark, table, jsonl_files), table))
    zone = spark.conf.get("spark.sql.session.timeZone") or "UTC"
    for layout, group in parquet_groups.items():
        frame = spark.read.parquet(*[str(f.path) for f in group])
        nanos = _nanosecond_timestamps(layout)
        as_strings = [
            _parquet_value_as_string(
                F.col(f"`{field.name}`"), field.dataType.typeName(), nanos.get(field.name), zone
            ).alias(field.name)
            for field in frame.schema.fields
            if field.name in table.columns
        ]
        frames.append(_with_contract_columns(frame.select(*as_strings, "_metadata"), table))
    rows = reduce(DataFrame.unionByName, frames)
    date_of_file = F.create_map(*[item for path, day in folder_dates.items() for item in (F.lit(path), F.lit(day))])
    in_file_order = Window.partitionBy("source_file").orderBy("_read_order")
    return (
        rows.withColumn("source_file", F.url_decode(F.regexp_replace("source_file", "^file:(//)?", "")))
        .withColumn("ingest_date", date_of_file[F.col("source_file")])
        .withColumn("source_row", F.row_number().over(in_file_order).cast("long"))
        # Numbered first, so a blank line still counts: a JSON Lines row number is its line in the file.
        .where(~F.col(BLANK_LINE))
        .drop("_read_order", BLANK_LINE)
    )
