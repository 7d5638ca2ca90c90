#!/usr/bin/env bash
# Runs one command against a fresh ../shared/kube control plane whose node-port range is
# 20000-32767 instead of kube-apiserver's default 30000-32767, then stops it:
#
#   bench/wide-node-ports.sh npm run bench scale
#
# Why: every LoadBalancer Service with instance targets takes a node port, and the
# default range admits 2768 of them; the scale bench's 5000 Services over 500 Nodes need
# more. Everything else is ../shared/kube/start.sh as it is (its environment too: STATE,
# KAS_PORT, ...). LBC_KUBE_DIR names another copy of ../shared/kube.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBE="$(cd "${LBC_KUBE_DIR:-$HERE/../../shared/kube}" && pwd)"
TMP="$(mktemp -d)"
grep -q -- '--service-node-port-range 30000-32767' "$KUBE/start.sh" || { echo "wide-node-ports.sh: $KUBE/start.sh no longer sets the range this script widens" >&2; exit 1; }
sed -e "s#^HERE=.*#HERE=\"$KUBE\"#" -e 's/--service-node-port-range 30000-32767/--service-node-port-range 20000-32767/' "$KUBE/start.sh" > "$TMP/start.sh"
eval "$(bash "$TMP/start.sh")" || exit 1
trap '"$KUBE/stop.sh"; rm -rf "$TMP"' EXIT
"$@"
