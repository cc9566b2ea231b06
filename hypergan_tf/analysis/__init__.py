"""Analysis of any weight sampler on a data set: evaluate (accuracy, calibration, diversity),
ood (out-of-distribution detection), attacks (FGSM/PGD), diversity metrics, the report
of several runs, and the metrics and uncertainty scores they share. Each function takes
a sampler and a Dataset; the CLI opens the run (runs/) and the data."""
