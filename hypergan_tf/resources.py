"""Memory and disk checks before large work: a clear message saying what fits, instead of
a MemoryError (or the kernel's OOM killer) after minutes of computation.

The estimates are deliberately low (float32 weights and activations, small constant
factors), so a check refuses only requests that cannot fit; what passes may still be
tight. They are compared with the memory the kernel reports as available
(/proc/meminfo MemAvailable) and the free space of the output's file system.

Also what the machine computes fast: `fast_bfloat16` (for `--precision auto`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hypergan_tf.errors import HyperganError

FLOAT_BYTES = 4
GB = 1e9


def available_memory() -> int | None:
    """Bytes the kernel can give without swapping, or None where it does not say (not Linux)."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def cpu_flags() -> set[str]:
    """The CPU's feature flags (/proc/cpuinfo "flags", "Features" on ARM), empty where not Linux."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


# CPU flags of native bfloat16 arithmetic: AVX512_BF16 and AMX (x86), the BF16 extension (ARMv8.6).
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16", "bf16")


def fast_bfloat16() -> bool:
    """Whether this machine computes the target networks faster in bfloat16 than in float32
    (`--precision auto`): a GPU of compute capability 8.0 or later (Ampere), else a CPU with
    one of BFLOAT16_CPU_FLAGS. Without them TensorFlow emulates bfloat16, slower than float32."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        return capability is not None and tuple(capability) >= (8, 0)
    return any(flag in cpu_flags() for flag in BFLOAT16_CPU_FLAGS)


def size(nbytes: float) -> str:
    """1.5e9 -> "1.5 GB", 2.4e6 -> "2.4 MB"."""
    return f"{nbytes / GB:,.1f} GB" if nbytes >= GB else f"{nbytes / 1e6:,.1f} MB"


def _refuse(option: str, count: int, need: float, have: float, each: float, what: str, resource: str) -> None:
    fits = max(0, int(have // each)) if each > 0 else 0
    raise HyperganError(f"{option} {count:,} needs about {size(need)} of {resource} ({what}), but {size(have)} "
                        f"are available: at most {fits:,} fit; lower {option}")


def check_memory(option: str, count: int, bytes_each: float, what: str) -> None:
    """Raise a HyperganError when `count * bytes_each` exceeds the available memory."""
    have = available_memory()
    need = count * bytes_each
    if have is not None and need > have:
        _refuse(option, count, need, have, bytes_each, what, "memory")


def check_disk(option: str, count: int, bytes_each: float, folder: str | Path, what: str) -> None:
    """Raise a HyperganError when `count * bytes_each` exceeds the free space where `folder` will be."""
    existing = next((p for p in [Path(folder), *Path(folder).absolute().parents] if p.exists()), None)
    if existing is None:
        return
    free = shutil.disk_usage(existing).free
    need = count * bytes_each
    if need > free:
        _refuse(option, count, need, free, bytes_each, what, f"disk space in {existing}")


def network_bytes(target) -> int:
    """One target network's weights (float32)."""
    return target.num_params * FLOAT_BYTES


def training_bytes_per_network(target, batch_size: int) -> int:
    """Memory one generated network adds to a training step: its weights and their
    gradient, and its activations on the batch kept for the backward pass (at least)."""
    return 2 * network_bytes(target) + 2 * batch_size * target.activation_units * FLOAT_BYTES


def prediction_bytes_per_network(target, num_images: int) -> int:
    """Memory one network adds when its predictions on `num_images` images are kept."""
    return network_bytes(target) + num_images * target.num_classes * FLOAT_BYTES


MAX_NAME_BYTES = 255  # a file or folder name on Linux, macOS and Windows file systems


def check_path_name(path: str | Path, option: str) -> None:
    """Names TensorFlow can write to: UTF-8 (its file APIs take UTF-8 strings) and at most
    255 bytes a component; checked before anything is created."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise HyperganError(f"{option} {shown!r} is not valid UTF-8, which TensorFlow cannot write to; choose a name in UTF-8") from None
    for part in Path(text).parts:
        if len(part.encode("utf-8")) > MAX_NAME_BYTES:
            raise HyperganError(f"{option}: the name {part[:40]}... is {len(part.encode('utf-8'))} bytes long; "
                                f"file systems allow at most {MAX_NAME_BYTES}: choose a shorter one")
