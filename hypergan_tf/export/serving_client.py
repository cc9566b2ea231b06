"""A small TF Serving REST client: image files -> `serving_default` of an exported model.

Request (TF Serving's REST "row" format), POST `{server}/v1/models/{model}:predict`::

    {"signature_name": "serving_default", "instances": [{"images": [[[0.0], ...]]}, ...]}

Answer: `{"predictions": [{"probabilities": [...], "predicted_class": 7, "entropy": ..,
"mutual_information": ..}, ...]}`. Standard library only, so it runs anywhere.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from hypergan_tf.errors import HyperganError


def load_image(path: str | Path) -> np.ndarray:
    """A PNG/JPEG file -> float32 [H, W, C] pixels in [0, 1]."""
    import tensorflow as tf

    try:
        image = tf.io.decode_image(tf.io.read_file(str(path)), expand_animations=False).numpy()
    except tf.errors.OpError:
        raise HyperganError(f"{path} is not a readable PNG or JPEG image") from None
    return image.astype(np.float32) / 255.0


def predict_request(images: list[np.ndarray]) -> dict:
    return {"signature_name": "serving_default", "instances": [{"images": image.tolist()} for image in images]}


def predict_files(server: str, model: str, paths, timeout: float = 60.0) -> dict:
    """POST the images to TF Serving and return its decoded JSON answer, checked to be
    one prediction of the documented shape per image."""
    body = json.dumps(predict_request([load_image(p) for p in paths])).encode()
    url = f"{server.rstrip('/')}/v1/models/{model}:predict"
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")[:300]
        raise HyperganError(f"{url} answered {err.code}: {detail}") from None
    except (TimeoutError, socket.timeout):
        raise HyperganError(f"{url} did not answer within {timeout:g} s; is the server overloaded? raise --timeout") from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, (TimeoutError, socket.timeout)):
            raise HyperganError(f"{url} did not answer within {timeout:g} s; is the server overloaded? raise --timeout") from None
        raise HyperganError(f"cannot reach {url} ({err.reason}); is TF Serving running there with --rest_api_port?") from None
    return check_answer(raw, len(paths), url)


def check_answer(raw: bytes, num_images: int, url: str) -> dict:
    """The server's answer, or a HyperganError saying how it differs from a model exported by
    hypergan-tf (another server, another model, a proxy's HTML page)."""
    def fail(why: str):
        raise HyperganError(f"{url} did not answer as a hypergan-tf export does ({why}); check --server and --model")

    try:
        answer = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        fail(f"not JSON: {raw[:60].decode(errors='replace')!r}")
    predictions = answer.get("predictions") if isinstance(answer, dict) else None
    if not isinstance(predictions, list) or len(predictions) != num_images:
        fail(f"expected 'predictions' with one entry per image ({num_images})")
    for line in predictions:
        if not isinstance(line, dict) or not {"probabilities", "predicted_class", "entropy", "mutual_information"} <= set(line):
            fail("a prediction lacks probabilities, predicted_class, entropy or mutual_information")
        probabilities, top = line["probabilities"], line["predicted_class"]
        if not (isinstance(probabilities, list) and probabilities and all(isinstance(p, (int, float)) for p in probabilities)):
            fail("probabilities is not a list of numbers")
        if not isinstance(top, int) or not 0 <= top < len(probabilities):
            fail(f"predicted_class {top!r} is not one of the {len(probabilities)} classes")
        if not all(isinstance(line[k], (int, float)) for k in ("entropy", "mutual_information")):
            fail("entropy or mutual_information is not a number")
    return answer
