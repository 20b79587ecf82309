#!/usr/bin/env bash
# Fills VoiceSkin/Source/ThirdParty/voiceskin/ from this checkout so the
# plugin folder can be copied into a project's Plugins/ on its own:
#   include/voiceskin.h, adapter/voiceskin/*.hpp, lib/<Platform>/<library>.
# Usage: plugins/unreal/stage.sh [path/to/built/library]
#   default library: builds native/ with CMake into build/unreal-stage.
# Windows: pass the folder holding voiceskin.dll and voiceskin.lib instead.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TP="$HERE/VoiceSkin/Source/ThirdParty/voiceskin"

mkdir -p "$TP/include" "$TP/adapter/voiceskin"
cp "$ROOT/native/include/voiceskin.h" "$TP/include/"
cp "$ROOT"/plugins/common/include/voiceskin/*.hpp "$TP/adapter/voiceskin/"

LIB="${1:-}"
if [ -z "$LIB" ]; then
  cmake -S "$ROOT/native" -B "$ROOT/build/unreal-stage" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ROOT/build/unreal-stage" --config Release >/dev/null
  LIB="$ROOT/build/unreal-stage"
fi

case "$(uname -s)" in
  Linux)
    case "$(uname -m)" in aarch64|arm64) PLAT=LinuxArm64 ;; *) PLAT=Linux ;; esac
    SRC="$LIB"; [ -d "$LIB" ] && SRC="$(ls "$LIB"/libvoiceskin.so.0* 2>/dev/null | head -n1)"
    mkdir -p "$TP/lib/$PLAT"
    cp -L "$SRC" "$TP/lib/$PLAT/libvoiceskin.so.0" ;;
  Darwin)
    SRC="$LIB"; [ -d "$LIB" ] && SRC="$(ls "$LIB"/libvoiceskin*.dylib | head -n1)"
    mkdir -p "$TP/lib/Mac"
    cp -L "$SRC" "$TP/lib/Mac/libvoiceskin.0.dylib"
    install_name_tool -id @rpath/libvoiceskin.0.dylib "$TP/lib/Mac/libvoiceskin.0.dylib" ;;
  MINGW*|MSYS*|CYGWIN*)
    mkdir -p "$TP/lib/Win64"
    cp "$LIB"/voiceskin.dll "$LIB"/voiceskin.lib "$TP/lib/Win64/" ;;
  *) echo "stage.sh: unknown host $(uname -s)" >&2; exit 1 ;;
esac
echo "staged into $TP"
