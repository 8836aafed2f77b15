/** Test helpers: the committed guest images (Node only; imported by tests, never by the loader). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const IMAGES_DIR = fileURLToPath(new URL('../../images/', import.meta.url));

export function readImage(name: string): Uint8Array {
  return new Uint8Array(readFileSync(IMAGES_DIR + name));
}
