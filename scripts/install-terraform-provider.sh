#!/bin/sh
# install-terraform-provider.sh — installs terraform-provider-agyn into a Terraform filesystem
# mirror (the "unpacked" layout), so that `terraform init` finds it offline and records it in
# .terraform.lock.hcl, with no dev_overrides.
#   scripts/install-terraform-provider.sh PROVIDER_BINARY [MIRROR_DIR]
# MIRROR_DIR defaults to ~/.terraform.d/plugins, a directory Terraform searches by itself.
set -eu
binary=${1:?usage: install-terraform-provider.sh PROVIDER_BINARY [MIRROR_DIR]}
mirror=${2:-${HOME}/.terraform.d/plugins}
version=$("$binary" --version | awk '{print $2}')
case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "install-terraform-provider: cannot read the version of $binary" >&2; exit 1 ;;
esac
os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in
  x86_64 | amd64) arch=amd64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) arch=$(uname -m) ;;
esac
dir="$mirror/registry.terraform.io/agynio/agyn/$version/${os}_$arch"
mkdir -p "$dir"
rm -f "$dir"/terraform-provider-agyn*
cp "$binary" "$dir/terraform-provider-agyn_v$version"
chmod 0755 "$dir/terraform-provider-agyn_v$version"
echo "installed agynio/agyn $version (${os}_$arch) into $mirror"
