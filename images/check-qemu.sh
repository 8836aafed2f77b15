#!/usr/bin/env bash
# Boots images/bzImage + images/initramfs.cpio.gz under QEMU (TCG, a Pentium II) as a reference
# for pc-machine, drives the serial console like a user and checks what it prints:
#   1. QEMU's own Linux loader, serial console: the shell prompt, uname, /proc/cpuinfo, pcm-info,
#      job control, a segmentation fault, sleep, poweroff
#   2. QEMU's loader with a VESA framebuffer (-vga std, vga=0x318): simplefb binds it as fb0
#   3. pc-machine's loader (src/boot/linux-loader.ts): the memory image it builds, with a
#      framebuffer described in screen_info, started by a boot sector in 32-bit protected mode
# Usage: bash images/check-qemu.sh [--serial-only]
set -euo pipefail

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(dirname "$IMAGES_DIR")"
for tool in qemu-system-i386 python3 nasm npx; do
  command -v "$tool" >/dev/null || { echo "check-qemu.sh: $tool not found" >&2; exit 1; }
done

# pc-machine's loader: its memory image for 64 MiB of RAM and a 1024x768 framebuffer at the
# address SeaBIOS gives QEMU's standard VGA (0xFD000000), and the boot sector that enters it.
LOADER_DIR=$(mktemp -d)
trap 'rm -rf "$LOADER_DIR"' EXIT
if [[ " $* " != *" --serial-only "* ]]; then
  (cd "$REPO_DIR" && npx --no-install tsx images/loader-check/dump-memory.ts "$LOADER_DIR" 64 \
     'console=tty0 console=ttyS0' 0xfd000000 1024 768 2>/dev/null)
  # shellcheck disable=SC1091
  . "$LOADER_DIR/entry.env"
  nasm -f bin -DGDT_BASE="$GDT_BASE" -DGDT_LIMIT="$GDT_LIMIT" -DBOOT_CS="$BOOT_CS" -DBOOT_DS="$BOOT_DS" \
    -DBOOT_PARAMS="$BOOT_PARAMS" -DSTACK_TOP="$STACK_TOP" -DENTRY="$ENTRY" -DGDT_STAGING="$GDT_STAGING" \
    -DPARAMS_ADDRESS="$PARAMS_ADDRESS" -DPARAMS_SIZE="$PARAMS_SIZE" -DPARAMS_STAGING="$PARAMS_STAGING" \
    -o "$LOADER_DIR/disk.img" "$IMAGES_DIR/loader-check/boot-stub.asm"
  truncate -s 1M "$LOADER_DIR/disk.img"
  for blob in $BLOBS; do echo "${blob%@*} ${blob#*@}"; done > "$LOADER_DIR/blobs.txt"
fi

python3 - "$IMAGES_DIR" "$LOADER_DIR" "$@" <<'PY'
import os, re, select, subprocess, sys, time

images_dir, loader_dir = sys.argv[1:3]
serial_only = '--serial-only' in sys.argv[3:]
PROMPT = 'root@pc-machine:~# '
BOOT_TIMEOUT = 60
COMMAND_TIMEOUT = 60
ANSI = re.compile(r'\x1b\[[0-9;?]*[A-Za-z]')
failures = []

def check(condition, what):
    print(f"  [{'ok' if condition else 'FAIL'}] {what}")
    if not condition:
        failures.append(what)

def qemu_loader_args(append, extra_args):
    return ['qemu-system-i386', '-cpu', 'pentium2', '-m', '64', '-nographic', '-no-reboot',
            '-kernel', os.path.join(images_dir, 'bzImage'),
            '-initrd', os.path.join(images_dir, 'initramfs.cpio.gz'),
            '-append', append] + extra_args

class Guest:
    def __init__(self, name, args):
        self.name = name
        print(f"\n=== {name}: {' '.join(args)}")
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.transcript = ''
        self.started = time.monotonic()

    def read_until(self, pattern, timeout):
        """Read the console until `pattern` (a regex) appears after the current position."""
        start = len(self.transcript)
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            match = regex.search(self.transcript, start)
            if match:
                return match
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.proc.poll() is not None:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], min(remaining, 0.5))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.transcript += ANSI.sub('', chunk.decode('utf-8', 'replace')).replace('\r', '')

    def run(self, command, timeout=COMMAND_TIMEOUT):
        """Type a command and return its output (between the echoed command line and the next prompt)."""
        start = len(self.transcript)
        self.proc.stdin.write((command + '\n').encode())
        self.proc.stdin.flush()
        if not self.read_until(re.escape(PROMPT), timeout):
            return None
        text = self.transcript[start:]
        text = text[: text.rfind(PROMPT)]
        first_newline = text.find('\n')
        return text[first_newline + 1:] if first_newline >= 0 else ''

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

def print_section(title, text):
    print(f"--- {title}")
    print(text.rstrip('\n'))

def boot(guest):
    prompt = guest.read_until(re.escape(PROMPT), BOOT_TIMEOUT)
    boot_seconds = time.monotonic() - guest.started
    print_section('boot log', guest.transcript)
    check(prompt is not None, f"shell prompt '{PROMPT}' within {BOOT_TIMEOUT} s (took {boot_seconds:.1f} s)")
    return prompt is not None

def serial_run():
    guest = Guest('serial console', qemu_loader_args('console=ttyS0', []))
    try:
        if not boot(guest):
            return
        log = guest.transcript
        check('Linux version 6.1' in log, 'kernel banner: Linux version 6.1')
        check('Welcome to pc-machine' in log, 'the /etc/motd greeting at login')
        check('job control turned off' not in log, 'the console shell has job control')
        check('Kernel panic' not in log and 'Oops' not in log, 'no panic or oops')

        uname = guest.run('uname -a')
        print_section('uname -a', uname or '(no prompt)')
        check(uname is not None and ' 6.1.' in uname and 'i686' in uname and 'pc-machine' in uname,
              'uname -a: Linux pc-machine 6.1 ... i686')

        cpuinfo = guest.run('cat /proc/cpuinfo')
        print_section('cat /proc/cpuinfo', cpuinfo or '(no prompt)')
        flags = re.search(r'^flags\s*:(.*)$', cpuinfo or '', re.M)
        flag_set = set(flags.group(1).split()) if flags else set()
        check({'fpu', 'tsc', 'cx8', 'cmov'} <= flag_set, '/proc/cpuinfo flags include fpu tsc cx8 cmov')

        info = guest.run('pcm-info')
        print_section('pcm-info', info or '(no prompt)')
        check(info is not None and 'family:     6' in info and 'sqrt(2)     = 1.414213562373095' in info
              and 'pi (BBP)    = 3.141592653589793' in info and 'sin(1)      = 0.841470984807897' in info,
              'pcm-info: family 6 and exact x87 results')

        segv = guest.run('pcm-segv')
        print_section('pcm-segv', segv or '(no prompt)')
        check(segv is not None and 'Segmentation fault' in segv, 'pcm-segv: the shell reports "Segmentation fault"')

        bench = guest.run('pcm-fpbench')
        print_section('pcm-fpbench', bench or '(no prompt)')
        check(bench is not None and '879683 iterations' in bench, 'pcm-fpbench: mandelbrot count 879683')

        headless = guest.run('pcm-fbdemo --headless 5')
        print_section('pcm-fbdemo --headless 5', headless or '(no prompt)')
        check(headless is not None and 'checksum 737ec95b' in headless, 'pcm-fbdemo --headless 5: checksum 737ec95b')

        timed = guest.run('date +%s; sleep 2; date +%s')
        print_section('date; sleep 2; date', timed or '(no prompt)')
        stamps = [int(s) for s in re.findall(r'^(\d+)$', timed or '', re.M)]
        check(len(stamps) == 2 and 1 <= stamps[1] - stamps[0] <= 4, 'sleep 2 takes about 2 s (32-bit time syscalls)')

        jobs = guest.run('sleep 30 & jobs; kill %1; wait')
        print_section('sleep 30 & jobs', jobs or '(no prompt)')
        check(jobs is not None and 'Running' in jobs, 'background jobs are listed by `jobs`')

        start = len(guest.transcript)
        guest.proc.stdin.write(b'poweroff\n')
        guest.proc.stdin.flush()
        halted = guest.read_until(r'reboot: (System halted|Power down)', COMMAND_TIMEOUT)
        print_section('poweroff', guest.transcript[start:])
        check(halted is not None, 'poweroff ends in the reboot system call ("reboot: System halted")')
    finally:
        guest.stop()

def framebuffer_run():
    guest = Guest('VESA framebuffer', qemu_loader_args('vga=0x318 console=tty0 console=ttyS0', ['-vga', 'std']))
    try:
        if not boot(guest):
            return
        # commands stay shorter than one 80-column line: the shell's echo of a longer one wraps
        fb = guest.run("dmesg | grep -iE 'simple|vesafb|fb0|Console:'")
        print_section('dmesg (framebuffer)', fb or '(no prompt)')
        check(fb is not None and 'simple-framebuffer' in fb and 'fb0' in fb,
              'dmesg: simplefb binds the simple-framebuffer device as fb0')
        procfb = guest.run('cat /proc/fb; cd /sys/class/graphics/fb0; cat virtual_size bits_per_pixel; cd')
        print_section('/proc/fb', procfb or '(no prompt)')
        check(procfb is not None and re.search(r'^0 ', procfb, re.M) is not None, '/proc/fb lists framebuffer 0')
        inittab = guest.run('grep tty1 /etc/inittab')
        check(inittab is not None and 'tty1::askfirst:' in inittab, '/init adds a shell on tty1 when there is a framebuffer')
        # press Enter on the emulated AT keyboard (Ctrl-A c toggles QEMU's monitor on stdio)
        guest.proc.stdin.write(b'\x01c')
        guest.proc.stdin.flush()
        time.sleep(0.5)
        guest.proc.stdin.write(b'sendkey ret\n')
        guest.proc.stdin.flush()
        time.sleep(0.5)
        guest.proc.stdin.write(b'\x01c')
        guest.proc.stdin.flush()
        time.sleep(2)
        login = guest.run("ps | grep '[-]/bin/sh'")
        print_section('tty1 after Enter', login or '(no prompt)')
        check(login is not None and '-/bin/sh -l' in login, 'Enter on the keyboard starts the tty1 login shell')
        demo = guest.run('pcm-fbdemo 3', timeout=120)
        print_section('pcm-fbdemo 3', demo or '(no prompt)')
        check(demo is not None and 'frames in' in demo, 'pcm-fbdemo draws on /dev/fb0')
        guest.proc.stdin.write(b'poweroff\n')
        guest.proc.stdin.flush()
        check(guest.read_until(r'reboot: (System halted|Power down)', COMMAND_TIMEOUT) is not None, 'poweroff')
    finally:
        guest.stop()

def pc_machine_loader_run():
    # 128 MiB for QEMU: the guest's RAM is the 64 MiB of the loader's e820 map; the staged
    # low-memory blobs sit above it.
    args = ['qemu-system-i386', '-cpu', 'pentium2', '-m', '128', '-nographic', '-no-reboot', '-vga', 'std',
            '-drive', f'file={os.path.join(loader_dir, "disk.img")},format=raw,if=ide']
    with open(os.path.join(loader_dir, 'blobs.txt')) as f:
        for line in f:
            name, address = line.split()
            args += ['-device', f'loader,file={os.path.join(loader_dir, name)},addr={address},force-raw=on']
    guest = Guest("pc-machine's loader (src/boot/linux-loader.ts)", args)
    try:
        if not boot(guest):
            return
        log = guest.transcript
        check('BIOS-e820: [mem 0x0000000000100000-0x0000000003ffffff] usable' in log,
              "the kernel uses the loader's e820 map (RAM 1 MiB - 64 MiB)")
        check(re.search(r'RAMDISK: \[mem 0x0[0-9a-f]+000-0x0*3ffffff\]', log) is not None,
              'the initrd sits page-aligned at the top of RAM')
        check('Kernel command line: console=tty0 console=ttyS0' in log, 'the command line arrives')
        fb = guest.run("dmesg | grep -iE 'simple|fb0|Console:'")
        print_section('dmesg (framebuffer)', fb or '(no prompt)')
        check(fb is not None and 'format=a8b8g8r8, mode=1024x768x32, linelength=4096' in fb and 'fb0' in fb,
              'screen_info (VIDEO_TYPE_VLFB, R,G,B,X) becomes simple-framebuffer a8b8g8r8 1024x768 as fb0')
        demo = guest.run('pcm-fbdemo 2', timeout=120)
        print_section('pcm-fbdemo 2', demo or '(no prompt)')
        check(demo is not None and '1024x768, 32 bpp, line 4096 bytes, red 0/8 green 8/8 blue 16/8' in demo,
              'pcm-fbdemo sees 1024x768x32 with red at bit 0, green 8, blue 16')
        uname = guest.run('uname -a')
        check(uname is not None and ' 6.1.' in uname and 'i686' in uname, 'uname -a')
        guest.proc.stdin.write(b'poweroff\n')
        guest.proc.stdin.flush()
        check(guest.read_until(r'reboot: (System halted|Power down)', COMMAND_TIMEOUT) is not None, 'poweroff')
    finally:
        guest.stop()

serial_run()
if not serial_only:
    framebuffer_run()
    pc_machine_loader_run()
print()
if failures:
    print(f"check-qemu: {len(failures)} check(s) failed: " + '; '.join(failures))
    sys.exit(1)
print('check-qemu: all checks passed')
PY
