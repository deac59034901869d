#!/bin/sh
# meson install script: install SRC as DEST (an absolute path, under
# $DESTDIR) only when DEST does not exist, so that `meson install` never
# overwrites what an administrator configured.
set -eu
src=$1
dest=${DESTDIR:-}$2
if [ -e "$dest" ] || [ -L "$dest" ]; then
	echo "drift: keeping $dest (the shipped version is $3)"
	exit 0
fi
mkdir -p "$(dirname "$dest")"
# 0644 root: drift-nightly and the apt hook refuse a file others may write.
cp "$src" "$dest.tmp-$$"
chmod 0644 "$dest.tmp-$$"
mv "$dest.tmp-$$" "$dest"
echo "drift: installed $dest"
