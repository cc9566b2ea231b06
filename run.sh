#!/usr/bin/env bash
# The main job: install hypergan-tf into .venv, then train and evaluate a HyperGAN on
# MNIST, or, when MNIST cannot be found, on scikit-learn's bundled digits set (it says
# which). Data: $HYPERGAN_TF_DATA_DIR, else ../shared/datasets, else TensorFlow Datasets.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -e .

if [ -z "${HYPERGAN_TF_DATA_DIR:-}" ] && [ -d ../shared/datasets ]; then
  export HYPERGAN_TF_DATA_DIR="$(cd ../shared/datasets && pwd)"
fi

if hypergan-tf datasets --check mnist; then
  dataset=mnist
  echo "MNIST found: training on MNIST."
else
  dataset=digits
  echo "MNIST not found (see above): training on the embedded digits set instead (1,437 train / 360 test images)."
fi

run_dir="runs/main-${dataset}-$(date +%Y%m%d-%H%M%S)"
hypergan-tf train --dataset "$dataset" --run-dir "$run_dir"
hypergan-tf evaluate "$run_dir"
echo "TensorBoard: tensorboard --logdir $run_dir/logs"
