/**
 * Where API key records live: a JSON file (`API_KEYS_FILE`, by default
 * `{DATA_DIR}/api_keys.json`) that `deno task keys` writes, and/or the
 * `API_KEYS` variable (the same JSON) for hosts with no disk. The file is
 * read again when it changes (checked at most once every few seconds, when
 * a key is presented), so keys created or revoked while the service runs
 * take effect without a restart.
 *
 * @module
 */
import { type ApiKeyRecord, apiKeyRecordProblem } from "./api_keys.ts";
import { logger } from "../logging/logging.ts";

const log = logger("auth");

/** Reads the records of a JSON text; `where` names it in errors. @throws {Error} */
export function parseKeyRecords(text: string, where: string): ApiKeyRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not valid JSON: it should be a list of API key records.`);
  }
  if (!Array.isArray(value)) throw new Error(`${where} should be a JSON list of API key records.`);
  for (const record of value) {
    const problem = apiKeyRecordProblem(record);
    if (problem) throw new Error(`An API key record in ${where} ${problem}.`);
  }
  return value as ApiKeyRecord[];
}

/** Reads the key file; an empty list when there is none. @throws {Error} */
export async function readKeyFile(path: string): Promise<ApiKeyRecord[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return parseKeyRecords(text, path);
}

/** Writes the key file whole (a temporary file renamed over it), readable by its owner only. */
export async function writeKeyFile(path: string, records: ApiKeyRecord[]): Promise<void> {
  const temp = `${path}.${crypto.randomUUID()}.tmp`;
  await Deno.writeTextFile(temp, `${JSON.stringify(records, null, 2)}\n`, { mode: 0o600 });
  await Deno.rename(temp, path);
}

/** The records in force, by id: the variable's and the file's. */
export interface KeyStore {
  get(id: string): Promise<ApiKeyRecord | undefined>;
  /** Records known now (for the start-up line: whether authentication is on). */
  count(): number;
  /** Records in force, the file read again first when it has changed. */
  size(): Promise<number>;
}

/** Opens the store; the file is read at once, and again when it has changed. */
export async function openKeyStore(
  options: { fromEnv: ApiKeyRecord[]; file: string | null; recheckMs?: number },
): Promise<KeyStore> {
  const byId = new Map<string, ApiKeyRecord>();
  let stamp: string | null = null;
  const fileStamp = async () => {
    try {
      const info = await Deno.stat(options.file!);
      return `${info.mtime?.getTime()}:${info.size}`;
    } catch {
      return null;
    }
  };
  const load = async () => {
    const fromFile = options.file ? await readKeyFile(options.file) : [];
    byId.clear();
    for (const record of [...fromFile, ...options.fromEnv]) byId.set(record.id, record);
  };
  if (options.file) stamp = await fileStamp();
  await load();
  let lastCheck = Date.now();
  const recheck = async () => {
    if (!options.file || Date.now() - lastCheck < (options.recheckMs ?? 2000)) return;
    lastCheck = Date.now();
    const now = await fileStamp();
    if (now === stamp) return;
    stamp = now;
    await load().catch((error) =>
      log.error("Could not read the API key file; the keys read before stay: {error}", { error })
    );
  };
  return {
    async get(id) {
      await recheck();
      return byId.get(id);
    },
    count: () => byId.size,
    async size() {
      await recheck();
      return byId.size;
    },
  };
}
