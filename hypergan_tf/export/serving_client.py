"""A small TF Serving REST client: image files -> `serving_default` of an exported model.

Request (TF Serving's REST "row" format), POST `{server}/v1/models/{model}:predict`::

    {"signature_name": "serving_default", "instances": [{"images": [[[0.0], ...]]}, ...]}

Answer: `{"predictions": [{"probabilities": [...], "predicted_class": 7, "entropy": ..,
"mutual_information": ..}, ...]}`. Standard library only, so it runs anywhere.
"""

from __future__ import annotations

import json
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
    """POST the images to TF Serving and return its decoded JSON answer."""
    body = json.dumps(predict_request([load_image(p) for p in paths])).encode()
    url = f"{server.rstrip('/')}/v1/models/{model}:predict"
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as err:
        detail = err.read().decode(errors="replace")[:300]
        raise HyperganError(f"{url} answered {err.code}: {detail}") from None
    except urllib.error.URLError as err:
        raise HyperganError(f"cannot reach {url} ({err.reason}); is TF Serving running there with --rest_api_port?") from None
