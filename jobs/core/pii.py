"""Phone numbers: a keyed pseudonym and the number block, never the number in clear; the key's fingerprint."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from datetime import datetime
from pathlib import Path

from pyspark.sql import Column
from pyspark.sql import functions as F

PII_KEY_VARIABLE = "ACCOUNTWATCH_PII_KEY"
SHA256_BLOCK_BYTES = 64
PHONE_PATTERN = r"^(\+86)?[0-9]+$"

# Phone-like values in free text, as a Java regex (Spark's regexp_replace). Digits are ASCII or full width.
_DIGIT = r"[0-9\uff10-\uff19]"
_SEPARATOR = r"[\s.\-()\u00a0\u2010-\u2015\u3000\uff0d]"
_WORD = r"0-9A-Za-z_\uff10-\uff19"
_COUNTRY = rf"(?:\(?(?:\+|00)?86\)?{_SEPARATOR}{{0,3}})?"
# Groups of 3+ digits ending in a group of 4+ (138 1111 0007, (010) 1234-5678): an ISO date's 2-digit month and
# day and an IPv4 address's octets never form one, so timestamps and addresses stay readable.
_GROUPED = rf"\(?{_DIGIT}{{3,}}(?:{_SEPARATOR}{{1,3}}{_DIGIT}{{3,}})*{_SEPARATOR}{{1,3}}{_DIGIT}{{4,}}"
# Standing alone: not glued to a letter, digit or underscore (ids such as u0001234567, hex device ids), nor
# following a dotted or dashed code (2026-01-03T12:00:00.1234567, art-2026-0103-1234).
_STANDALONE = rf"(?<![{_WORD}])(?<![0-9A-Za-z][.\-]){_COUNTRY}(?:{_GROUPED}|{_DIGIT}{{7,}})(?![{_WORD}])"
# A mainland mobile number (1[3-9] and 9 digits, as 3-4-4 or unbroken) is masked wherever it sits, even glued
# to text (tel13811110007).
_MOBILE = (
    rf"(?<!{_DIGIT})(?:(?:\+|00)?86{_SEPARATOR}?)?"
    rf"[1\uff11][3-9\uff13-\uff19]{_DIGIT}(?:{_SEPARATOR}?{_DIGIT}{{4}}){{2}}(?!{_DIGIT})"
)
PHONE_LIKE = f"{_STANDALONE}|{_MOBILE}"
PHONE_MASK = "<phone removed>"
# The constant whose HMAC under the key identifies the key without revealing it.
KEY_FINGERPRINT_LABEL = "accountwatch phone pseudonym key"
KEY_FINGERPRINT_FILE = Path("_accountwatch") / "pii_key.json"


class MissingPiiKeyError(RuntimeError):
    """No pseudonymisation key is configured."""


class PiiKeyMismatchError(RuntimeError):
    """A key that does not fit the lake's key record: not the key its pseudonyms use, or, to rotate to, already it."""


def pii_key_from_environment(variable: str = PII_KEY_VARIABLE) -> bytes:
    """The HMAC key from ACCOUNTWATCH_PII_KEY (or `variable`); fails with a clear message when it is unset."""
    value = os.environ.get(variable, "")
    if not value:
        raise MissingPiiKeyError(
            f"{variable} is not set: phone numbers are stored only as keyed pseudonyms, so set it to a "
            "secret of at least 16 characters (the same one every night)"
        )
    if len(value) < 16:
        raise MissingPiiKeyError(f"{variable} is too short: use a secret of at least 16 characters")
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


def masked_phones(text: Column) -> Column:
    """`text` with every phone-like value, whatever its separators, replaced by PHONE_MASK."""
    return F.regexp_replace(text, PHONE_LIKE, PHONE_MASK)


# The same pattern in Python's engine, for free text written from the driver (review notes, lift reasons).
_PHONE_LIKE_TEXT = re.compile(PHONE_LIKE)


def mask_phones_text(text: str) -> str:
    """`text` with every phone-like value replaced by PHONE_MASK, as `masked_phones` does in Spark."""
    return _PHONE_LIKE_TEXT.sub(PHONE_MASK, text)


def key_fingerprint(key: bytes) -> str:
    """HMAC-SHA256 of a fixed label under `key`: tells keys apart without revealing them."""
    return hmac.new(key, KEY_FINGERPRINT_LABEL.encode(), hashlib.sha256).hexdigest()


def _fingerprint_file(lake_root: Path) -> Path:
    return Path(lake_root).absolute() / KEY_FINGERPRINT_FILE


def read_key_record(lake_root: Path) -> dict | None:
    """The lake's key record (every key's fingerprint and when it was in use), or None before the first write."""
    path = _fingerprint_file(lake_root)
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        if record["keys"] and all(isinstance(entry["fingerprint"], str) for entry in record["keys"]):
            return record
    except (ValueError, KeyError, TypeError):
        pass
    raise PiiKeyMismatchError(f"{path} is not a readable key record: restore it from a backup of the lake")


def _write_key_record(path: Path, record: dict, replace_existing: bool) -> bool:
    """Write `record` atomically; without `replace_existing`, only if no record exists (returns whether it wrote)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(staged, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    try:
        if replace_existing:
            os.replace(staged, path)
            return True
        try:
            # A hard link fails when the file exists: two first runs cannot both record their key.
            os.link(staged, path)
        except FileExistsError:
            return False
        return True
    finally:
        staged.unlink(missing_ok=True)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _current(record: dict) -> dict:
    return record["keys"][-1]


def check_pii_key(lake_root: Path, key: bytes) -> None:
    """Refuse a key other than the lake's; on the lake's first write, record the key's fingerprint."""
    path = _fingerprint_file(lake_root)
    fingerprint = key_fingerprint(key)
    record = read_key_record(lake_root)
    if record is None:
        first: dict = {
            "label": KEY_FINGERPRINT_LABEL,
            "keys": [{"fingerprint": fingerprint, "in_use_from": _now(), "in_use_until": None, "how": "first write"}],
        }
        if _write_key_record(path, first, replace_existing=False):
            return
        record = read_key_record(lake_root) or first
    current = _current(record)
    if hmac.compare_digest(current["fingerprint"], fingerprint):
        return
    retired = any(hmac.compare_digest(entry["fingerprint"], fingerprint) for entry in record["keys"][:-1])
    raise PiiKeyMismatchError(
        f"{PII_KEY_VARIABLE} (fingerprint {fingerprint[:8]}) is "
        f"{'a key retired from' if retired else 'not the key of'} the lake {Path(lake_root).absolute()}, whose "
        f"phone pseudonyms use the key with fingerprint {current['fingerprint'][:8]} (in use since "
        f"{current['in_use_from']}; recorded in {path}): set that key, or to change keys on purpose run "
        f"`accountwatch rotate-pii-key --lake {Path(lake_root).absolute()} --new-key-env NAME --yes`"
    )


def rotate_pii_key(lake_root: Path, new_key: bytes, note: str) -> tuple[dict | None, dict]:
    """Make `new_key` the lake's key from now on, keeping the retired keys' fingerprints and dates.

    Pseudonyms are one-way, so the stored ones stay as they are: pseudonyms made before and after the rotation
    differ for the same number. Returns the previous current key entry (None on a lake without a record) and the new.
    """
    path = _fingerprint_file(lake_root)
    record: dict = read_key_record(lake_root) or {"label": KEY_FINGERPRINT_LABEL, "keys": []}
    fingerprint = key_fingerprint(new_key)
    previous = _current(record) if record["keys"] else None
    if previous is not None and hmac.compare_digest(previous["fingerprint"], fingerprint):
        raise PiiKeyMismatchError(
            f"the new key (fingerprint {fingerprint[:8]}) is already the key of the lake {Path(lake_root).absolute()}"
        )
    now = _now()
    if previous is not None:
        previous["in_use_until"] = now
    entry = {"fingerprint": fingerprint, "in_use_from": now, "in_use_until": None, "how": note}
    record["keys"].append(entry)
    _write_key_record(path, record, replace_existing=True)
    return previous, entry
