"""Training objectives: classification over K networks, HyperGAN's adversarial term on the
codes, and the diversity terms (a registry: `DIVERSITY_TERMS`)."""
