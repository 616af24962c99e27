#!/usr/bin/env bash
# Installs and starts the Debian packages the system tests need (tests/system/**), idempotently:
#   - victoria-metrics: a real time-series database serving InfluxDB's /api/v2/write line protocol
#     (the InfluxSink's system test starts its own instance on a free port; the packaged service is
#     not needed and is stopped if the package started one).
#   - mosquitto: an external MQTT broker on 127.0.0.1:1883 (external-broker mode tests).
#   - chromium (+ fonts-noto-cjk): headless browser for the console page tests, with Chinese fonts.
# Safe to run repeatedly: installs only what is missing, starts Mosquitto only when nothing listens.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v victoria-metrics >/dev/null 2>&1 || need+=(victoria-metrics)
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# Chinese UI text in console screenshots: without CJK fonts Chromium draws empty boxes.
fc-list 2>/dev/null | grep -qi 'Noto Sans CJK' || need+=(fonts-noto-cjk)

if [ "${#need[@]}" -gt 0 ]; then
  echo "install-system-deps: installing ${need[*]}"
  $SUDO apt-get update -qq
  # policy-rc.d-less containers may try to start the packaged services; that is harmless.
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The package may start its own victoria-metrics service on :8428; the tests start their own on a
# free port with a temp storage dir, so the packaged one is left alone if it is running.

port_open() {
  # bash's /dev/tcp: no extra packages needed to probe a port.
  (exec 3<>"/dev/tcp/127.0.0.1/$1") >/dev/null 2>&1
}

if ! port_open 1883; then
  echo "install-system-deps: starting mosquitto on 127.0.0.1:1883"
  $SUDO mkdir -p /run/mosquitto /var/log/mosquitto
  if id mosquitto >/dev/null 2>&1; then
    $SUDO chown mosquitto /run/mosquitto /var/log/mosquitto || true
  fi
  $SUDO mosquitto -d -c /etc/mosquitto/mosquitto.conf
  for _ in $(seq 1 50); do
    port_open 1883 && break
    sleep 0.1
  done
  port_open 1883 || { echo "install-system-deps: mosquitto did not start on :1883" >&2; exit 1; }
fi

echo "install-system-deps: victoria-metrics $(command -v victoria-metrics), mosquitto on :1883, chromium $(command -v chromium)"
