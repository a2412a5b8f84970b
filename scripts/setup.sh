#!/usr/bin/env bash
# Install everything reportgen needs on a fresh Debian/Ubuntu machine, idempotently.
#   scripts/setup.sh          system libraries for WeasyPrint + fonts, then the package in .venv
#   scripts/setup.sh --test   also LibreOffice Impress and Calc (deck and workbook tests), PostgreSQL server binaries and
#                             Java 17 (the engine tests start a throwaway PostgreSQL on 127.0.0.1 and
#                             Spark in local mode), Chromium (the email is laid out and measured at
#                             phone width), and the test extras (psycopg, SQLAlchemy, pyspark)
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
[[ "${1:-}" == "--test" ]] && want_test=1

packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-inter fonts-noto-core fonts-noto-color-emoji fonts-dejavu-core)
if (( want_test )); then
  packages+=(libreoffice-impress libreoffice-calc poppler-utils postgresql openjdk-17-jre-headless chromium)
fi

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if (( ${#missing[@]} )); then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
extras=""
(( want_test )) && extras="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extras}"
