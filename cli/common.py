"""What the commands share: the click group, option types, progress bars, table rows and
JSON output, so that every command reports errors and results the same way."""

from __future__ import annotations

import contextlib
import errno
import sys
from pathlib import Path

import click
from click.core import ParameterSource

from hypergan_tf.atomic import write_failure, write_json
from hypergan_tf.config import TrainConfig
from hypergan_tf.errors import HyperganError
from hypergan_tf.progress import ProgressLines
from hypergan_tf.targets import PRESETS

DEFAULTS = TrainConfig()
EXIT_USER_ERROR = 2


class UserError(click.ClickException):
    """Printed as "Error: <message>" without a traceback; exit code 2."""

    exit_code = EXIT_USER_ERROR


# Failures of the file system that a user fixes (disk full, read-only folder, a name too
# long): wherever one escapes the library's own checks, it is still one Error: line.
FILE_SYSTEM_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.ENAMETOOLONG)


class HyperganGroup(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except HyperganError as err:
            raise UserError(str(err)) from None
        except click.UsageError as err:  # a command's bad option: one Error: line, without click's usage lines
            if isinstance(err, click.exceptions.NoArgsIsHelpError):
                raise
            where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
            raise UserError(err.format_message().rstrip(".") + where) from None
        except OSError as err:
            if err.errno not in FILE_SYSTEM_ERRORS:
                raise
            raise UserError(str(write_failure(err.filename or "a file", err))) from None


class TargetType(click.ParamType):
    """--target: a preset name or the path of a JSON target spec (checked when training starts)."""

    name = "target"

    def get_metavar(self, param, ctx=None):
        return "[" + "|".join(sorted(PRESETS)) + "|FILE.json]"

    def convert(self, value, param, ctx):
        if value in PRESETS or str(value).endswith(".json") or Path(value).is_file():
            return str(value)
        self.fail(f"{value!r} is neither a preset ({', '.join(sorted(PRESETS))}) nor a .json target spec file", param, ctx)


@contextlib.contextmanager
def progress_bar(label: str):
    """A progress bar on stderr, driven by the library's `progress(done, total)` callbacks;
    when stderr is not a terminal (a log file), a line every PROGRESS_SECONDS instead."""
    if not sys.stderr.isatty():
        lines = ProgressLines(label)

        def log_progress(done, total):
            line = lines.update(done, total)
            if line:
                click.echo(line, err=True)

        yield log_progress
        return
    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:
        def progress(done, total):
            bar.length = total
            bar.update(done - bar.pos)

        yield progress


# The seed of sampled networks: any non-negative integer (NumPy's generator takes no negative seed).
SEED = click.IntRange(min=0)


def folder_name(ctx, param, value):
    """An output folder option: "" would mean the current folder, never what a user wants."""
    if value is not None and not str(value).strip():
        raise click.BadParameter("must not be empty; give a folder, e.g. runs/mnist")
    return value


def _number_list(text: str, kind, example: str, valid) -> list:
    """"1,5,10" -> [1, 5, 10] of `kind` (int or float), each passing `valid`."""
    noun = "integers" if kind is int else "numbers"
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a comma-separated list of {noun}, e.g. {example}") from None
    if not values or not all(valid(v) for v in values):
        raise click.BadParameter(f"give {'positive integers' if kind is int else 'numbers in (0, 1]'}, e.g. {example}")
    return values


def int_list(text: str) -> list[int]:
    return _number_list(text, int, "1,5,10,100", lambda v: v >= 1)


def epsilon_list(text: str) -> list[float]:
    """L-infinity attack sizes on pixels in [0, 1]: each in (0, 1]."""
    return _number_list(text, float, "0.05,0.1,0.3", lambda v: 0 < v <= 1)


def config_from_options(ctx: click.Context, **values) -> TrainConfig:
    """The TrainConfig of a command's options: an option the user did not give takes the
    data set's own default where it has one (config.DATASET_DEFAULTS), else the option's."""
    given = {name for name in ctx.params if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT}
    return TrainConfig.for_dataset(values, given)


def row(values, widths, formats=None) -> str:
    """One right-aligned table row: `values[i]` in `widths[i]` columns, numbers formatted by
    `formats[i]` (e.g. ".4f"); the first column is left-aligned when its width is negative."""
    cells = []
    for i, (value, width) in enumerate(zip(values, widths)):
        spec = (formats[i] if formats and formats[i] and isinstance(value, (int, float)) else "")
        text = format(value, spec)
        cells.append(text[: abs(width)].ljust(-width) if width < 0 else text.rjust(width))
    return " ".join(cells)


def writable(path: Path, option: str = "--json") -> Path:
    """Check before the work, not after it, that a result can be written there."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.with_name(path.name + ".tmp")
        probe.touch()
        probe.unlink()
    except OSError as err:
        blocking = next((parent for parent in path.parents if parent.exists() and not parent.is_dir()), None)
        why = f"{blocking} is a file, not a folder" if blocking else err.strerror
        raise HyperganError(f"cannot write {path} ({why}); choose a writable path with {option}") from None
    return path


def result_paths(run_dir, json_path, plot_path, default_json: str, default_plot: str) -> tuple[Path, Path]:
    """Where a command writes its JSON and its plot, both checked writable before the work.

    Defaults: RUN/<default_json> and RUN/<default_plot>. With --json elsewhere and no
    --plot, the plot goes beside that JSON (<json name>.png), so the run directory is
    left untouched (it may be read-only, or another user's)."""
    path = Path(json_path) if json_path else Path(run_dir) / default_json
    plot = Path(plot_path) if plot_path else path.with_suffix(".png") if json_path else Path(run_dir) / default_plot
    return writable(path), writable(plot, "--plot")


def write_result(path: Path, value: dict) -> None:
    """Atomically, and with a clear error when the place is not writable."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, value)
    except OSError as err:
        raise HyperganError(f"cannot write {path} ({err.strerror}); choose a writable path with --json") from None
