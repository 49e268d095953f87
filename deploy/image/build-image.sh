#!/usr/bin/env bash
# Builds the pagehop container image with no registry pulls: a context whose rootfs/ holds a
# jlink'd runtime (modules found by jdeps), the glibc files that runtime links against (found by
# ldd), the agents' jars and an unprivileged user, then `docker build` of deploy/image/Dockerfile
# (FROM scratch). Called by Maven (deploy/pom.xml, profile "image"); `./dev image` runs it.
set -euo pipefail
usage() {
  echo "usage: $0 --jdk DIR --lib DIR --jar FILE --context DIR --tag NAME:TAG --version V" >&2
  exit 2
}
jdk= lib= jar= context= tag= version=
while [ $# -gt 0 ]; do
  case "$1" in
    --jdk) jdk=$2 ;; --lib) lib=$2 ;; --jar) jar=$2 ;; --context) context=$2 ;;
    --tag) tag=$2 ;; --version) version=$2 ;; *) usage ;;
  esac
  shift 2
done
[ -n "$jdk" ] && [ -n "$lib" ] && [ -n "$jar" ] && [ -n "$context" ] && [ -n "$tag" ] && [ -n "$version" ] || usage
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$jdk/bin/jlink" ] || { echo "build-image: $jdk has no bin/jlink (need a full JDK 25)" >&2; exit 2; }
[ -f "$jar" ] || { echo "build-image: $jar is missing (run the package phase first)" >&2; exit 2; }
if ! docker info >/dev/null 2>&1; then
  echo "build-image: no Docker engine answers (docker info failed)." >&2
  echo "build-image: start one with .ci/setup-test-host.d/20-docker-engine, or use ./dev image, which does." >&2
  exit 1
fi

rootfs=$context/rootfs
rm -rf "$context"
mkdir -p "$rootfs/opt/pagehop/lib" "$rootfs/etc" "$rootfs/tmp"
cp "$lib"/*.jar "$jar" "$rootfs/opt/pagehop/lib/"

# Modules: what jdeps finds in the jars, plus what is only reached by reflection or service
# loading (the JDK HTTP server for /metrics, JNDI DNS for gRPC's name resolver, JFR/management
# for Micrometer's JVM metrics).
found=$("$jdk/bin/jdeps" --ignore-missing-deps -q --multi-release 25 --print-module-deps \
  --class-path "$rootfs/opt/pagehop/lib/*" "$rootfs"/opt/pagehop/lib/*.jar)
modules="$found,jdk.httpserver,jdk.naming.dns,jdk.management,jdk.unsupported,java.logging"
# jlink takes ~10 s on two cores; keep the runtime between builds while modules and JDK agree.
key=$(cat "$0" <(echo "$modules") <("$jdk/bin/java" -version 2>&1) | sha256sum | cut -c1-16)
cache=$(dirname "$context")/jlink-$key
if [ ! -x "$cache/bin/java" ]; then
  rm -rf "$(dirname "$context")"/jlink-*
  # java.desktop comes in for java.beans (Micrometer); its X11, sound and splash-screen
  # libraries are never loaded by a headless server, so they and their X11 dependencies stay out.
  "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
    --exclude-files='**/libawt_xawt.so,**/libjawt.so,**/libjsound.so,**/libsplashscreen.so' \
    --compress zip-6 --output "$cache"
fi
cp -a "$cache" "$rootfs/opt/java"

# glibc and friends: every library the runtime's ELF files resolve, copied to the same path.
{ find "$rootfs/opt/java" -type f \( -name '*.so' -o -path '*/bin/*' \) -print0 | xargs -0 ldd 2>/dev/null || true; } \
  | awk '/=> \// { print $3 } /^[[:space:]]*\/[^ ]*ld-linux/ { print $1 }' | sort -u \
  | while read -r so; do
      mkdir -p "$rootfs$(dirname "$so")"
      cp -L "$so" "$rootfs$so"
    done
[ -e "$rootfs/lib64/ld-linux-x86-64.so.2" ] || { echo "build-image: dynamic loader not found by ldd" >&2; exit 1; }

echo 'root:x:0:0:root:/:/sbin/nologin' > "$rootfs/etc/passwd"
echo 'pagehop:x:65532:65532:pagehop:/tmp:/sbin/nologin' >> "$rootfs/etc/passwd"
printf 'root:x:0:\npagehop:x:65532:\n' > "$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
cp "$here/logback.xml" "$rootfs/opt/pagehop/logback.xml"
cp "$here/Dockerfile" "$context/Dockerfile"

# The classic builder needs no buildx plugin and no network; it is what every Docker here has.
DOCKER_BUILDKIT=0 docker build -q --build-arg "PAGEHOP_VERSION=$version" -t "$tag" "$context" >/dev/null 2>"$context/build.log" \
  || { cat "$context/build.log" >&2; exit 1; }
echo "build-image: built $tag ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
