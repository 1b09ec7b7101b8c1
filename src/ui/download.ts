// Saving bytes the app made (a run zip, a cluster config) as a file: a Blob URL on a temporary link, clicked once.
// The URL is revoked after the click has been handled so the bytes are not kept alive by the page.

export function saveBytes(fileName: string, bytes: Uint8Array | string, type = 'application/octet-stream'): void {
  saveBlob(fileName, new Blob([typeof bytes === 'string' ? bytes : (bytes as Uint8Array<ArrayBuffer>)], { type }));
}

export function saveBlob(fileName: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
