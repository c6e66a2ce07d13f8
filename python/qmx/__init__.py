# SPDX-License-Identifier: MIT
"""qmx: int8 GEMM offload (FPGA card, simulated accelerator, CPU) from Python.

Pure Python over libqmx with ctypes; numpy arrays go in and out without
copies where their layout allows.  ``qmx.torch`` adds ``QLinear``, a
quantization-aware linear layer whose forward runs on a qmx device;
``qmx.carbon`` reads grid-intensity traces and makes carbon-aware decisions
(when to run, where, how much) - see docs/carbon-aware.md.
"""

from ._lib import QmxError
from .device import (Batch, Buffer, Device, Job, Weights, backends,
                     default_device_uri, gemm, gemm_reference, gemm_submit,
                     gemm_tiled, list_devices, SYNC_FROM_DEVICE,
                     SYNC_TO_DEVICE)
from .meter import Meter
from .quant import (QGemm, QParams, choose_qparams, choose_qparams_per_channel,
                    dequantize, dequantize_per_channel, fake_quantize,
                    qparams_from_minmax, quantize, quantize_multiplier,
                    quantize_per_channel)

__version__ = "0.1.0"

__all__ = [
    "Batch", "Buffer", "Device", "Job", "Meter", "QGemm", "QParams", "QmxError",
    "SYNC_FROM_DEVICE", "SYNC_TO_DEVICE", "Weights", "backends", "choose_qparams",
    "choose_qparams_per_channel", "default_device_uri", "dequantize",
    "dequantize_per_channel", "fake_quantize", "gemm", "gemm_reference",
    "gemm_submit", "gemm_tiled", "list_devices", "qparams_from_minmax", "quantize",
    "quantize_multiplier", "quantize_per_channel",
]
