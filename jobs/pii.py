"""Phone numbers: a keyed pseudonym and the number block, never the number in clear."""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

from pyspark.sql import Column
from pyspark.sql import functions as F

PII_KEY_VARIABLE = "ACCOUNTWATCH_PII_KEY"
SHA256_BLOCK_BYTES = 64
PHONE_PATTERN = r"^(\+86)?[0-9]+$"
# Redacts phone-like digit runs from text that could not be parsed into columns.
PHONE_LIKE_RUN = r"(\+?86)?[0-9]{7,}"


class MissingPiiKeyError(RuntimeError):
    """No pseudonymisation key is configured."""


def pii_key_from_environment() -> bytes:
    """The HMAC key from ACCOUNTWATCH_PII_KEY; fails with a clear message when it is unset."""
    value = os.environ.get(PII_KEY_VARIABLE, "")
    if not value:
        raise MissingPiiKeyError(
            f"{PII_KEY_VARIABLE} is not set: phone numbers are stored only as keyed pseudonyms, so set it to a "
            "secret of at least 16 characters (the same one every night)"
        )
    if len(value) < 16:
        raise MissingPiiKeyError(f"{PII_KEY_VARIABLE} is too short: use a secret of at least 16 characters")
    return value.encode("utf-8")


def local_demo_key(folder: Path) -> bytes:
    """A key kept in `folder` for the demo, made on first use."""
    key_file = folder / "demo-pii.key"
    if not key_file.exists():
        folder.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip().encode("utf-8")


def national_number(phone: Column) -> Column:
    """The number without spaces and without the +86 country prefix."""
    return F.regexp_replace(F.trim(phone), r"^\+86", "")


def hmac_sha256_hex(message: Column, key: bytes) -> Column:
    """HMAC-SHA256 (RFC 2104) of a string column, computed in the JVM with sha2."""
    if len(key) > SHA256_BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    key = key.ljust(SHA256_BLOCK_BYTES, b"\0")
    inner_pad = bytes(byte ^ 0x36 for byte in key)
    outer_pad = bytes(byte ^ 0x5C for byte in key)
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_pad), F.encode(message, "UTF-8")), 256))
    return F.sha2(F.concat(F.lit(outer_pad), inner), 256)


def phone_pseudonym(phone: Column, key: bytes) -> Column:
    """The keyed pseudonym of a phone number, null for no number."""
    number = national_number(phone)
    return F.when(number.isNull() | (number == ""), F.lit(None)).otherwise(hmac_sha256_hex(number, key))


def phone_block(phone: Column) -> Column:
    """The 7-digit number block (prefix and HLR code) that batch registration shares."""
    number = national_number(phone)
    return F.when(F.length(number) >= 7, F.substring(number, 1, 7))
