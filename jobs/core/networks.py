"""The network an address belongs to: what registration bursts and operator hand-overs compare."""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F


def ip_prefix(ip: Column) -> Column:
    """The /24 network of an IPv4 address (null for IPv6 and malformed addresses)."""
    is_ipv4 = ip.rlike(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")
    return F.when(is_ipv4, F.concat(F.substring_index(ip, ".", 3), F.lit(".0/24")))


def network_of(ip: Column) -> Column:
    """The address's network: /24 for IPv4, /48 for a fully written IPv6 address; null when neither."""
    ipv6 = ip.rlike(r"^[0-9A-Fa-f]{1,4}(:[0-9A-Fa-f]{1,4}){2}:")
    return F.coalesce(ip_prefix(ip), F.when(ipv6, F.concat(F.lower(F.substring_index(ip, ":", 3)), F.lit("::/48"))))
