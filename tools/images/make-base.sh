#!/usr/bin/env bash
# Makes the Debian rootfs that stands in for debian:bookworm-slim when no registry can be reached:
#   make-base.sh <amd64|arm64> <output.tar>
# debootstrap (minbase) plus the tweaks the official slim images carry, as one tar of the root filesystem.
# The build script keys its cache on this file's contents: any change here makes a new base.
set -euo pipefail
arch=${1:?usage: make-base.sh <amd64|arm64> <output.tar>}
output=${2:?usage: make-base.sh <amd64|arm64> <output.tar>}
suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

rootfs=$(mktemp -d "${TMPDIR:-/var/tmp}/iev-rootfs.XXXXXX")
trap 'rm -rf "$rootfs"' EXIT

# minbase: essential and required packages (apt, passwd for useradd, base-passwd's video group, libstdc++6).
# A foreign architecture runs its second stage through qemu-user-static's binfmt handler.
debootstrap --variant=minbase --arch="$arch" "$suite" "$rootfs" "$mirror"

# The sources a container gets, security updates included (debootstrap writes only the suite itself).
rm -f "$rootfs/etc/apt/sources.list"
cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

# What debuerreotype puts in the official images: apt keeps no .debs or package caches in layers, installs
# no recommends of recommends or translations, and no service starts inside a build.
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
echo 'Acquire::Languages "none";' > "$rootfs/etc/apt/apt.conf.d/docker-no-languages"
echo 'Acquire::GzipIndexes "true";' > "$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
printf '#!/bin/sh\nexit 101\n' > "$rootfs/usr/sbin/policy-rc.d"
chmod 755 "$rootfs/usr/sbin/policy-rc.d"

# Slim, as bookworm-slim: no documentation or translations, now or from later apt-get installs.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
CONF
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{info,man,groff,linda,lintian,locale}/*

# Nothing of the build machine or of debootstrap's run stays in the image.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/debootstrap
: > "$rootfs/etc/machine-id"
: > "$rootfs/etc/resolv.conf"
echo localhost > "$rootfs/etc/hostname"

tar --numeric-owner --xattrs -C "$rootfs" -cf "$output.partial" .
mv "$output.partial" "$output"
