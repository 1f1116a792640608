#!/usr/bin/env bash
# psql.sh SQL — runs SQL with psql inside the server's pod (db-0), as the owner the connection
# Secret names, and prints the rows (unaligned, tuples only).
set -euo pipefail
field() { kubectl get secret db-connection -n "$NAMESPACE" -o "jsonpath={.data.$1}" | base64 -d; }
kubectl exec -n "$NAMESPACE" db-0 -- env PGPASSWORD="$(field password)" \
  psql -h 127.0.0.1 -p "$(field port)" -U "$(field username)" -d "$(field dbname)" -v ON_ERROR_STOP=1 -qAtc "$1"
