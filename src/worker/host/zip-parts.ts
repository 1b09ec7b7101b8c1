// Files made of byte parts (the ONNX export's weights.bin is hundreds of views into the loaded weights) into one
// uncompressed zip Blob, streamed through fflate's Zip/ZipPassThrough: the parts are never concatenated into one large
// buffer, so a 135M-parameter export does not need a second contiguous copy of its weights in the worker.
import { Zip, ZipPassThrough } from 'fflate';

/** Every file under `folder/` in the zip; fixed mtime so the same files give the same bytes. */
export function zipParts(folder: string, files: readonly { path: string; parts: readonly Uint8Array[] }[]): Blob {
  const chunks: Uint8Array[] = [];
  let failed: Error | null = null;
  const zip = new Zip((err, chunk) => {
    if (err) failed = err;
    else chunks.push(chunk);
  });
  for (const f of files) {
    const entry = new ZipPassThrough(`${folder}/${f.path}`);
    entry.mtime = new Date('2020-01-01T00:00:00Z');
    zip.add(entry);
    for (const part of f.parts) entry.push(part);
    entry.push(new Uint8Array(0), true);
  }
  zip.end();
  if (failed) throw failed;
  return new Blob(chunks as Uint8Array<ArrayBuffer>[], { type: 'application/zip' });
}
