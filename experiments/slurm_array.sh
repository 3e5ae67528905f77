#!/usr/bin/env bash
# A sweep as a SLURM job array: each array task runs one shard of the design on its own cores,
# into one shared results folder (shards are disjoint; a folder prepared by one is accepted by
# the others). Submit from the repository's folder, on a file system every node sees:
#
#   sbatch --array=1-50 experiments/slurm_array.sh experiments/request_rules.toml /scratch/$USER/request_rules
#
# Array task ids must run from 1 to N (SLURM_ARRAY_TASK_COUNT is N). A shard that failed or ran
# out of time: resubmit just those tasks (their finished runs are skipped, the rest are done):
#
#   sbatch --array=3,7 experiments/slurm_array.sh experiments/request_rules.toml /scratch/$USER/request_rules
#
# Then, once every task has ended: .venv/bin/python run.py report /scratch/$USER/request_rules
# A task's exit status: 0 all its runs ok, 1 some runs failed (recorded in the table), 2 bad input.
#SBATCH --job-name=ringsim-sweep
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=4G
#SBATCH --time=04:00:00
#SBATCH --output=slurm-%A_%a.out
set -euo pipefail
experiment=${1:?usage: sbatch --array=1-N experiments/slurm_array.sh EXPERIMENT.toml RESULTS_FOLDER}
out=${2:?usage: sbatch --array=1-N experiments/slurm_array.sh EXPERIMENT.toml RESULTS_FOLDER}
cd "${SLURM_SUBMIT_DIR:-.}"
exec "${PYTHON:-.venv/bin/python}" run.py sweep "$experiment" --quiet \
    --workers "${SLURM_CPUS_PER_TASK:-1}" \
    --shard "${SLURM_ARRAY_TASK_ID:?not a SLURM array task}/${SLURM_ARRAY_TASK_COUNT:?}" \
    --out "$out"
