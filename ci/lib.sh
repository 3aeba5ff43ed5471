# Shared shell helpers of bin/klp-catalog and ci/test: installing system packages.
# Sourced, not executed.

# Runs a command as root: directly when we are root, through sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "klp-catalog: need root to run: $*" >&2
    echo "klp-catalog: install sudo or run this as root" >&2
    return 1
  fi
}

# The package manager family of this machine: debian, fedora or unknown.
package_family() {
  if command -v apt-get >/dev/null 2>&1; then
    echo debian
  elif command -v dnf >/dev/null 2>&1 && [ -f /etc/redhat-release ]; then
    echo fedora
  else
    echo unknown
  fi
}

# install_packages "debian-pkgs..." "fedora-pkgs..." : installs what is missing.
_apt_updated=""
install_packages() {
  local deb="$1" rpm="$2" family
  family="$(package_family)"
  case "$family" in
    debian)
      local missing=()
      for p in $deb; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
      done
      [ ${#missing[@]} -eq 0 ] && return 0
      echo "klp-catalog: installing ${missing[*]}" >&2
      if [ -z "$_apt_updated" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
        _apt_updated=1
      fi
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
      ;;
    fedora)
      local missing=()
      for p in $rpm; do
        rpm -q "$p" >/dev/null 2>&1 || missing+=("$p")
      done
      [ ${#missing[@]} -eq 0 ] && return 0
      echo "klp-catalog: installing ${missing[*]}" >&2
      as_root dnf install -y -q "${missing[@]}" >&2
      ;;
    *)
      echo "klp-catalog: cannot install '$deb' here (no apt-get or dnf); install them by hand" >&2
      return 1
      ;;
  esac
}

# Java 17 or newer and Maven, needed to build and run klp-catalog.
ensure_java_and_maven() {
  local ok=1
  if command -v java >/dev/null 2>&1; then
    local v
    v="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | sed -n 1p)"
    [ -n "$v" ] && [ "$v" -ge 17 ] 2>/dev/null || ok=0
  else
    ok=0
  fi
  command -v mvn >/dev/null 2>&1 || ok=0
  if [ "$ok" -eq 0 ]; then
    install_packages "openjdk-17-jdk-headless maven" "java-17-openjdk-devel maven"
  fi
}

# The tool registry: every external program klp-catalog runs, with its packages and the commands
# that need it (the same table the Java code checks itself against, and `klp-catalog check` reads).
tool_registry() {
  echo "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/controller/src/main/resources/org/klpcatalog/exec/tools.tsv"
}

# install_for COMMAND: installs the packages of every registry row the command needs (optional rows
# excepted), for this machine's family.
install_for() {
  local cmd="$1" deb=() rpm=() name kind debpk fedpk commands purpose p
  while IFS=$'\t' read -r name kind debpk fedpk commands purpose; do
    case "$name" in '' | '#'*) continue ;; esac
    [ "$kind" = optional ] && continue
    case ",$commands," in *",$cmd,"*) ;; *) continue ;; esac
    if [ "$debpk" != - ]; then
      for p in $debpk; do case " ${deb[*]} " in *" $p "*) ;; *) deb+=("$p") ;; esac; done
    fi
    if [ "$fedpk" != - ]; then
      for p in $fedpk; do case " ${rpm[*]} " in *" $p "*) ;; *) rpm+=("$p") ;; esac; done
    fi
  done < "$(tool_registry)"
  install_packages "${deb[*]}" "${rpm[*]}"
}
