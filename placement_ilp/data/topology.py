"""Device topology: classes of identical devices (CPUs, GPUs, DSAs, ...), and
optional links between pairs of classes or pairs of devices.

The paper's model (Tarnawski et al., NeurIPS 2020) is the special case
``paper_topology(k, l, M)``: ``k`` identical accelerators with memory ``M`` that
pay for communication, and ``l`` CPU cores with unlimited memory that do not.

Which link a transfer uses (docs/formats.md, "Links between classes and devices"):
a device d talking to another device e uses the device-pair link {d, e} if there is
one, else the class-pair link {class(d), class(e)}, else d's own class link
(``DeviceClass.bandwidth`` / ``latency``, or the edge cost when the class has no
bandwidth). :meth:`Topology.link_between` answers that question.

A topology has at least one device, and at most
:data:`~placement_ilp.data.checks.MAX_DEVICES` (4096), per class and in all.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Iterator, NamedTuple

from .checks import MAX_DEVICES, check_int, check_number, shown
from ..errors import InputError

DEVICE_KINDS = ("cpu", "gpu", "dsa", "accelerator")

#: Why :data:`~placement_ilp.data.checks.MAX_DEVICES` bounds device counts (ends messages).
TOO_MANY_DEVICES = "the most devices the methods enumerate (MAX_DEVICES)"

#: Class names the paper's format maps to.
PAPER_ACCELERATOR = "acc"
PAPER_CPU = "cpu"


class Device(NamedTuple):
    """One device: the ``index``-th member of device class ``cls``."""

    cls: str
    index: int

    def __str__(self) -> str:
        return f"{self.cls}:{self.index}"

    @staticmethod
    def parse(text: str) -> "Device":
        """Parse ``"cls:index"`` (as printed by ``str(device)``)."""
        cls, sep, index = str(text).rpartition(":")
        if not sep or not cls or not index.isascii() or not index.isdigit() or len(index) > 18:
            raise InputError(f"device name {shown(text)} is not of the form CLASS:INDEX")
        return Device(cls, int(index))


def as_device(value: object) -> Device:
    """``value`` as a :class:`Device`: a Device, a ``(class, index)`` pair or a
    ``"class:index"`` string; InputError saying how to write a device otherwise. O(1).

    Example: ``as_device("acc:0") == as_device(("acc", 0)) == Device("acc", 0)``.
    """
    if type(value) is Device and isinstance(value.cls, str) and type(value.index) is int:
        return value
    if isinstance(value, str):
        return Device.parse(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str) and not isinstance(value[1], bool):
        try:
            return Device(value[0], operator.index(value[1]))  # ints, numpy integers
        except TypeError:
            pass
    raise InputError(f'{shown(value)} is not a device; write Device("acc", 0), ("acc", 0) or "acc:0"')


@dataclass(frozen=True)
class DeviceClass:
    """A class of ``count`` identical devices.

    memory: capacity per device in the units of node memory (bytes); ``None``
        means unlimited.
    pays_communication: whether a device of this class is charged for moving
        data in and out (accelerators: yes; CPUs in the paper's model: no).
    bandwidth: link bandwidth in bytes per time unit; ``None`` means transfer
        times come from the per-edge ``cost`` of the graph (the paper's model).
    latency: fixed time added to every transfer when ``bandwidth`` is set.
    """

    name: str
    kind: str
    count: int
    memory: float | None = None
    pays_communication: bool = True
    bandwidth: float | None = None
    latency: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or ":" in self.name:
            raise InputError(f"device class name {shown(self.name)} must be a non-empty string without ':'")
        if self.kind not in DEVICE_KINDS:
            raise InputError(
                f"device class {self.name!r}: kind {shown(self.kind)} is not one of {', '.join(DEVICE_KINDS)}"
            )
        where = f"device class {self.name!r}"
        object.__setattr__(self, "count", check_int(self.count, f"{where}: count", maximum=MAX_DEVICES,
                                                    why_maximum=TOO_MANY_DEVICES))
        object.__setattr__(self, "memory", check_number(self.memory, f"{where}: memory", allow_none=True))
        object.__setattr__(self, "bandwidth",
                           check_number(self.bandwidth, f"{where}: bandwidth", greater_than=0, allow_none=True))
        object.__setattr__(self, "latency", check_number(self.latency, f"{where}: latency"))
        if not isinstance(self.pays_communication, bool):
            raise InputError(f"{where}: pays_communication must be True or False, got {shown(self.pays_communication)}")


@dataclass(frozen=True)
class Link:
    """An undirected link between two device classes or two devices.

    a, b: both class names (a class pair; ``a == b`` is allowed and means "between
        two devices of that class"), or both device names ``"CLASS:INDEX"`` (a device
        pair, two different devices).
    bandwidth: bytes per time unit, > 0. latency: fixed time per transfer, >= 0.

    A transfer of ``nbytes`` over the link costs ``nbytes / bandwidth + latency``
    (:meth:`cost`). Whether the names exist is checked by :class:`Topology`.

    Example: ``Link("server0", "server1", 12500.0, 10.0).cost(25000.0) == 12.0``.
    """

    a: str
    b: str
    bandwidth: float
    latency: float = 0.0

    def __post_init__(self) -> None:
        for end in (self.a, self.b):
            if not isinstance(end, str) or not end:
                raise InputError(f"link {self.a!r}-{self.b!r}: its ends must be class or device names, got {end!r}")
        if (":" in self.a) != (":" in self.b):
            raise InputError(
                f"link {self.a!r}-{self.b!r} mixes a class and a device: join two classes or two devices"
            )
        if self.is_device_pair:
            first, second = Device.parse(self.a), Device.parse(self.b)
            if first == second:
                raise InputError(f"link {self.a!r}-{self.b!r} joins a device to itself")
        what = f"link {self.a!r}-{self.b!r}"
        object.__setattr__(self, "bandwidth", check_number(self.bandwidth, f"{what}: bandwidth", greater_than=0))
        object.__setattr__(self, "latency", check_number(self.latency, f"{what}: latency"))

    @property
    def is_device_pair(self) -> bool:
        """True for a link between two devices, False for one between two classes."""
        return ":" in self.a

    @property
    def key(self) -> frozenset:
        """The unordered pair this link joins: class names, or :class:`Device` values."""
        if self.is_device_pair:
            return frozenset((Device.parse(self.a), Device.parse(self.b)))
        return frozenset((self.a, self.b))

    def cost(self, nbytes: float) -> float:
        """Time to move ``nbytes`` over this link: ``nbytes / bandwidth + latency``. O(1)."""
        return nbytes / self.bandwidth + self.latency


@dataclass(frozen=True)
class Topology:
    """The devices available: an ordered tuple of device classes, and optional
    links between pairs of classes or pairs of devices (see :class:`Link`).

    Example: two servers of two GPUs each, NVLink inside a server (each class's own
    link) and a network between them (a class-pair link)::

        Topology((DeviceClass("s0", "gpu", 2, bandwidth=300e3, latency=2.0),
                  DeviceClass("s1", "gpu", 2, bandwidth=300e3, latency=2.0)),
                 links=(Link("s0", "s1", 12.5e3, 10.0),))
    """

    classes: tuple[DeviceClass, ...]
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        object.__setattr__(self, "links", tuple(self.links))
        for c in self.classes:
            if not isinstance(c, DeviceClass):
                raise InputError(f"topology classes must be DeviceClass values, got {shown(c)}")
        names = [c.name for c in self.classes]
        for name in names:
            if names.count(name) > 1:
                raise InputError(f"device class {name!r} is defined twice")
        total = sum(c.count for c in self.classes)
        if total == 0:
            listed = ", ".join(repr(name) for name in names) or "none"
            raise InputError(f"no devices: every device class has count 0 (classes: {listed})")
        if total > MAX_DEVICES:
            raise InputError(f"the topology has {total} devices in all, more than {MAX_DEVICES}, {TOO_MANY_DEVICES}")
        seen: dict[frozenset, Link] = {}
        for link in self.links:
            if not isinstance(link, Link):
                raise InputError(f"topology links must be Link values, got {link!r}")
            what = f"link {link.a!r}-{link.b!r}"
            if link.is_device_pair:
                for end in (link.a, link.b):
                    device = Device.parse(end)
                    if device.cls not in names:
                        raise InputError(f"{what}: unknown device class {device.cls!r} in device {end!r}")
                    if not self.has_device(device):
                        raise InputError(f"{what}: no device {end!r} (class {device.cls!r} has "
                                         f"{self.class_of(device.cls).count} devices)")
            else:
                for end in (link.a, link.b):
                    if end not in names:
                        raise InputError(f"{what}: unknown device class {end!r}")
            if link.key in seen:
                first = seen[link.key]
                raise InputError(f"{what}: the pair is linked twice (also by link {first.a!r}-{first.b!r})")
            seen[link.key] = link

    def devices(self) -> list[Device]:
        """Every device, class by class, in index order."""
        return [Device(c.name, i) for c in self.classes for i in range(c.count)]

    def __iter__(self) -> Iterator[DeviceClass]:
        return iter(self.classes)

    def class_of(self, name: str) -> DeviceClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise InputError(f"unknown device class {name!r}")

    def has_device(self, device: Device) -> bool:
        return any(c.name == device.cls and 0 <= device.index < c.count for c in self.classes)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.classes)

    @property
    def num_devices(self) -> int:
        return sum(c.count for c in self.classes)

    @functools.cached_property
    def _link_table(self) -> dict[frozenset, Link]:
        return {link.key: link for link in self.links}

    @property
    def device_links(self) -> tuple[Link, ...]:
        """The links between two devices."""
        return tuple(link for link in self.links if link.is_device_pair)

    @property
    def class_links(self) -> tuple[Link, ...]:
        """The links between two classes."""
        return tuple(link for link in self.links if not link.is_device_pair)

    @property
    def named_devices(self) -> frozenset[Device]:
        """The devices named by some device-pair link (they are not interchangeable
        with the other devices of their class)."""
        return frozenset(d for link in self.device_links for d in link.key)

    def class_link(self, a: str, b: str) -> Link | None:
        """The class-pair link between classes ``a`` and ``b`` (``a == b``: between two
        devices of that class), or None. O(1).

        Example: ``topo.class_link("s1", "s0") is topo.class_link("s0", "s1")``.
        """
        return self._link_table.get(frozenset((a, b)))

    def link_between(self, device: Device, partner: Device) -> Link | None:
        """The link that ``device`` uses to talk to ``partner``: the device-pair link
        {device, partner} if given, else the class-pair link of their classes, else
        None, which means ``device``'s own class link (its bandwidth and latency, or
        the edge cost when its class has no bandwidth). None as well when the two
        are the same device (nothing is transferred). O(1).

        Example: with ``links=(Link("gpu:0", "gpu:1", 900e3),)``,
        ``topo.link_between(Device("gpu", 1), Device("gpu", 0)).bandwidth == 900e3``.
        """
        device, partner = Device(*device), Device(*partner)
        if device == partner or not self.links:
            return None
        table = self._link_table
        found = table.get(frozenset((device, partner)))
        if found is None:
            found = table.get(frozenset((device.cls, partner.cls)))
        return found

    def is_paper(self) -> bool:
        """True when this is the paper's {accelerator: k, cpu: l} topology."""
        if self.links or self.class_names != (PAPER_ACCELERATOR, PAPER_CPU):
            return False
        acc, cpu = self.classes
        return (
            acc.pays_communication
            and acc.bandwidth is None
            and not cpu.pays_communication
            and cpu.memory is None
            and cpu.bandwidth is None
        )


def paper_topology(accelerators: int, cpus: int, memory: float | None) -> Topology:
    """The paper's topology: ``accelerators`` identical accelerators with
    ``memory`` each (``None``: unlimited) that pay communication, and ``cpus`` CPU
    cores with unlimited memory that do not.

    Example: ``paper_topology(6, 1, 16e9).devices()[0] == Device("acc", 0)``.
    """
    return Topology(
        (
            DeviceClass(PAPER_ACCELERATOR, "accelerator", accelerators, memory, True),
            DeviceClass(PAPER_CPU, "cpu", cpus, None, False),
        )
    )
