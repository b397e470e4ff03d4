"""Device topology: classes of identical devices (CPUs, GPUs, DSAs, ...).

The paper's model (Tarnawski et al., NeurIPS 2020) is the special case
``paper_topology(k, l, M)``: ``k`` identical accelerators with memory ``M`` that
pay for communication, and ``l`` CPU cores with unlimited memory that do not.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, NamedTuple

from .errors import InputError

DEVICE_KINDS = ("cpu", "gpu", "dsa", "accelerator")

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
        if not sep or not cls or not index.isdigit():
            raise InputError(f"device name {text!r} is not of the form CLASS:INDEX")
        return Device(cls, int(index))


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
            raise InputError(f"device class name {self.name!r} must be a non-empty string without ':'")
        if self.kind not in DEVICE_KINDS:
            raise InputError(
                f"device class {self.name!r}: kind {self.kind!r} is not one of {', '.join(DEVICE_KINDS)}"
            )
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 0:
            raise InputError(f"device class {self.name!r}: count {self.count!r} must be a whole number >= 0")
        if self.memory is not None:
            _check_number(self.memory, f"device class {self.name!r}: memory")
        if self.bandwidth is not None:
            _check_number(self.bandwidth, f"device class {self.name!r}: bandwidth")
            if self.bandwidth == 0:
                raise InputError(f"device class {self.name!r}: bandwidth must be positive")
        _check_number(self.latency, f"device class {self.name!r}: latency")


def _check_number(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} must be a number, got {value!r}")
    if math.isnan(value) or math.isinf(value):
        raise InputError(f"{what} must be finite, got {value!r}")
    if value < 0:
        raise InputError(f"{what} must be >= 0, got {value!r}")


@dataclass(frozen=True)
class Topology:
    """The devices available: an ordered tuple of device classes."""

    classes: tuple[DeviceClass, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes", tuple(self.classes))
        names = [c.name for c in self.classes]
        for name in names:
            if names.count(name) > 1:
                raise InputError(f"device class {name!r} is defined twice")

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

    def is_paper(self) -> bool:
        """True when this is the paper's {accelerator: k, cpu: l} topology."""
        if self.class_names != (PAPER_ACCELERATOR, PAPER_CPU):
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
