// A Hub endpoint inside the fuzz child for the remote readers' targets: it serves whatever bytes a target puts at a
// path, with the Range semantics of the real Hub (206 for a satisfiable range, cut at the file's end; 416 past it),
// so the real client code (fetchFile, streamFile, resolveRevision) runs unchanged over a real socket.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hubConfig, type HubConfig } from '../../src/hub/endpoint.ts';

export interface LocalHub {
  readonly cfg: HubConfig;
  /** Serves `body` at the URL path `path` (e.g. `/org/x/resolve/<sha>/model.safetensors`) until replaced. */
  serve(path: string, body: Uint8Array): void;
}

let started: Promise<LocalHub> | undefined;

/** The one endpoint of this process, started on first use. */
export function localHub(): Promise<LocalHub> {
  started ??= new Promise((resolve) => {
    const files = new Map<string, Uint8Array>();
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
      const body = files.get(path);
      if (!body) {
        res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' }).end();
        return;
      }
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (range) {
        const start = Number(range[1]);
        if (start >= body.byteLength) {
          res.writeHead(416, { 'Content-Range': `bytes */${body.byteLength}` }).end();
          return;
        }
        const end = Math.min(Number(range[2]), body.byteLength - 1);
        res.writeHead(206, { 'Content-Length': String(end + 1 - start), 'Content-Range': `bytes ${start}-${end}/${body.byteLength}` });
        res.end(body.subarray(start, end + 1));
        return;
      }
      res.writeHead(200, { 'Content-Length': String(body.byteLength) }).end(body);
    });
    server.unref();
    server.listen(0, '127.0.0.1', () => {
      const cfg = hubConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
      resolve({ cfg, serve: (path, body) => files.set(path, body) });
    });
  });
  return started;
}

/** The revision API's answer for one repo: a 40-hex sha and the listed files with their (claimed) sizes. */
export function revisionJson(sha: string, files: readonly { path: string; size: number }[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ sha, siblings: files.map((f) => ({ rfilename: f.path, size: f.size })) }));
}
