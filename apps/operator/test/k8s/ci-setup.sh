#!/usr/bin/env bash
# CI prerequisite of the operator's integration tests: a real kube-apiserver + kube-controller-manager
# (v1.20.2) built from Debian's source package, etcd and openssl. Idempotent: returns at once when the
# binaries are cached in $K8S_BIN. Fails loudly (non-zero, with the reason) if anything is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
K8S_BIN=${K8S_BIN:-/var/cache/k8s-1.20.2/bin}
export K8S_BIN
if ! bash "$here/build-kube-apiserver.sh"; then
  echo "ci-setup: building kube-apiserver failed (see output above)" >&2
  exit 1
fi
for tool in "$K8S_BIN/kube-apiserver" "$K8S_BIN/kube-controller-manager"; do
  [ -x "$tool" ] || { echo "ci-setup: $tool missing after the build" >&2; exit 1; }
done
for tool in etcd openssl curl; do
  command -v "$tool" >/dev/null || { echo "ci-setup: $tool is not installed" >&2; exit 1; }
done
"$K8S_BIN/kube-apiserver" --version
echo "ci-setup: kube-apiserver ready in $K8S_BIN"
