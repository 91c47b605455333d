"""Which addresses a webhook may be sent to: not ours, not the cloud's, not a private network."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("168.63.129.16"),  # Azure's host agent
}
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT

# Said wherever such an address is refused: what the operator changes to allow it.
HOW_TO_ALLOW = ("this server refuses private addresses; to allow them, start it with "
                "`bluewire serve --dev` or set BLUEWIRE_ALLOW_PRIVATE_WEBHOOKS=1")


def refusal(address: str) -> str | None:
    """Why a webhook may not be sent to `address`, or None if it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"{address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in _METADATA:
        return f"{ip} is a cloud metadata address"
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_unspecified or ip.is_reserved:
        return f"{ip} is a reserved address"
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED):
        return f"{ip} is a private address"
    return None


def refusal_of_all(host: str, addresses: Iterable[str]) -> str | None:
    """Why `host`, resolving to `addresses`, may not be sent to: when none of them may be."""
    reasons = [refusal(address) for address in addresses]
    if not reasons or None in reasons:
        return None
    return (f"{host} resolves only to refused addresses "
            f"({'; '.join(sorted({str(reason) for reason in reasons}))})")
