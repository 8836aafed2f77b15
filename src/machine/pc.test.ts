import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../boot/test-images';
import { BootImageError } from '../boot/bzimage';
import { MachineConfigError, PcMachine } from './pc';
import { bootGuest, cpioFile, type BootedGuest } from './test-guest';

describe('the PC boots the committed Linux guest to a shell', () => {
  let g: BootedGuest;
  beforeAll(async () => {
    g = await bootGuest({ framebuffer: { width: 640, height: 480 }, cmdline: 'console=tty0 console=ttyS0' });
  }, 300_000);
  afterAll(() => g?.machine.stop());

  it('runs uname: Linux 6.1 on i686', async () => {
    const r = await g.session.exec('uname -a');
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/^Linux pc-machine 6\.1\.\d+ .* i686 GNU\/Linux\n$/);
  });

  it('reports an i686 (family 6) with an FPU in /proc/cpuinfo', async () => {
    const r = await g.session.exec('cat /proc/cpuinfo');
    expect(r.output).toMatch(/vendor_id\s*: GenuineIntel/);
    expect(r.output).toMatch(/cpu family\s*: 6\n/);
    expect(r.output).toMatch(/fpu\s*: yes/);
    expect(r.output).toMatch(/flags\s*:.*\bcmov\b/);
    // global pages and SYSENTER are used by the kernel; no MMX/SSE state to save
    expect(r.output).toMatch(/flags\s*:.*\bpge\b/);
    expect(r.output).toMatch(/flags\s*:.*\bsep\b/);
    expect(r.output).not.toMatch(/flags\s*:.*\b(sse|mmx)\b/);
  });

  it('seeds the kernel RNG at boot and unpacks the initramfs the host inflated', () => {
    const log = g.serial();
    // the loader's setup_data seed makes the CRNG ready before anything asks for randomness
    expect(log).toMatch(/\[\s*0\.0+\] random: crng init done/);
    // the guest got a plain cpio archive: 4.9 MiB freed, where the gzip archive is 2.3 MiB
    const freed = /Freeing initrd memory: (\d+)K/.exec(log);
    expect(Number(freed?.[1])).toBeGreaterThan(4500);
  });

  it('enters the kernel the host inflated from the bzImage, without running its decompressor', () => {
    // the decompressor inflating the 1.7 MB gzip payload takes tens of millions of instructions
    expect(g.kernelBannerAt()).toBeGreaterThan(0);
    expect(g.kernelBannerAt()).toBeLessThan(6_000_000);
  });

  it("keeps the guest's date within 2 s of the host's", async () => {
    const r = await g.session.exec('date +%s');
    const guest = Number(r.output.trim());
    expect(Math.abs(guest - Date.now() / 1000)).toBeLessThan(2);
  });

  it('copies 64 MiB with dd', async () => {
    const r = await g.session.exec('dd if=/dev/zero of=/dev/null bs=1M count=64 2>&1');
    expect(r.status).toBe(0);
    expect(r.output).toContain('64+0 records out');
  });

  it('has the framebuffer device bound by the kernel', async () => {
    expect((await g.session.exec('ls /dev/fb0')).output).toBe('/dev/fb0\n');
    const fb = await g.session.exec('cat /sys/class/graphics/fb0/virtual_size /sys/class/graphics/fb0/bits_per_pixel');
    expect(fb.output).toBe('640,480\n32\n');
  });

  it('counts timer and serial interrupts', async () => {
    const count = async () => {
      const out = (await g.session.exec('cat /proc/interrupts')).output;
      const irq = (n: number) => Number(new RegExp(`^\\s*${n}:\\s+(\\d+)`, 'm').exec(out)?.[1] ?? NaN);
      return { timer: irq(0), serial: irq(4), out };
    };
    const a = await count();
    expect(a.out).toMatch(/^\s*0:\s+\d+\s+XT-PIC\s+timer/m);
    expect(a.out).toMatch(/^\s*4:\s+\d+\s+XT-PIC\s+ttyS0/m);
    await g.session.exec('sleep 0.3');
    const b = await count();
    expect(b.timer).toBeGreaterThan(a.timer);
    expect(b.serial).toBeGreaterThan(a.serial);
  });

  it('runs a pipeline of several processes', async () => {
    const r = await g.session.exec("seq 1 1000 | grep 7 | sort -rn | head -3 | tr '\\n' ,");
    expect(r.output).toBe('997,987,979,');
  });

  it('kills a program that dereferences a bad pointer with SIGSEGV', async () => {
    const r = await g.session.exec('pcm-segv');
    expect(r.output).toContain('Segmentation fault');
    expect(r.status).toBe(139);
  });

  it('runs floating-point programs hot enough to be compiled, with the right results', async () => {
    // busybox seq counts in doubles (x87); 20,000 lines compile its loop into blocks
    const seq = await g.session.exec('seq 1 20000 | md5sum');
    const lines = Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join('');
    expect(seq.output.slice(0, 32)).toBe(createHash('md5').update(lines).digest('hex'));
    const fp = await g.session.exec('pcm-fpbench 1');
    expect(fp.output).toContain('879683 iterations');
    const fb = await g.session.exec('pcm-fbdemo --headless 5');
    expect(fb.output).toContain('checksum 737ec95b');
  });

  it('computes the same sha256 of /bin/busybox as the host', async () => {
    const busybox = cpioFile(readImage('initramfs.cpio.gz'), 'bin/busybox');
    expect(busybox).not.toBeNull();
    const host = createHash('sha256').update(busybox!).digest('hex');
    const r = await g.session.exec('sha256sum /bin/busybox');
    expect(r.output).toBe(`${host}  /bin/busybox\n`);
  });

  it('reboots: the machine resets and boots to a prompt again', async () => {
    const from = g.session.position;
    g.session.send('reboot\r');
    await g.session.waitFor(/reboot: Restarting system/, { from, timeout: 60_000 });
    await g.session.waitFor(/Linux version 6\.1/, { from, timeout: 60_000 });
    await g.session.waitFor(/root@pc-machine:~# $/, { from, timeout: 240_000 });
    expect(g.resets).toEqual(['guest-reboot']);
    expect((await g.session.exec('echo back')).output).toBe('back\n');
  }, 300_000);

  it('powers off: the machine halts with reason poweroff', async () => {
    g.session.send('poweroff\r');
    for (let i = 0; i < 600 && g.halts.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(g.halts).toEqual([{ kind: 'poweroff' }]);
    expect(g.machine.running).toBe(false);
  }, 120_000);
});

describe('the same guest booted from the files as they are', () => {
  it("runs the bzImage's decompressor and unpacks the gzip initramfs in the guest", async () => {
    const g = await bootGuest({}, 300_000, 'constructor');
    try {
      expect(g.kernelBannerAt()).toBeGreaterThan(10_000_000);
      const freed = /Freeing initrd memory: (\d+)K/.exec(g.serial());
      expect(Number(freed?.[1])).toBeLessThan(3000); // the 2.3 MiB gzip archive
      const r = await g.session.exec('uname -r; ls /bin/busybox');
      expect(r.output).toMatch(/^6\.1\.\d+\n\/bin\/busybox\n$/);
    } finally {
      g.machine.stop();
    }
  }, 300_000);
});

describe('bad input to the machine', () => {
  it('rejects a file that is not a bzImage with a clear error', () => {
    const notKernel = new TextEncoder().encode('#!/bin/sh\necho this is not a kernel\n'.repeat(100));
    const make = () => new PcMachine({ memoryMiB: 32, kernel: notKernel, initrd: [], cmdline: '', framebuffer: null });
    expect(make).toThrow(BootImageError);
    expect(make).toThrow(/not a bzImage/);
  });

  it('rejects an impossible memory size', () => {
    const make = () => new PcMachine({ memoryMiB: 3, kernel: readImage('bzImage'), initrd: [], cmdline: '', framebuffer: null });
    expect(make).toThrow(MachineConfigError);
  });
});
