"""Running the model: replications, experiments, sweeps, comparisons, reports, figures."""
