"""Ready-made device descriptions for the cost model, with figures from public datasheets.

A topology file names one with ``"device": NAME`` in a device class; the class's
own fields override it. Every figure is the vendor's peak; real kernels reach a
fraction of it (set ``efficiency`` in the topology to model that). docs/import.md
lists the sources again with the derivations.

- ``nvidia-a100-sxm4-40gb``: NVIDIA A100 Tensor Core GPU datasheet (A100 40GB SXM
  column): FP64 9.7 TFLOPS, FP32 19.5 TFLOPS, FP16/BF16 Tensor Core 312 TFLOPS
  (dense), 40 GB HBM2 at 1,555 GB/s, PCIe Gen4 64 GB/s (both directions together,
  so 32 GB/s each way).
- ``nvidia-v100-pcie-16gb``: NVIDIA V100 Tensor Core GPU datasheet (V100 PCIe
  column): FP64 7 TFLOPS, FP32 14 TFLOPS, Tensor Core 112 TFLOPS, 16 GB HBM2 at
  900 GB/s, PCIe Gen3 32 GB/s (both directions together, so 16 GB/s each way).
- ``intel-xeon-platinum-8380``: one socket of the Intel Xeon Platinum 8380 (Intel
  ARK product page): 40 cores at 2.30 GHz base, two AVX-512 FMA units per core,
  eight channels of DDR4-3200. Peak FP32 = 40 cores x 2.3e9 cycles/s x 64 FLOP
  per cycle (2 units x 16 lanes x 2 for a fused multiply-add) = 5.888 TFLOPS,
  FP64 half of it; memory bandwidth = 8 channels x 3200e6 transfers/s x 8 bytes
  = 204.8 GB/s. Memory is left unlimited, as for CPUs in the paper's model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from ..errors import InputError


@dataclass(frozen=True)
class DeviceSpec:
    """Performance figures of one kind of device.

    peak_flops: FLOP/s by element type name ("float32", "float16", "bfloat16",
        "float64"); the key "default" serves any other type.
    memory_bandwidth: bytes/s between the device's compute units and its memory.
    memory: capacity in bytes (``None``: unlimited).
    link_bandwidth: bytes/s of the link that moves tensors to and from the
        device (``None``: the device does not pay for communication).
    link_latency: seconds added to every transfer on that link.
    source: where the figures come from.
    """

    name: str
    kind: str
    peak_flops: Mapping[str, float]
    memory_bandwidth: float
    memory: float | None = None
    link_bandwidth: float | None = None
    link_latency: float = 0.0
    source: str = ""
    notes: str = field(default="", compare=False)


DEVICES: dict[str, DeviceSpec] = {
    spec.name: spec
    for spec in (
        DeviceSpec(
            name="nvidia-a100-sxm4-40gb",
            kind="gpu",
            peak_flops={"float64": 9.7e12, "float32": 19.5e12, "float16": 312e12, "bfloat16": 312e12,
                        "default": 19.5e12},
            memory_bandwidth=1555e9,
            memory=40e9,
            link_bandwidth=32e9,
            source="NVIDIA A100 Tensor Core GPU datasheet, A100 40GB SXM",
            notes="PCIe Gen4 x16: 64 GB/s both ways, 32 GB/s each way",
        ),
        DeviceSpec(
            name="nvidia-v100-pcie-16gb",
            kind="gpu",
            peak_flops={"float64": 7e12, "float32": 14e12, "float16": 112e12, "default": 14e12},
            memory_bandwidth=900e9,
            memory=16e9,
            link_bandwidth=16e9,
            source="NVIDIA V100 Tensor Core GPU datasheet, V100 PCIe",
            notes="PCIe Gen3 x16: 32 GB/s both ways, 16 GB/s each way",
        ),
        DeviceSpec(
            name="intel-xeon-platinum-8380",
            kind="cpu",
            peak_flops={"float64": 2.944e12, "float32": 5.888e12, "default": 5.888e12},
            memory_bandwidth=204.8e9,
            memory=None,
            link_bandwidth=None,
            source="Intel ARK, Intel Xeon Platinum 8380 (40 cores, 2.30 GHz, 2 AVX-512 FMA units, 8 x DDR4-3200)",
            notes="derived peaks: 40 x 2.3e9 x 64 FP32 FLOP/cycle; 8 x 3200e6 x 8 B/s",
        ),
    )
}


def device_spec(name: str) -> DeviceSpec:
    """The ready-made description called ``name``; InputError listing the known ones.

    Example: ``device_spec("nvidia-a100-sxm4-40gb").memory_bandwidth == 1555e9``. O(1).
    """
    try:
        return DEVICES[name]
    except KeyError:
        raise InputError(f"unknown device {name!r} (ready-made devices: {', '.join(sorted(DEVICES))})") from None
