#!/usr/bin/env bash
# Puts `welfare-posts` on the PATH: a symbolic link to the built binary in /usr/local/bin as
# root, else in ~/.local/bin (Debian's ~/.profile puts that on the PATH when it exists; if it
# is not on this shell's PATH yet, the line to add is printed). A later build replaces the
# binary the link points to, so the link stays current.
#   deploy/link-binary.sh [BINARY]   default: the release build of this checkout
# WELFARE_POSTS_BIN_DIR names another folder.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-$(swift build -c release --show-bin-path)/welfare-posts}
[[ -x $binary ]] || { echo "no binary at $binary: run 'swift build -c release' first" >&2; exit 1; }
binary=$(realpath "$binary")
if [[ -n ${WELFARE_POSTS_BIN_DIR:-} ]]; then dir=$WELFARE_POSTS_BIN_DIR
elif [[ $(id -u) == 0 ]]; then dir=/usr/local/bin
else dir=$HOME/.local/bin; fi
mkdir -p "$dir"
ln -sfn "$binary" "$dir/welfare-posts"
echo "welfare-posts -> $binary, linked in $dir" >&2
case ":$PATH:" in
  *":$dir:"*) ;;
  *) echo "$dir is not on your PATH: run  export PATH=\"$dir:\$PATH\"  (and add it to ~/.profile)" >&2 ;;
esac
