/**
 * Runs pc-machine's Linux loader (src/boot/linux-loader.ts) into a PhysMemory and writes what it
 * put in memory as raw blobs plus the entry state, so QEMU can start the same memory image
 * (images/check-qemu.sh, "pc-machine loader" run).
 *
 *   npx tsx images/loader-check/dump-memory.ts OUT_DIR RAM_MIB CMDLINE [FB_BASE FB_WIDTH FB_HEIGHT]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PhysMemory } from '../../src/memory/phys-memory';
import { BOOT_GDT_ADDRESS, BOOT_PARAMS_ADDRESS, CMDLINE_ADDRESS, loadLinux } from '../../src/boot/linux-loader';

const [outDir, ramMiB, cmdline, fbBase, fbWidth, fbHeight] = process.argv.slice(2);
if (!outDir || !ramMiB || cmdline === undefined || (fbBase !== undefined && fbHeight === undefined)) {
  console.error('usage: dump-memory.ts OUT_DIR RAM_MIB CMDLINE [FB_BASE FB_WIDTH FB_HEIGHT]');
  process.exit(2);
}
const framebuffer = fbBase === undefined
  ? null
  : { base: Number(fbBase), width: Number(fbWidth), height: Number(fbHeight), stride: Number(fbWidth) * 4 };
const imagesDir = new URL('../', import.meta.url);
const kernel = new Uint8Array(readFileSync(new URL('bzImage', imagesDir)));
const initramfs = new Uint8Array(readFileSync(new URL('initramfs.cpio.gz', imagesDir)));

const mem = new PhysMemory({ ramBytes: Number(ramMiB) * 1024 * 1024 });
const entry = loadLinux(mem, { kernel, initrds: [initramfs], cmdline, framebuffer });

mkdirSync(outDir, { recursive: true });
// The low-memory structures are staged above the guest's RAM (the BIOS uses low memory while it
// starts) and copied into place by boot-stub.asm; the kernel and initrd go where the loader put them.
const ramBytes = mem.ramBytes;
const paramsEnd = CMDLINE_ADDRESS + entry.layout.cmdline.size;
const blobs = [
  { file: 'gdt.bin', address: ramBytes, bytes: mem.readBytes(BOOT_GDT_ADDRESS, entry.gdt.limit + 1) },
  { file: 'params.bin', address: ramBytes + 0x1000, bytes: mem.readBytes(BOOT_PARAMS_ADDRESS, paramsEnd - BOOT_PARAMS_ADDRESS) },
  { file: 'kernel.bin', address: entry.layout.kernel.address, bytes: mem.readBytes(entry.layout.kernel.address, entry.layout.kernel.size) },
];
if (entry.layout.initrd) {
  blobs.push({ file: 'initrd.bin', address: entry.layout.initrd.address, bytes: mem.readBytes(entry.layout.initrd.address, entry.layout.initrd.size) });
}
for (const blob of blobs) writeFileSync(join(outDir, blob.file), blob.bytes);
const hex = (n: number) => '0x' + n.toString(16);
writeFileSync(
  join(outDir, 'entry.env'),
  [
    `GDT_BASE=${hex(entry.gdt.base)}`,
    `GDT_LIMIT=${entry.gdt.limit}`,
    `BOOT_CS=${hex(entry.codeSelector)}`,
    `BOOT_DS=${hex(entry.dataSelector)}`,
    `BOOT_PARAMS=${hex(entry.registers.esi)}`,
    `STACK_TOP=${hex(entry.registers.esp)}`,
    `ENTRY=${hex(entry.registers.eip)}`,
    `GDT_STAGING=${hex(blobs[0].address)}`,
    `PARAMS_ADDRESS=${hex(BOOT_PARAMS_ADDRESS)}`,
    `PARAMS_SIZE=${blobs[1].bytes.length}`,
    `PARAMS_STAGING=${hex(blobs[1].address)}`,
    `BLOBS="${blobs.map((b) => `${b.file}@${hex(b.address)}`).join(' ')}"`,
  ].join('\n') + '\n',
);
console.log(`loader: kernel at ${hex(entry.layout.kernel.address)}, initrd at ${entry.layout.initrd ? hex(entry.layout.initrd.address) : 'none'}, entry ${hex(entry.entry)}`);
