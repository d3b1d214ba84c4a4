# Sourced by bench/peers/*.sh: each makes a venv of its own with the reference packages
# pinned in scripts/golden/requirements.txt, and says why when it cannot.
#
#   py=$(peer_python VENV PACKAGE...) || exit 1
#
# prints the python of VENV (relative paths are taken from the current directory, the
# repository root), after making VENV when it does not exist and installing the pins of the
# PACKAGEs when VENV/.pinned does not list exactly them (a venv made for fewer packages gets
# the missing ones; pip keeps what is already there).
peer_python() {
  local venv=$1 package line
  shift
  local pins=()
  for package in "$@"; do
    line=$(grep -E "^${package}==" scripts/golden/requirements.txt) ||
      { echo "peer_python: scripts/golden/requirements.txt pins no version of $package" >&2; return 1; }
    pins+=("$line")
  done
  [[ $venv == /* ]] || venv=$PWD/$venv
  if [[ ! -x $venv/bin/python ]]; then
    echo "making $venv (torch brings its CUDA libraries from PyPI: a few GB) ..." >&2
    python3 -m venv "$venv" >&2 || { echo "peer_python: python3 -m venv failed (Debian: apt-get install python3-venv)" >&2; return 1; }
    "$venv/bin/pip" install -q --upgrade pip >&2 || { echo "peer_python: pip could not upgrade itself in $venv" >&2; return 1; }
  fi
  if [[ "$(cat "$venv/.pinned" 2>/dev/null)" != "${pins[*]}" ]]; then
    echo "installing ${pins[*]} into $venv ..." >&2
    "$venv/bin/pip" install -q "${pins[@]}" >&2 || { echo "peer_python: pip could not install ${pins[*]} into $venv" >&2; return 1; }
    echo "${pins[*]}" >"$venv/.pinned"
  fi
  echo "$venv/bin/python"
}
