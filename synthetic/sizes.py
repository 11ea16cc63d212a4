"""How big a synthetic platform is."""

from __future__ import annotations

from dataclasses import dataclass


class SyntheticPlatformError(ValueError):
    """A platform size or landing folder the generator cannot work with."""


@dataclass(frozen=True)
class PlatformSize:
    """How big a synthetic platform is."""

    public_accounts: int = 300
    users: int = 4000
    events: int = 800_000  # approximate subscription + engagement rows over the whole period
    days: int = 245

    @classmethod
    def named(cls, name: str) -> PlatformSize:
        """The preset called `name`: tiny (tests), demo, bench, or wide (many accounts with few events each)."""
        presets = {
            "tiny": cls(public_accounts=40, users=300, events=20_000, days=200),
            "demo": cls(),
            "bench": cls(public_accounts=1000, users=15_000, events=4_000_000, days=245),
            # About 40,000 account rows and 2.6 million events: fewer events than bench, spread over 2.5 times the
            # accounts, for the nightly run's cost per account.
            "wide": cls(public_accounts=2500, users=37_500, events=2_600_000, days=245),
        }
        if name not in presets:
            raise SyntheticPlatformError(f"unknown platform size {name!r} (expected one of {sorted(presets)})")
        return presets[name]

    def scaled(self, factor: int) -> PlatformSize:
        """This size with `factor` times the accounts, users and events over the same days (growth benchmark)."""
        if factor < 1:
            raise SyntheticPlatformError(f"scale factor {factor}: expected a whole number of at least 1")
        return PlatformSize(self.public_accounts * factor, self.users * factor, self.events * factor, self.days)


def validate(size: PlatformSize) -> None:
    """Refuse a size too small for the planted cases."""
    if size.days < 14:
        raise SyntheticPlatformError(f"size.days is {size.days}: the synthetic platform needs at least 14 days")
    if size.public_accounts < 20:
        raise SyntheticPlatformError(f"size.public_accounts is {size.public_accounts}: at least 20 are needed")
    if size.users < 50:
        raise SyntheticPlatformError(f"size.users is {size.users}: at least 50 are needed")
    if size.events < 20 * size.days:
        raise SyntheticPlatformError(f"size.events is {size.events}: at least 20 per day ({20 * size.days}) needed")
