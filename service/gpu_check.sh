#!/usr/bin/env bash
# GPU check for the model server (issue 7). Run from anywhere on a lent GPU machine; about 3-4 minutes.
#
#   OUT=/some/dir bash service/gpu_check.sh
#
# Assumes torch (CUDA build), numpy, onnxruntime, httpx, prometheus-client, pytest, pytest-timeout are
# installed and that fastapi / starlette / uvicorn / pydantic / pytest-asyncio (and their deps) are
# importable through PYTHONPATH (carried wheels). Downloads nothing. boto3/moto are not needed: the
# S3 tests are deselected (-m "not moto"). Everything it produces goes under "$OUT":
#   env.txt                 python/torch/CUDA versions, nvidia-smi
#   service-tests.log/.xml  the service test suite with torch models on cuda (MLSERVE_TEST_USE_GPU=cuda)
#   serve-cuda.json         benchmark results (schema mlfargate.serve-benchmark/1) -> benchmarks/results/
#   bench.log               benchmark console output
set -uo pipefail
: "${OUT:?set OUT to a writable folder}"
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
status=0

{
  date -u +%FT%TZ
  "$PY" - <<'PY'
import sys
import numpy, torch
print("python", sys.version.split()[0], "numpy", numpy.__version__, "torch", torch.__version__,
      "cuda", torch.version.cuda, "available", torch.cuda.is_available())
if torch.cuda.is_available():
    print("device", torch.cuda.get_device_name(0))
for mod in ("fastapi", "starlette", "uvicorn", "pydantic", "pytest_asyncio", "onnxruntime", "httpx", "prometheus_client"):
    try:
        m = __import__(mod)
        print(mod, getattr(m, "__version__", "?"))
    except ImportError as exc:
        print(mod, "MISSING", exc)
PY
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || true
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# Async in-process tests need pytest-asyncio; without it run the rest (GPU, process, device, lint).
select=(tests/service)
if ! "$PY" -c "import pytest_asyncio" 2>/dev/null; then
  echo "pytest-asyncio missing: running only the synchronous service tests" | tee -a "$OUT/env.txt"
  select=(tests/service/test_service_gpu.py tests/service/test_service_process.py
          tests/service/test_service_dockerfile.py)
fi

MLSERVE_TEST_USE_GPU=cuda timeout 150 "$PY" -m pytest "${select[@]}" -m "not moto" -p no:cacheprovider -q \
  -o asyncio_mode=auto --timeout 120 -rs --junitxml "$OUT/service-tests.xml" > "$OUT/service-tests.log" 2>&1
rc=$?
tail -n 25 "$OUT/service-tests.log"
[ $rc -eq 0 ] || status=$rc

timeout 140 "$PY" benchmarks/serve.py --device cuda --quick \
  --batch-sizes 1,8,32,64,128,256 --concurrency 1,16,64,256 \
  --out "$OUT/serve-cuda.json" > "$OUT/bench.log" 2>&1
rc=$?
cat "$OUT/bench.log"
[ $rc -eq 0 ] || status=$rc
echo "gpu_check exit $status"
exit $status
