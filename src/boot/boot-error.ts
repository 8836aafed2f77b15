/** A kernel image, initrd or command line that pc-machine cannot boot; the message is one clear line. */
export class BootImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootImageError';
  }
}
