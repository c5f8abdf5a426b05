#!/usr/bin/env bash
# Start the MLflow UI on the local SQLite store and JupyterLab with the demo notebook; stop both together.
set -euo pipefail
host=${1:-127.0.0.1}; port=${2:-8888}; mlflow_port=${3:-5000}
root=$(cd "$(dirname "$0")/.." && pwd)
export MLFLOW_TRACKING_URI=${MLFLOW_TRACKING_URI:-sqlite:///$root/mlflow.db}
mlflow ui --host "$host" --port "$mlflow_port" --backend-store-uri "$MLFLOW_TRACKING_URI" \
  >"$root/.mlflow-ui.log" 2>&1 &
ui=$!
trap 'kill $ui 2>/dev/null || true' EXIT
echo "MLflow UI: http://$host:$mlflow_port  (store: $MLFLOW_TRACKING_URI)"
cd "$root"
extra=()
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
jupyter lab --ip "$host" --port "$port" --no-browser "${extra[@]}" binder/demo.ipynb
