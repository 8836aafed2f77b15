/** Defaults of `<pc-machine>`: the bundled guest images and its kernel command line. */

/**
 * The kernel command line used when the `cmdline` attribute is absent: kernel messages on the
 * framebuffer console (tty0) and the serial console (ttyS0); the last one is `/dev/console`, where
 * the shell runs.
 */
export const DEFAULT_CMDLINE = 'console=tty0 console=ttyS0';

/** The guest's shell prompt; its first appearance after a boot fires `pc-ready`. */
export const READY_PROMPT = 'root@pc-machine:~# ';

/** RAM in MiB when the `memory` attribute is absent. */
export const DEFAULT_MEMORY_MIB = 64;

/** Framebuffer mode when `width` / `height` are absent. */
export const DEFAULT_WIDTH = 1024;
export const DEFAULT_HEIGHT = 768;

// Resolved relative to this module, so a bundler ships the images as assets next to the element.
// `?no-inline` keeps Vite's library build from inlining megabytes as base64.

/** The bundled kernel (Linux 6.1, i686). */
export const DEFAULT_KERNEL_URL: string = new URL('../../images/bzImage?no-inline', import.meta.url).href;

/** The bundled initramfs (busybox userland and the pcm-* programs). */
export const DEFAULT_INITRD_URL: string = new URL('../../images/initramfs.cpio.gz?no-inline', import.meta.url).href;

/** Limits shared with the machine core's configuration check. */
export const MEMORY_RANGE = { min: 16, max: 2048 } as const;
export const FRAMEBUFFER_RANGE = { min: 64, max: 4096 } as const;
