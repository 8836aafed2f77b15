/** Downloading guest images with progress, and messages people can act on when it fails. */

export interface DownloadProgress {
  loaded: number;
  /** From Content-Length; 0 when unknown (or when the body is transfer-compressed). */
  total: number;
}

export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

/**
 * Fetches `url` into memory. Rejects with a one-line {@link DownloadError} naming `what` and the
 * URL for network failures, HTTP errors and HTML pages served in place of a binary (a dev
 * server's fallback page for a wrong path).
 */
export async function download(
  url: string,
  what: string,
  onProgress?: (p: DownloadProgress) => void,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url, { signal, credentials: 'same-origin' });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new DownloadError(`Could not load the ${what} from ${url}: the network request failed`);
  }
  if (!response.ok) {
    throw new DownloadError(
      `Could not load the ${what} from ${url}: HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
    );
  }
  const type = response.headers.get('content-type') ?? '';
  if (/^text\/html\b/i.test(type)) {
    throw new DownloadError(`Could not load the ${what} from ${url}: the server sent an HTML page (is the URL right?)`);
  }
  const encoded = response.headers.get('content-encoding');
  const lengthHeader = Number(response.headers.get('content-length'));
  const total = !encoded || encoded === 'identity' ? (Number.isFinite(lengthHeader) ? lengthHeader : 0) : 0;
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    onProgress?.({ loaded: bytes.length, total: bytes.length });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress?.({ loaded, total });
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new DownloadError(`Could not load the ${what} from ${url}: the download was interrupted`);
    }
    if (result.done) break;
    chunks.push(result.value);
    loaded += result.value.length;
    onProgress?.({ loaded, total });
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  onProgress?.({ loaded, total: loaded });
  return out;
}
