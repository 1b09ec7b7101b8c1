// Share links: a run config in the URL fragment, `#run=<format>.<crc32>.<base64url(deflate(JSON))>`, versioned,
// checksummed, size-capped and validated with the run-config schema on the way in. Uploaded data rides along inline
// (compressed) when small, otherwise by sha256 and the opener supplies the file. Links never carry a Hub token.
import { parseRunConfig, RUN_CONFIG_VERSION, type RunConfig } from './run-config.ts';
import { crc32Hex, deflate, fromBase64Url, inflateCapped, sha256Hex, toBase64Url, utf8 } from './codec.ts';

/** Version of the link envelope (not of the config inside it, which has its own `version`). */
const LINK_FORMAT = 1;
export const LINK_PARAM = 'run';
/** Longest fragment accepted. Chromium takes 2 MB URLs, but chat apps and QR codes do not; uploads past the inline
 * cap travel by hash instead, so real configs stay far below this. */
export const MAX_LINK_CHARS = 96 * 1024;
/** Most JSON a link may inflate to: the config schema's own caps (32 KiB template, 64 KiB inline data) plus room. */
const MAX_LINK_JSON_BYTES = 160 * 1024;
/** Inline uploads at most this long once compressed and encoded (the schema allows 64 KiB; leave room for the rest). */
export const MAX_INLINE_CHARS = 48 * 1024;
/** Most bytes an inline upload may inflate to. */
const MAX_INLINE_DATA_BYTES = 8 * 1024 * 1024;

export type ShareLinkErrorCode =
  | 'missing' | 'malformed' | 'unsupported-version' | 'oversized' | 'tampered' | 'invalid-config' | 'secret';

/** A link that cannot be opened; `message` says what is wrong and what to do, for the page to show as is. */
export class ShareLinkError extends Error {
  constructor(readonly code: ShareLinkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ShareLinkError';
  }
}

/** Hugging Face user access tokens; a config containing one must never become a link. */
const TOKEN_PATTERN = /\bhf_[A-Za-z0-9]{20,}\b/;

function assertNoSecrets(config: RunConfig, json: string): void {
  if (config.hubEndpoint) {
    const url = new URL(config.hubEndpoint);
    if (url.username || url.password) {
      throw new ShareLinkError('secret', 'The Hub endpoint contains a user name or password; remove it before sharing (tokens are entered separately and never shared).');
    }
  }
  if (TOKEN_PATTERN.test(json)) {
    throw new ShareLinkError('secret', 'The run configuration contains something that looks like a Hugging Face access token (hf_…); remove it before sharing.');
  }
}

/** The fragment body (`run=…`, without `#`) for a config. The same config always gives the same text. */
export function encodeShareFragment(input: RunConfig): string {
  const config = parseRunConfig(input);
  const json = JSON.stringify(config);
  assertNoSecrets(config, json);
  const bytes = utf8.encode(json);
  const fragment = `${LINK_PARAM}=${LINK_FORMAT}.${crc32Hex(bytes)}.${toBase64Url(deflate(bytes))}`;
  if (fragment.length > MAX_LINK_CHARS) {
    throw new ShareLinkError('oversized', `This run's link would be ${fragment.length} characters (limit ${MAX_LINK_CHARS}). Shorten the custom template or share the data file by hash instead of inline.`);
  }
  return fragment;
}

/** A full link: the page URL (its own fragment dropped) plus `#run=…`. */
export function shareUrl(pageUrl: string, config: RunConfig): string {
  const url = new URL(pageUrl);
  url.hash = encodeShareFragment(config);
  return url.toString();
}

/** Finds `run=` in a full URL, a `#…` fragment or the bare fragment body; other fragment parameters are ignored. */
function extractPayload(link: string): string | undefined {
  const trimmed = link.trim();
  const hashAt = trimmed.indexOf('#');
  const fragment = hashAt >= 0 ? trimmed.slice(hashAt + 1) : trimmed;
  for (const part of fragment.split('&')) {
    if (part.startsWith(`${LINK_PARAM}=`)) return part.slice(LINK_PARAM.length + 1);
  }
  return undefined;
}

/** Reads a link back into a validated run config, or throws a ShareLinkError saying why it cannot be used. */
export function decodeShareLink(link: string): RunConfig {
  if (link.length > MAX_LINK_CHARS + 4096) {
    throw new ShareLinkError('oversized', `This link is ${link.length} characters long; TabTune accepts at most ${MAX_LINK_CHARS}. It was not made by TabTune or has been padded.`);
  }
  const payload = extractPayload(link);
  if (payload === undefined) throw new ShareLinkError('missing', `This address has no run in it (expected "#${LINK_PARAM}=…").`);
  const parts = payload.split('.');
  if (parts.length !== 3) {
    throw new ShareLinkError('malformed', 'This run link is malformed (expected three dot-separated parts); it may have been cut short when copied. Copy the whole link again.');
  }
  const [formatText, crcText, body] = parts as [string, string, string];
  if (!/^\d{1,6}$/.test(formatText)) throw new ShareLinkError('malformed', `This run link has an invalid format number "${formatText.slice(0, 20)}".`);
  const format = Number(formatText);
  if (format > LINK_FORMAT) {
    throw new ShareLinkError('unsupported-version', `This link was made by a newer TabTune (link format ${format}; this version reads format ${LINK_FORMAT}). Open it with an up-to-date TabTune.`);
  }
  if (format < 1) throw new ShareLinkError('unsupported-version', `Link format ${format} does not exist.`);
  if (!/^[0-9a-f]{8}$/.test(crcText)) throw new ShareLinkError('malformed', 'This run link has an invalid checksum field; copy the whole link again.');

  let json: string;
  try {
    const bytes = inflateCapped(fromBase64Url(body), MAX_LINK_JSON_BYTES, 'The run link');
    if (crc32Hex(bytes) !== crcText) {
      throw new ShareLinkError('tampered', 'This run link was altered or damaged after it was made (checksum mismatch). Ask for the link again.');
    }
    json = utf8.decode(bytes, 'The run link');
  } catch (e) {
    if (e instanceof ShareLinkError) throw e;
    const msg = (e as Error).message;
    const code = /expands beyond/.test(msg) ? 'oversized' : 'tampered';
    throw new ShareLinkError(code, `${msg}. Ask for the link again.`, { cause: e });
  }

  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new ShareLinkError('tampered', 'This run link does not contain valid JSON; it was altered after it was made.', { cause: e });
  }
  const version = (raw as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > RUN_CONFIG_VERSION) {
    throw new ShareLinkError('unsupported-version', `This link holds a run configuration of version ${version}; this TabTune reads version ${RUN_CONFIG_VERSION}. Open it with an up-to-date TabTune.`);
  }
  try {
    const config = parseRunConfig(raw);
    assertNoSecrets(config, json);
    return config;
  } catch (e) {
    if (e instanceof ShareLinkError) throw e;
    throw new ShareLinkError('invalid-config', `This link's run configuration is not valid:\n${(e as Error).message.replace(/^Invalid run configuration:\n/, '')}`, { cause: e });
  }
}

export type ShareLinkResult = { ok: true; config: RunConfig } | { ok: false; code: ShareLinkErrorCode; message: string };

/** For the page: never throws, so a bad link shows a message instead of breaking the app. */
export function readShareLink(link: string): ShareLinkResult {
  try {
    return { ok: true, config: decodeShareLink(link) };
  } catch (e) {
    if (e instanceof ShareLinkError) return { ok: false, code: e.code, message: e.message };
    return { ok: false, code: 'malformed', message: `This run link could not be read: ${(e as Error).message}` };
  }
}

export type UploadRef = Extract<RunConfig['data'], { source: 'upload' }>;

/** The data reference for an uploaded file: its sha256 always, and the compressed bytes inline when they fit. */
export async function uploadDataRef(name: string, bytes: Uint8Array): Promise<UploadRef> {
  const hash = await sha256Hex(bytes);
  const inline = toBase64Url(deflate(bytes));
  return inline.length <= MAX_INLINE_CHARS ? { source: 'upload', name, hash, inline } : { source: 'upload', name, hash };
}

/** Thrown when a run's uploaded file is not in the link: the page asks the user to choose it. */
export class MissingUploadError extends Error {
  constructor(readonly ref: UploadRef) {
    super(`This run was trained on the file "${ref.name}", which is too large to travel in a link. Choose that file to continue (it is checked against sha256 ${ref.hash.slice(0, 12)}…).`);
    this.name = 'MissingUploadError';
  }
}

/** The bytes of a run's uploaded data: inline from the link, or the file the user supplied; verified by sha256. */
export async function resolveUploadData(ref: UploadRef, supplied?: Uint8Array): Promise<Uint8Array> {
  let bytes: Uint8Array;
  let origin: string;
  if (ref.inline !== undefined) {
    try {
      bytes = inflateCapped(fromBase64Url(ref.inline), MAX_INLINE_DATA_BYTES, `The inline data "${ref.name}"`);
    } catch (e) {
      throw new ShareLinkError('tampered', `${(e as Error).message}. Ask for the link again.`, { cause: e });
    }
    origin = 'The data inside this link';
  } else if (supplied) {
    bytes = supplied;
    origin = 'The file you chose';
  } else {
    throw new MissingUploadError(ref);
  }
  const hash = await sha256Hex(bytes);
  if (hash !== ref.hash) {
    const code = ref.inline !== undefined ? 'tampered' : 'invalid-config';
    throw new ShareLinkError(code, `${origin} is not the data this run used: sha256 ${hash.slice(0, 12)}… ≠ ${ref.hash.slice(0, 12)}…. ${ref.inline !== undefined ? 'Ask for the link again.' : `Choose the original "${ref.name}".`}`);
  }
  return bytes;
}
