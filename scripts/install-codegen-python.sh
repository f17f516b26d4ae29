#!/usr/bin/env bash
# The Python the codegen tests check the generated client with: a venv in .cache/codegen-venv
# (ignored by git) holding the pinned mypy and centrifuge-python, reused while the pins match.
set -euo pipefail
PINS="mypy==2.4.1 centrifuge-python==0.7.0"
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/.cache/codegen-venv"
if [ -x "$venv/bin/python" ] && [ "$(cat "$venv/PINS" 2>/dev/null)" = "$PINS" ]; then
  echo "codegen venv ready at $venv"
  exit 0
fi
python="$(command -v python3 || true)"
if [ -z "$python" ]; then
  echo "python3 is not installed (the generated client needs Python 3.11 or later)" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "python3 is $("$python" --version 2>&1); the generated client needs 3.11 or later" >&2
  exit 1
fi
rm -rf "$venv"
"$python" -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/pip" install --quiet --disable-pip-version-check $PINS
echo "$PINS" > "$venv/PINS"
echo "codegen venv installed at $venv ($PINS)"
