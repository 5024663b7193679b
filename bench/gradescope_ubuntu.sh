#!/usr/bin/env bash
# A Gradescope bundle's setup.sh and run_autograder in a clean Ubuntu root (22.04 by default; SUITE=noble for
# 24.04), as Gradescope builds and runs its image; takes minutes (debootstrap, then the pinned requirements), so
# it is no CI test. Run from the repository, as root, with debootstrap and chroot:
#   bash bench/gradescope_ubuntu.sh [ROOTFS]        (REUSE=1 grades again with the image built before)
#
# Where this machine cannot reach what Gradescope's can, the script says so and stands in:
# - python-build-standalone (GitHub) for `uv python install`: the uv step is checked as far as it goes offline
#   (uv installs from PyPI with the distribution's Python and knows the pinned CPython); then, on 22.04,
#   jammy-updates' python3.11 (a 3.11.0 release candidate) is passed as AUTOGRADER_BASE_PYTHON. 24.04 has no
#   Python 3.11 to stand in (and the CPU torch wheel here is for 3.11 only): there the script stops after the
#   uv step;
# - PyTorch's CPU index: pip's find-links holds the same CPU wheel (torch-2.13.0+cpu), if this machine has one.
# Then run_autograder grades the solution, the stub and the cheat twice: as the jammy root is (Landlock), and in
# the simulated Gradescope container of tests/test_gradescope_container.py (no Landlock, Docker's capabilities),
# where the autograder-sandbox account that setup.sh created is what confines the graded code.
set -euo pipefail
ID=rnn_step_by_step
SUITE="${SUITE:-jammy}"
ROOTFS="${1:-/tmp/$SUITE-root}"
REPO="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
MIRROR=http://archive.ubuntu.com/ubuntu

if [ ! -x "$ROOTFS/usr/bin/apt-get" ]; then
  keyring=/usr/share/keyrings/ubuntu-archive-keyring.gpg
  if [ ! -e "$keyring" ]; then  # Debian does not package Ubuntu's keyring: take it from Ubuntu's archive
    work="$(mktemp -d)"
    curl -fsS -o "$work/keyring.deb" "$MIRROR/pool/main/u/ubuntu-keyring/ubuntu-keyring_2021.03.26_all.deb"
    dpkg-deb -x "$work/keyring.deb" "$work/x"
    keyring="$work/x/usr/share/keyrings/ubuntu-archive-keyring.gpg"
  fi
  script=/usr/share/debootstrap/scripts/$SUITE
  if [ ! -e "$script" ]; then script=/usr/share/debootstrap/scripts/gutsy; fi  # every Ubuntu suite uses gutsy's
  debootstrap --variant=minbase --keyring="$keyring" "$SUITE" "$ROOTFS" "$MIRROR" "$script"
fi
echo "deb $MIRROR $SUITE main universe
deb $MIRROR $SUITE-updates main universe
deb $MIRROR $SUITE-security main universe" > "$ROOTFS/etc/apt/sources.list"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"

mounted=()
mount_in() {  # mount_in SOURCE TARGET [OPTIONS...]: bind SOURCE at ROOTFS/TARGET until the script ends
  mkdir -p "$ROOTFS$2"
  mount --bind "$1" "$ROOTFS$2"
  mounted=("$ROOTFS$2" "${mounted[@]}")
}
cleanup() { for m in "${mounted[@]}"; do umount -l "$m" || true; done; }
trap cleanup EXIT
mount_in /proc /proc
mount_in /sys /sys
mount_in /dev /dev
for local_index in /opt/wheels /opt/pypi /opt/pypi-more; do  # this machine's copies of registry files, if any
  if [ -d "$local_index" ]; then mount_in "$local_index" "$local_index"; fi
done
# This machine's certificate authorities (a proxy's, on some machines) for pip and uv in the root.
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/host-ca.pem"
cat > "$ROOTFS/etc/pip.conf" <<EOF
[global]
cert = /etc/host-ca.pem
extra-index-url = https://pypi.org/simple $( [ -d /opt/pypi ] && echo "file:///opt/pypi/simple file:///opt/pypi-more/simple")
find-links = /opt/wheels
retries = 0
timeout = 20
EOF

in_root() { chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 SSL_CERT_FILE=/etc/host-ca.pem "$@"; }

if [ -n "${REUSE:-}" ] && [ -x "$ROOTFS/autograder/venv/bin/python" ]; then  # grade again with the image built before
  echo "== reusing the image built in $ROOTFS"
else
# The bundle, unpacked where Gradescope puts it (its unzip keeps the scripts' modes).
rm -rf "$ROOTFS/autograder" "$ROOTFS/opt/autograder"
mkdir -p "$ROOTFS/autograder/source"
"$PYTHON" -m autograder gradescope "$ID" -o "$ROOTFS/autograder/bundle.zip"
"$PYTHON" -c 'import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1]) as zf:
    for info in zf.infolist():
        zf.extract(info, sys.argv[2])
        os.chmod(os.path.join(sys.argv[2], info.filename), (info.external_attr >> 16) or 0o644)' \
  "$ROOTFS/autograder/bundle.zip" "$ROOTFS/autograder/source"
cp "$ROOTFS/autograder/source/run_autograder" "$ROOTFS/autograder/run_autograder"

echo "== the uv step, as far as it goes without GitHub"
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends python3 python3-venv ca-certificates > /dev/null
echo "$SUITE's own python3: $(in_root python3 --version)"
uv_version="$(grep -oE '^UV_VERSION=[^ ]+' "$ROOTFS/autograder/source/setup.sh" | cut -d= -f2)"
python_version="$(grep -oE '^PYTHON_VERSION=[^ ]+' "$ROOTFS/autograder/source/setup.sh" | cut -d= -f2)"
in_root python3 -m venv /tmp/uv-check
in_root /tmp/uv-check/bin/pip install -q "uv==$uv_version"
in_root /tmp/uv-check/bin/uv python list --only-downloads --all-versions "$python_version" | grep -q "cpython-$python_version-linux" \
  && echo "uv $uv_version offers CPython $python_version for this machine"
if in_root UV_HTTP_TIMEOUT=15 /tmp/uv-check/bin/uv python install --no-bin "$python_version" > /dev/null 2>&1; then
  echo "uv downloaded CPython $python_version"; base=""
elif [ "$SUITE" = jammy ]; then
  echo "uv could not download CPython $python_version here (no GitHub): jammy-updates' python3.11 stands in"
  in_root apt-get install -y -qq --no-install-recommends python3.11 python3.11-venv > /dev/null
  base=/usr/bin/python3.11
else
  echo "uv could not download CPython $python_version here (no GitHub), and $SUITE has no Python 3.11: stopping"
  exit 0
fi

echo "== setup.sh"
time in_root AUTOGRADER_BASE_PYTHON="$base" bash /autograder/source/setup.sh
fi

echo "== run_autograder on the solution, the stub and a cheat"
cheat="$("$PYTHON" -c 'import json, sys
from autograder.gradescope import CHEAT
from autograder.runtime import solution_path
nb = json.loads(solution_path(sys.argv[1]).read_text())
cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "rnn_cell_forward")
cell["source"] = CHEAT.format(name="rnn_cell_forward", id=sys.argv[1])
print(json.dumps(nb))' "$ID")"
grade() {  # grade LABEL NOTEBOOK_FILE [CONTAINER...]: one submission, as Gradescope runs it
  local label="$1" notebook="$2"; shift 2
  rm -rf "$ROOTFS/autograder/submission" "$ROOTFS/autograder/results"
  mkdir -p "$ROOTFS/autograder/submission"
  cp "$notebook" "$ROOTFS/autograder/submission/$ID.ipynb"
  (cd "$REPO" && "$@" chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
     /bin/sh -c 'cd /autograder && ./run_autograder') | sed "s/^/  /"
  "$PYTHON" -c 'import json, sys
r = json.load(open(sys.argv[1]))
print("  %s: %g/%g;" % (sys.argv[2], r["score"], r["max_score"]),
      ", ".join("%s %g" % (t["name"], t["score"]) for t in r["tests"]))' "$ROOTFS/autograder/results/results.json" "$label"
}
echo "$cheat" > /tmp/gradescope-ubuntu-cheat.ipynb
container=(unshare --mount --propagation private "$PYTHON" -m tests.test_gradescope_container)
for where in "$SUITE" container; do
  echo "-- $where"
  prefix=(); if [ "$where" = container ]; then prefix=("${container[@]}"); fi
  grade solution "$REPO/solutions/$ID/$ID.ipynb" "${prefix[@]}"
  grade stub "$REPO/assignments/$ID/$ID.ipynb" "${prefix[@]}"
  grade cheat /tmp/gradescope-ubuntu-cheat.ipynb "${prefix[@]}"
done
echo "-- setup.sh's self-test again, in the container"
(cd "$REPO" && "${container[@]}" chroot "$ROOTFS" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
   /bin/sh -c "cd /autograder/source && /autograder/venv/bin/python -m autograder.gradescope selftest $ID") \
  | sed "s/^/  /"
