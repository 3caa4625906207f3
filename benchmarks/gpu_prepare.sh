#!/usr/bin/env bash
# Pack what a lent GPU machine lacks into .gpu/ (ignored by git), to carry with the device call:
#   .gpu/whl   wheels for its Python: datasets (+ dill, multiprocess, pyarrow), seqeval, rouge-score
#              (+ nltk, defusedxml), pysbd; the versions installed here, so both machines run the same code
#   .gpu/data  what the benchmark reads of ../shared/data: SST-2 (train, dev) and the BERT vocabulary
# Then, on the device: carry [".gpu"], command "bash benchmarks/gpu_run.sh" (see benchmarks/README.md §8).
#   GPU_PYTHON=3.12 (the image's; KINDS.md)   ELECTRA_TASKS_SHARED_DATA=../shared/data
set -euo pipefail
cd "$(dirname "$0")/.."
py=${GPU_PYTHON:-3.12}
shared=${ELECTRA_TASKS_SHARED_DATA:-../shared/data}
version() { python -c "import importlib.metadata as m; print(m.version('$1'))"; }

rm -rf .gpu && mkdir -p .gpu/whl .gpu/data/glue/SST-2 .gpu/data/vocab
platforms=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 manylinux2014_x86_64 any; do
  platforms+=(--platform "$p")
done
python -m pip download -q --no-deps --only-binary=:all: --python-version "$py" --implementation cp "${platforms[@]}" \
  -d .gpu/whl "datasets==$(version datasets)" "dill==$(version dill)" "multiprocess==$(version multiprocess)" \
  "pyarrow==$(version pyarrow)" "nltk==$(version nltk)" "defusedxml==$(version defusedxml)" "pysbd==$(version pysbd)"
# published as source only; both are pure Python, so a wheel built here installs there
python -m pip wheel -q --no-deps -w .gpu/whl "seqeval==$(version seqeval)" "rouge-score==$(version rouge-score)"

cp "$shared/glue/SST-2/train.tsv" "$shared/glue/SST-2/dev.tsv" .gpu/data/glue/SST-2/
cp "$shared/vocab/bert-base-uncased-vocab.txt" .gpu/data/vocab/

ls .gpu/whl
tree_bytes=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
gpu_bytes=$(du -sb .gpu | cut -f1)
echo "travels: $(( (tree_bytes + gpu_bytes) / 1048576 )) MiB of the device call's 64 MiB (.gpu: $(( gpu_bytes / 1048576 )) MiB)"
