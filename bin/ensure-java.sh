#!/usr/bin/env bash
# Make sure a Java runtime (17+) is available for DynamoDB Local. Idempotent: does nothing when
# java already runs; otherwise installs Debian's headless JRE (needs root and apt).
set -euo pipefail
if command -v java >/dev/null 2>&1 && java -version >/dev/null 2>&1; then
  exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "ensure-java: installing openjdk-17-jre-headless ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
  java -version
  exit 0
fi
echo "ensure-java: Java 17+ is required for DynamoDB Local; install it (Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless)." >&2
exit 1
