"""Exception types the CLI and the plugin turn into one clear message."""


class R2cnnError(Exception):
    """Base of every expected, user-facing failure."""


class RasterInputError(R2cnnError):
    """The input raster is missing, unreadable, or of an unsupported kind."""


class ModelError(R2cnnError):
    """The model file is missing, invalid, or not an ONNX model we trust."""


class OutputError(R2cnnError):
    """The output exists (without overwrite) or cannot be written."""


class DetectionCancelled(R2cnnError):
    """should_stop() said stop; nothing was written."""


class CliError(R2cnnError):
    """A command-line usage failure (bad option, existing output): `r2cnn` prints one line, exit status 2."""


class ModelOutputError(ModelError, ValueError):
    """A model's outputs break the contract (shapes, indices); a ValueError too, as such checks were before."""


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of a library's error (they run to pages), for a one-line message."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


class SettingsError(R2cnnError):
    """A run setting outside its limits (engine.runtime.run_settings): the same line from the CLI and the plugin."""
