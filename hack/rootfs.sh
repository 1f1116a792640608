# Images from Debian root file systems, shared by hack/images (base images) and
# hack/release-images (Lattice's own). Source it after lib.sh; do not run it.
#
# An image is a root file system made here (debootstrap, or a package's files), then `docker
# import`ed with a label holding the hash of its recipe: an image whose recipe did not change is
# neither rebuilt nor pushed again.

CACHE="$STATE/cache/images"
MIRROR="${LATTICE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$CACHE"

command -v debootstrap >/dev/null || apt_install debootstrap

# recipe_hash NAME [INPUT...]: a short hash of the recipe for NAME (the source of its function
# recipe_NAME and of debian_rootfs) and of any further INPUT strings (e.g. hashes of copied files).
recipe_hash() {
  { declare -f "recipe_$1" debian_rootfs; if (($# > 1)); then printf '%s\n' "${@:2}"; fi; } | sha256sum | cut -c1-12
}

# current REF HASH: the image REF exists locally with the recipe label HASH, and the registry
# serves that very image (its digest is among the local image's repo digests).
current() {
  local ref=$1 hash=$2 repo=${1%:*} tag=${1##*:}
  [[ "$(docker image inspect --format '{{index .Config.Labels "dev.lattice.recipe"}}' "$ref" 2>/dev/null)" == "$hash" ]] || return 1
  local digest
  digest=$(curl -fsI -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://${repo%%/*}/v2/${repo#*/}/manifests/$tag" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
  [[ -n "$digest" ]] && docker image inspect --format '{{join .RepoDigests " "}}' "$ref" | grep -qF "$repo@$digest"
}

# import ROOTFS REF HASH [--change ...]: docker import a root file system as REF, labelled.
# Entries in name order, so the same files make the same layer (the registry then has it already).
import() {
  local rootfs=$1 ref=$2 hash=$3; shift 3
  tar --numeric-owner --sort=name -C "$rootfs" -c . |
    docker import --change "LABEL dev.lattice.recipe=$hash" "$@" - "$ref" >/dev/null
}

# cached_deb PACKAGE: the path of PACKAGE's .deb (this machine's apt sources), downloaded once.
cached_deb() {
  local deb="$CACHE/$1.deb"
  [[ -f "$deb" ]] || (cd "$CACHE" && apt-get download "$1" >/dev/null 2>&1 && mv "$1"_*.deb "$deb") ||
    die "could not download the Debian package $1 (apt-get download $1)"
  echo "$deb"
}

# debian_rootfs DIR PACKAGES: a minbase bookworm root in DIR with PACKAGES, apt caches cleared.
debian_rootfs() {
  local dir=$1 packages=$2
  local base="$CACHE/debian-minbase.tar"
  if [[ ! -f "$base" ]]; then
    log "debootstrap bookworm minbase (once; cached in $base)"
    local tmp; tmp=$(mktemp -d "$CACHE/debootstrap.XXXX")
    debootstrap --variant=minbase bookworm "$tmp" "$MIRROR" >"$LOGS/debootstrap.log" 2>&1 \
      || die "debootstrap failed; see $LOGS/debootstrap.log"
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/lib/apt/lists/*
    tar --numeric-owner -C "$tmp" -cf "$base" .
    rm -rf "$tmp"
  fi
  rm -rf "$dir"; mkdir -p "$dir"
  tar --numeric-owner -C "$dir" -xf "$base"
  if [[ -n "$packages" ]]; then
    cp /etc/resolv.conf "$dir/etc/resolv.conf"
    echo "deb $MIRROR bookworm main" >"$dir/etc/apt/sources.list"
    # No daemon may start inside the chroot while packages install.
    printf '#!/bin/sh\nexit 101\n' >"$dir/usr/sbin/policy-rc.d"; chmod +x "$dir/usr/sbin/policy-rc.d"
    chroot "$dir" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages" \
      >>"$LOGS/images.log" 2>&1 || die "installing $packages in the image failed; see $LOGS/images.log"
    rm -f "$dir/usr/sbin/policy-rc.d"
  fi
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* "$dir"/usr/share/doc/* \
    "$dir"/usr/share/man/* "$dir"/usr/share/locale/*
  : >"$dir/etc/resolv.conf"
}
