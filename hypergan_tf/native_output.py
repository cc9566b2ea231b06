"""Output that C++ libraries (TensorFlow, libjpeg) print straight to file descriptor 2,
past Python's sys.stderr, kept off the user's terminal where it is only noise."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def captured_native_stderr():
    """Send file descriptor 2 to a temporary file for the block; replay what was caught
    if the block raises something other than a HyperganError (which already says what
    went wrong in one line)."""
    from hypergan_tf.errors import HyperganError

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except HyperganError:
            raise
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
