import { describe, expect, it } from 'vitest';
import { PhysMemory } from '../memory/phys-memory';
import { BootImageError } from './boot-error';
import { inflateKernel, parseKernelElf } from './kernel-elf';
import { loadLinux } from './linux-loader';
import { readImage } from './test-images';

describe('the kernel image inflated from the bzImage payload', () => {
  it('is the i386 kernel: startup_32 at 1 MiB, text and data segments inside init_size', async () => {
    const elf = await inflateKernel(readImage('bzImage'));
    expect(elf).not.toBeNull();
    expect(elf!.entry).toBe(0x100000);
    expect(elf!.segments.length).toBeGreaterThanOrEqual(2);
    expect(elf!.segments[0].address).toBe(0x100000);
    // the kernel's version string is in its data, as `uname -r` prints it
    const text = Buffer.from(elf!.segments.map((s) => Buffer.from(s.data).toString('latin1')).join(''), 'latin1').toString('latin1');
    expect(text).toMatch(/Linux version 6\.1\.\d+/);
  });

  it('is loaded in place and entered at startup_32 with ESI = boot_params', async () => {
    const kernel = readImage('bzImage');
    const elf = (await inflateKernel(kernel))!;
    const mem = new PhysMemory({ ramBytes: 64 << 20 });
    const entry = loadLinux(mem, { kernel, initrds: [], cmdline: 'console=ttyS0', framebuffer: null, kernelElf: elf });
    expect(entry.registers.eip).toBe(0x100000);
    expect(entry.registers.esi).toBe(entry.bootParams);
    const first = elf.segments[0];
    expect(Buffer.from(mem.readBytes(first.address, 4096)).equals(Buffer.from(first.data.subarray(0, 4096)))).toBe(true);
    // the bzImage itself (its decompressor) is not in memory: 1 MiB holds the kernel's own code
    const stub = kernel.subarray((kernel[0x1f1] + 1) * 512);
    expect(Buffer.from(mem.readBytes(0x100000, 64)).equals(Buffer.from(stub.subarray(0, 64)))).toBe(false);
  });

  it('is not used for a payload the host cannot inflate: then the bzImage boots as it is', async () => {
    const kernel = readImage('bzImage').slice();
    const payloadOffset = new DataView(kernel.buffer).getUint32(0x248, true);
    const setupBytes = (kernel[0x1f1] + 1) * 512;
    kernel[setupBytes + payloadOffset + 10] ^= 0xff; // corrupt the deflate stream
    kernel[setupBytes + payloadOffset + 11] ^= 0xff;
    expect(await inflateKernel(kernel)).toBeNull();
  });

  it('rejects what is not a loadable i386 ELF image, saying why', () => {
    expect(() => parseKernelElf(new Uint8Array(16))).toThrow(/too short/);
    expect(() => parseKernelElf(new Uint8Array(64))).toThrow(/not an ELF image/);
    const elf64 = new Uint8Array(64);
    elf64.set([0x7f, 0x45, 0x4c, 0x46, 2, 1]);
    expect(() => parseKernelElf(elf64)).toThrow(BootImageError);
    expect(() => parseKernelElf(elf64)).toThrow(/32-bit little-endian i386/);
  });

  it('refuses a segment outside the memory the kernel asks for', async () => {
    const kernel = readImage('bzImage');
    const elf = (await inflateKernel(kernel))!;
    const moved = { ...elf, segments: [{ ...elf.segments[0], address: 0x8000000 }] };
    const mem = new PhysMemory({ ramBytes: 256 << 20 });
    expect(() => loadLinux(mem, { kernel, initrds: [], cmdline: '', framebuffer: null, kernelElf: moved })).toThrow(/outside the kernel's memory/);
  });
});
