#!/usr/bin/env bash
# Prerequisites of the test suite that are not npm packages: the real kube-apiserver (built offline from
# Debian's kubernetes source package, cached after the first build) for the operator's integration tests.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f apps/operator/test/k8s/ci-setup.sh ]; then
  bash apps/operator/test/k8s/ci-setup.sh
else
  bash apps/operator/test/k8s/build-kube-apiserver.sh
fi
