#!/usr/bin/env bash
# Builds the pc-machine guest images into images/:
#   bzImage            32-bit Linux 6.1 (Debian's linux-source-6.1, tinyconfig + kernel.config)
#   initramfs.cpio.gz  Debian's static i386 busybox, rootfs/ files and the programs/ guest programs
#   manifest.json      names, sizes and sha256 of the built files, kernel and busybox versions
#
# Run as root on Debian 12:   sudo bash images/build.sh
# Options:
#   --incremental   reuse images/build/ (the unpacked kernel tree and its objects) instead of
#                   starting from scratch
#   kernel | initramfs | manifest   build only the named stages (default: all three)
set -euo pipefail

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD_DIR="$IMAGES_DIR/build"
KERNEL_TARBALL=/usr/src/linux-source-6.1.tar.xz
KERNEL_DIR="$BUILD_DIR/linux"
KERNEL_LOG="$BUILD_DIR/kernel-build.log"
ROOTFS_DIR="$IMAGES_DIR/rootfs"
PROGRAMS_DIR="$IMAGES_DIR/programs"
JOBS="${JOBS:-2}"
GUEST_CFLAGS=(-m32 -static -O2 -march=i686 -mno-sse -mfpmath=387 -Wall -Wextra)

incremental=0
stages=()
for arg in "$@"; do
  case "$arg" in
    --incremental) incremental=1 ;;
    kernel|initramfs|manifest) stages+=("$arg") ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done
[ ${#stages[@]} -eq 0 ] && stages=(kernel initramfs manifest)
want() { local s; for s in "${stages[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash images/build.sh): it installs build packages with apt-get"

started_at=$(date +%s)

# ---------------------------------------------------------------------------------------------
# Build dependencies
# ---------------------------------------------------------------------------------------------
apt_update() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if apt-get update -qq; then return 0; fi
    echo "apt-get update failed (attempt $attempt), retrying in $((attempt * 5)) s" >&2
    sleep $((attempt * 5))
  done
  die "apt-get update kept failing"
}

BUILD_PACKAGES=(make gcc gcc-multilib libc6-dev-i386 bc bison flex libelf-dev libssl-dev cpio lz4 xz-utils
                gzip python3 linux-source-6.1)
log "Checking build dependencies"
missing_packages=()
for pkg in "${BUILD_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_packages+=("$pkg")
done
lists_updated=0
if ! dpkg --print-foreign-architectures | grep -qx i386; then
  dpkg --add-architecture i386
  apt_update; lists_updated=1
fi
if [ ${#missing_packages[@]} -gt 0 ]; then
  echo "installing: ${missing_packages[*]}"
  [ $lists_updated -eq 1 ] || { apt_update; lists_updated=1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing_packages[@]}"
fi
if ! apt-cache show busybox-static:i386 >/dev/null 2>&1; then
  [ $lists_updated -eq 1 ] || { apt_update; lists_updated=1; }
fi

# Reproducible builds: the kernel's version string (uname -v) and the initramfs file times use a
# fixed date, SOURCE_DATE_EPOCH or else the date of the kernel source package, so rebuilding from
# the same inputs gives the same files.
BUILD_EPOCH="${SOURCE_DATE_EPOCH:-$(stat -c %Y "$KERNEL_TARBALL")}"
export KBUILD_BUILD_USER=pc-machine KBUILD_BUILD_HOST=pc-machine KBUILD_BUILD_VERSION=1
KBUILD_BUILD_TIMESTAMP="$(LC_ALL=C date -u -d "@$BUILD_EPOCH")"
export KBUILD_BUILD_TIMESTAMP

# A fresh build starts from an empty tree; the manifest stage alone reads the tree and keeps it.
if [ $incremental -eq 0 ] && { want kernel || want initramfs; }; then
  rm -rf "$BUILD_DIR"
fi
mkdir -p "$BUILD_DIR"

# ---------------------------------------------------------------------------------------------
# Kernel
# ---------------------------------------------------------------------------------------------
kmake() { make -C "$KERNEL_DIR" ARCH=i386 "$@"; }

verify_kernel_config() {
  local line sym failures=0
  while IFS= read -r line; do
    case "$line" in
      CONFIG_*=*)
        if ! grep -qxF "$line" "$KERNEL_DIR/.config"; then
          sym=${line%%=*}
          echo "  $line  -> got: $(grep -E "^(# )?$sym[= ]" "$KERNEL_DIR/.config" || echo 'absent')" >&2
          failures=$((failures + 1))
        fi ;;
      "# CONFIG_"*" is not set")
        sym=${line#\# }; sym=${sym%% *}
        if grep -q "^$sym=" "$KERNEL_DIR/.config"; then
          echo "  $line  -> got: $(grep "^$sym=" "$KERNEL_DIR/.config")" >&2
          failures=$((failures + 1))
        fi ;;
    esac
  done < "$IMAGES_DIR/kernel.config"
  [ $failures -eq 0 ] || die "$failures kernel.config line(s) did not survive olddefconfig (see above)"
}

if want kernel; then
  if [ ! -f "$KERNEL_DIR/Makefile" ]; then
    log "Unpacking $KERNEL_TARBALL"
    [ -f "$KERNEL_TARBALL" ] || die "$KERNEL_TARBALL not found (apt-get install linux-source-6.1)"
    rm -rf "$KERNEL_DIR" "$BUILD_DIR/linux-source-6.1"
    tar -xf "$KERNEL_TARBALL" -C "$BUILD_DIR"
    mv "$BUILD_DIR/linux-source-6.1" "$KERNEL_DIR"
  fi

  log "Configuring the kernel (tinyconfig + kernel.config)"
  : > "$KERNEL_LOG"
  kmake tinyconfig >> "$KERNEL_LOG" 2>&1
  "$KERNEL_DIR/scripts/kconfig/merge_config.sh" -m -O "$KERNEL_DIR" \
    "$KERNEL_DIR/.config" "$IMAGES_DIR/kernel.config" >> "$KERNEL_LOG" 2>&1
  kmake olddefconfig >> "$KERNEL_LOG" 2>&1
  verify_kernel_config
  echo "all $(grep -cE '^(CONFIG_|# CONFIG_)' "$IMAGES_DIR/kernel.config") kernel.config lines are in .config"

  log "Building bzImage (make -j$JOBS, log: ${KERNEL_LOG#"$IMAGES_DIR/"})"
  kernel_started=$(date +%s)
  if ! kmake -j"$JOBS" bzImage >> "$KERNEL_LOG" 2>&1; then
    tail -n 40 "$KERNEL_LOG" >&2
    die "kernel build failed (full log: $KERNEL_LOG)"
  fi
  cp "$KERNEL_DIR/arch/x86/boot/bzImage" "$IMAGES_DIR/bzImage"
  echo "bzImage: $(stat -c %s "$IMAGES_DIR/bzImage") bytes, kernel $(kmake -s kernelrelease)," \
       "built in $(( $(date +%s) - kernel_started )) s"
fi

# ---------------------------------------------------------------------------------------------
# Initramfs
# ---------------------------------------------------------------------------------------------
if want initramfs; then
  # The kernel's gen_init_cpio writes device nodes and root-owned files from a list file.
  GEN_INIT_CPIO="$KERNEL_DIR/usr/gen_init_cpio"
  if [ ! -x "$GEN_INIT_CPIO" ]; then
    [ -f "$KERNEL_DIR/usr/gen_init_cpio.c" ] || die "no kernel tree in $KERNEL_DIR: build the kernel stage first"
    log "Building usr/gen_init_cpio"
    kmake usr/gen_init_cpio >> "$KERNEL_LOG" 2>&1 || gcc -O2 -o "$GEN_INIT_CPIO" "$KERNEL_DIR/usr/gen_init_cpio.c"
  fi

  log "Fetching busybox-static:i386"
  BUSYBOX_DEB_DIR="$BUILD_DIR/busybox-deb"
  rm -rf "$BUSYBOX_DEB_DIR"; mkdir -p "$BUSYBOX_DEB_DIR"
  (cd "$BUSYBOX_DEB_DIR" && apt-get download -qq busybox-static:i386 2>&1 | grep -v unsandboxed || true)
  deb=$(ls "$BUSYBOX_DEB_DIR"/busybox-static_*_i386.deb 2>/dev/null | head -n1)
  [ -n "$deb" ] || die "apt-get download busybox-static:i386 produced no .deb"
  dpkg -x "$deb" "$BUSYBOX_DEB_DIR/root"
  BUSYBOX="$BUSYBOX_DEB_DIR/root/bin/busybox"
  [ -x "$BUSYBOX" ] || die "no bin/busybox in $deb"
  file_type=$(od -An -tx1 -j4 -N2 "$BUSYBOX" | tr -d ' ')
  [ "$file_type" = "0101" ] || die "$BUSYBOX is not a 32-bit little-endian ELF"
  # i386 binaries run directly on an x86-64 kernel with IA-32 emulation; where the host cannot
  # execute them (no IA-32 emulation), they run under qemu-i386 user-mode emulation.
  if "$BUSYBOX" true 2>/dev/null; then
    run_i386() { "$@"; }
  else
    echo "this host cannot execute i386 binaries: running them with qemu-i386"
    if ! command -v qemu-i386 >/dev/null; then
      [ $lists_updated -eq 1 ] || { apt_update; lists_updated=1; }
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user
    fi
    run_i386() { qemu-i386 "$@"; }
  fi
  busybox_help=$(run_i386 "$BUSYBOX" --help 2>&1 || true)   # --help exits with status 1
  BUSYBOX_VERSION=$(head -n1 <<< "$busybox_help")
  [[ "$BUSYBOX_VERSION" == BusyBox* ]] || die "cannot run $BUSYBOX: $BUSYBOX_VERSION"
  echo "$BUSYBOX_VERSION"
  echo "$BUSYBOX_VERSION" > "$BUILD_DIR/busybox-version"
  busybox_applets=$(run_i386 "$BUSYBOX" --list-full)
  for applet in sh cttyhack init mount hostname poweroff reboot; do
    grep -qE "(^|/)$applet\$" <<< "$busybox_applets" || die "busybox lacks the '$applet' applet"
  done

  log "Compiling the guest programs (gcc ${GUEST_CFLAGS[*]})"
  PROGRAMS_OUT="$BUILD_DIR/programs"
  rm -rf "$PROGRAMS_OUT"; mkdir -p "$PROGRAMS_OUT"
  for src in "$PROGRAMS_DIR"/*.c; do
    name=$(basename "$src" .c)
    gcc "${GUEST_CFLAGS[@]}" -o "$PROGRAMS_OUT/$name" "$src" -lm
    echo "  $name: $(stat -c %s "$PROGRAMS_OUT/$name") bytes"
  done
  # The guest programs are plain i386 Linux binaries: they run on the x86-64 host too.
  log "Running the guest programs on the host"
  run_i386 "$PROGRAMS_OUT/pcm-info"
  run_i386 "$PROGRAMS_OUT/pcm-fbdemo" --headless 5
  run_i386 "$PROGRAMS_OUT/pcm-fpbench" 1
  set +e; (run_i386 "$PROGRAMS_OUT/pcm-segv" 2>/dev/null); segv_status=$?; set -e
  [ $segv_status -eq $((128 + 11)) ] || die "pcm-segv exited with $segv_status, expected SIGSEGV (139)"
  echo "pcm-segv: killed by SIGSEGV as intended"

  log "Writing the initramfs file list"
  # gen_init_cpio records a regular file's own mtime: stage the files with the build date.
  STAGE="$BUILD_DIR/initramfs-files"
  rm -rf "$STAGE"; mkdir -p "$STAGE/etc" "$STAGE/usr/bin" "$STAGE/bin"
  cp "$BUSYBOX" "$STAGE/bin/busybox"
  cp "$ROOTFS_DIR/init" "$STAGE/init"
  cp "$ROOTFS_DIR"/etc/* "$STAGE/etc/"
  cp "$PROGRAMS_OUT"/* "$STAGE/usr/bin/"
  find "$STAGE" -exec touch -h -d "@$BUILD_EPOCH" {} +
  LIST="$BUILD_DIR/initramfs.list"
  {
    echo "# generated by images/build.sh"
    for d in /bin /sbin /usr /usr/bin /usr/sbin /etc /proc /sys /dev /dev/pts /tmp /root /home /mnt /run /var /var/log; do
      case "$d" in
        /tmp) echo "dir $d 1777 0 0" ;;
        /root) echo "dir $d 0700 0 0" ;;
        *) echo "dir $d 0755 0 0" ;;
      esac
    done
    # the kernel opens /dev/console for init's stdin/stdout before /init mounts devtmpfs
    echo "nod /dev/console 0600 0 0 c 5 1"
    echo "nod /dev/null 0666 0 0 c 1 3"
    echo "file /bin/busybox $STAGE/bin/busybox 0755 0 0"
    # one symbolic link per applet, where busybox --list-full puts it
    sort <<< "$busybox_applets" | while IFS= read -r applet_path; do
      [ "$applet_path" = "bin/busybox" ] && continue
      case "$applet_path" in */*) ;; *) continue ;; esac   # skip top-level names such as linuxrc
      echo "slink /$applet_path /bin/busybox 0777 0 0"
    done
    echo "file /init $STAGE/init 0755 0 0"
    for f in "$STAGE"/etc/*; do
      echo "file /etc/$(basename "$f") $f 0644 0 0"
    done
    for f in "$STAGE"/usr/bin/*; do
      echo "file /usr/bin/$(basename "$f") $f 0755 0 0"
    done
  } > "$LIST"
  # directories of applet links that are not in the fixed list above
  extra_dirs=$(grep / <<< "$busybox_applets" | xargs -n1 dirname | sort -u |
               grep -vxE 'bin|sbin|usr/bin|usr/sbin' || true)
  [ -z "$extra_dirs" ] || die "unexpected applet directories: $extra_dirs"

  log "Packing initramfs.cpio.gz"
  "$GEN_INIT_CPIO" -t "$BUILD_EPOCH" "$LIST" > "$BUILD_DIR/initramfs.cpio"
  gzip -9 -n -c "$BUILD_DIR/initramfs.cpio" > "$IMAGES_DIR/initramfs.cpio.gz"
  echo "initramfs.cpio: $(stat -c %s "$BUILD_DIR/initramfs.cpio") bytes," \
       "gzipped: $(stat -c %s "$IMAGES_DIR/initramfs.cpio.gz") bytes," \
       "$(grep -c '^slink' "$LIST") applet links"
fi

# ---------------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------------
if want manifest; then
  log "Writing manifest.json"
  [ -f "$IMAGES_DIR/bzImage" ] && [ -f "$IMAGES_DIR/initramfs.cpio.gz" ] || die "build the images first"
  [ -f "$KERNEL_DIR/Makefile" ] || die "no kernel tree in $KERNEL_DIR to read the kernel release from"
  [ -f "$BUILD_DIR/busybox-version" ] || die "no busybox version recorded: build the initramfs stage first"
  KERNEL_RELEASE=$(kmake -s kernelrelease)
  BUSYBOX_VERSION=$(cat "$BUILD_DIR/busybox-version")
  python3 - "$IMAGES_DIR" "$KERNEL_RELEASE" "$BUSYBOX_VERSION" <<'PY'
import hashlib, json, os, sys, datetime
images_dir, kernel_release, busybox_version = sys.argv[1:4]
def sha256(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()
files = []
for name in ('bzImage', 'initramfs.cpio.gz'):
    path = os.path.join(images_dir, name)
    files.append({'name': name, 'size': os.path.getsize(path), 'sha256': sha256(path)})
manifest = {
    'files': files,
    'kernelRelease': kernel_release,
    'kernelConfigSha256': sha256(os.path.join(images_dir, 'kernel.config')),
    'busyboxVersion': busybox_version,
    'buildDate': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
}
with open(os.path.join(images_dir, 'manifest.json'), 'w') as f:
    json.dump(manifest, f, indent=2)
    f.write('\n')
print(json.dumps(manifest, indent=2))
PY
fi

log "Done in $(( $(date +%s) - started_at )) s"
