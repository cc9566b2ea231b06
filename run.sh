#!/usr/bin/env bash
# The two commands of the README, each working from a fresh clone in a fresh shell:
#   bash run.sh        install hypergan-tf into .venv, then train and evaluate a HyperGAN on
#                      MNIST, or, when MNIST cannot be found, on scikit-learn's bundled digits
#                      set (it says which).
#   bash run.sh test   install hypergan-tf with its test tools into .venv, then run the tests.
# Data: $HYPERGAN_TF_DATA_DIR, else ../shared/datasets, else TensorFlow Datasets.
set -euo pipefail
cd "$(dirname "$0")"

mode="${1:-train}"
case "$mode" in
  train) extras="" ;;
  test) extras="[dev]" ;;
  *) echo "Error: unknown mode '$mode'; use 'bash run.sh' (train and evaluate) or 'bash run.sh test'" >&2; exit 2 ;;
esac

if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# setuptools warns about every editable install (a UserWarning of its build backend): noise here.
PYTHONWARNINGS=ignore::UserWarning python -m pip install --quiet -e ".${extras}"

if [ -z "${HYPERGAN_TF_DATA_DIR:-}" ] && [ -d ../shared/datasets ]; then
  export HYPERGAN_TF_DATA_DIR="$(cd ../shared/datasets && pwd)"
fi

if [ "$mode" = test ]; then
  export TF_CPP_MIN_LOG_LEVEL=2
  exec python -m pytest -q
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
echo "Next, in this shell or after '. .venv/bin/activate':"
echo "  hypergan-tf tensorboard $run_dir"
echo "  hypergan-tf ood $run_dir --out-dataset notmnist"
