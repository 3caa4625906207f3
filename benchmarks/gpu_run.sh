#!/usr/bin/env bash
# On the lent GPU machine (after gpu_prepare.sh here; carry [".gpu"]): install the carried wheels
# beside the image's packages, then run gpu_speed.py once; everything lands in $OUT (or /tmp/gpu-out).
#   bash benchmarks/gpu_run.sh [gpu_speed.py options, e.g. --parts compile --budget-s 300]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/gpu-out}
mkdir -p "$out"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv
wheels=(.gpu/whl/*.whl)
# the image's own pyarrow stays where it is new enough for datasets (one version of each, or pip stops)
if python3 -c "import sys, pyarrow; sys.exit(int(pyarrow.__version__.split('.')[0]) < 24)" 2>/dev/null; then
  wheels=($(printf '%s\n' "${wheels[@]}" | grep -v /pyarrow-))
fi
# a folder named site-packages: dill (datasets' fingerprints) pickles modules from anywhere else by
# value, and pyarrow's then fail ("Can't pickle <class 'MonthDayNano'>")
site=/tmp/gpu/site-packages
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "${wheels[@]}" || exit 1
export PYTHONPATH="$site:$PWD" ELECTRA_TASKS_SHARED_DATA="$PWD/.gpu/data" HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
python3 -c "import torch, transformers, datasets, pyarrow, seqeval, rouge_score, electra_tasks
print('torch', torch.__version__, '| transformers', transformers.__version__, '| datasets', datasets.__version__,
      '| pyarrow', pyarrow.__version__, '| cuda', torch.cuda.is_available())" || exit 1
python3 benchmarks/gpu_speed.py --out "$out" "$@" 2>&1 | tee "$out/log.txt"
