"""hypergan-tf: hypernetworks in Keras 3 / TensorFlow.

The package along the data flow:
  targets/     the target-network interface (TargetSpec, layer kinds, presets, symmetry)
  samplers/    everything that produces weights: HyperGAN, baselines, static hypernetwork
  objectives/  classification, adversarial and diversity terms (a registry)
  data/        data-set registry, offline formats, TFDS, tf.data pipelines
  training/    the training loop, callbacks, backups, tf.distribute
  analysis/    evaluate, ood, attacks, diversity, report
  export/      SavedModel, LiteRT, .keras networks, TF Serving client
  runs/        the run directory: the files a run owns, reopening a run
  config.py    every training default (TrainConfig)
"""
