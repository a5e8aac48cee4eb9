/**
 * Opens a SQLite database file that belongs to this program and to this
 * process alone, or refuses it with a message that says what to do.
 *
 * - One process owns the file (`locking_mode=EXCLUSIVE`, taken at open): a
 *   second process on the same file is refused at open. With exclusive
 *   locking, WAL keeps its index in this process's memory: no `-shm` file.
 * - Nothing writes before the file is known to be ours. Setting WAL mode or
 *   `application_id` rewrites the header, so a damaged, foreign or newer file
 *   is checked through a read-only connection first (`PRAGMA quick_check`
 *   included) and refused byte for byte unchanged, and the `-wal`/`-shm`
 *   files that connection made are removed.
 * - WAL with `synchronous=NORMAL`: a commit is one append to the WAL and no
 *   fsync. That survives the process crashing at any point; only an OS crash
 *   or power loss can lose the last transactions (never corrupt the file).
 *
 * Deno 2.9's `node:sqlite` waits 5 s on a locked file by default and ignores
 * the `timeout` option, so the busy timeout is set with a pragma instead.
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { dirname, resolve } from "node:path";

/** The database file cannot be used: in use, damaged, foreign or too new. */
export class StoreOpenError extends Error {
  override name = "StoreOpenError";
}

/** Which file to open, and what makes it ours. */
export interface DatabaseFileSpec {
  /** The file; its directory is created when missing. */
  path: string;
  /** `PRAGMA application_id` marking the file as this program's. */
  applicationId: number;
  /** `PRAGMA user_version` this code writes; a newer file is refused. */
  schemaVersion: number;
  /** `CREATE … IF NOT EXISTS` statements, run in the opening transaction. */
  schema: string;
}

/** How long a write waits for a lock before the file counts as in use. */
const BUSY_TIMEOUT_MS = 100;

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/**
 * Opens (or creates) the database file and holds it exclusively until the
 * returned connection is closed.
 *
 * @throws {StoreOpenError} when the file is in use by another process,
 * damaged, another program's, or from a newer version; such a file is left
 * unchanged.
 */
export function openDatabaseFile(spec: DatabaseFileSpec): DatabaseSync {
  const file = { ...spec, path: resolve(spec.path) };
  createDirectory(file.path);
  if (holdsData(file.path)) checkExistingFile(file);
  return openForWriting(file);
}

/** Runs `work` in one write transaction, rolled back if it throws. */
export function transaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

/** Creates the database's directory when missing. */
function createDirectory(path: string): void {
  const dir = dirname(path);
  try {
    Deno.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw new StoreOpenError(
      `Could not create the directory ${dir} for the database ${path}: ${
        message(error)
      }. Create it, or set DATA_DIR to a writable directory.`,
      { cause: error },
    );
  }
}

/** True when the file exists and is not empty (an empty file is a new database). */
function holdsData(path: string): boolean {
  try {
    return Deno.statSync(path).size > 0;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw new StoreOpenError(
      `Could not read the database ${path}: ${
        message(error)
      }. Check its permissions, or set DATA_DIR to another directory.`,
      { cause: error },
    );
  }
}

/**
 * Checks, through a read-only connection, that an existing file is an
 * intact Wattcast database this code can read, and that no other process
 * holds it. Removes the `-wal`/`-shm` files that connection created.
 */
function checkExistingFile(spec: DatabaseFileSpec): void {
  const { path } = spec;
  const sidecars = ["-wal", "-shm"].filter((suffix) => !exists(path + suffix));
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { readOnly: true });
    // Deno's default is 5000 ms (and it ignores the `timeout` option): fail fast instead.
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const appId = pragma(db, "application_id");
    const version = pragma(db, "user_version");
    const tables = db.prepare(
      "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
    ).all().map((row) => row.name as string);
    if (appId !== spec.applicationId && (appId !== 0 || tables.length > 0)) {
      const owner = appId === 0
        ? `it holds tables (${tables.slice(0, 5).join(", ")}) but no Wattcast mark`
        : `its application_id is ${appId}, not Wattcast's ${spec.applicationId}`;
      throw new StoreOpenError(
        `The database ${path} belongs to another program (${owner}). Set DATA_DIR to another directory, or move the file away to start empty; Wattcast will not start over it.`,
      );
    }
    if (version > spec.schemaVersion) {
      throw new StoreOpenError(
        `The database ${path} was written by a newer Wattcast (schema version ${version}; this version knows up to ${spec.schemaVersion}). Upgrade Wattcast, or restore a backup made by this version; Wattcast will not start over it.`,
      );
    }
    const check = db.prepare("PRAGMA quick_check(1)").get()?.quick_check;
    if (check !== "ok") throw damaged(path, `quick_check: ${check}`);
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw openFailure(path, error);
  } finally {
    try {
      db?.close();
    } finally {
      for (const suffix of sidecars) removeCreatedSidecar(path + suffix);
    }
  }
}

/** Opens the file for writing, takes it exclusively, and brings the schema up to date. */
function openForWriting(spec: DatabaseFileSpec): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(spec.path);
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Before the first access: WAL then keeps its index in this process's
    // memory (no -shm file), and the first write takes a lock held until close.
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    const mode = db.prepare("PRAGMA journal_mode = WAL").get()?.journal_mode;
    if (mode !== "wal") throw new Error(`journal_mode stayed ${mode}, WAL could not be set`);
    db.exec("PRAGMA synchronous = NORMAL");
    const opened = db;
    transaction(opened, () => {
      opened.exec(spec.schema);
      opened.exec(`PRAGMA application_id = ${spec.applicationId}`);
      opened.exec(`PRAGMA user_version = ${spec.schemaVersion}`);
    });
    return opened;
  } catch (error) {
    try {
      db?.close();
    } catch {
      // The open failure below says what went wrong.
    }
    throw openFailure(spec.path, error);
  }
}

/** Explains a SQLite error met while opening the file. */
function openFailure(path: string, error: unknown): StoreOpenError {
  const code = (error as { errcode?: unknown })?.errcode;
  const primary = typeof code === "number" ? code & 0xff : undefined;
  const text = message(error);
  if (
    primary === SQLITE_BUSY || primary === SQLITE_LOCKED || /database is locked/i.test(text)
  ) {
    return new StoreOpenError(
      `The database ${path} is in use by another Wattcast process. Stop it, or set DATA_DIR to another directory.`,
      { cause: error },
    );
  }
  if (
    primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB ||
    /not a database|malformed/i.test(text)
  ) {
    return damaged(path, text, error);
  }
  return new StoreOpenError(
    `Could not open the database ${path}: ${text}. Check that the file and its directory are readable and writable by this user, or set DATA_DIR to another directory.`,
    { cause: error },
  );
}

/** The error for a file SQLite cannot read as an intact database. */
function damaged(path: string, detail: string, cause?: unknown): StoreOpenError {
  return new StoreOpenError(
    `The database ${path} is damaged or not a Wattcast database (${detail}). Restore it from a backup, or move it away to start empty; Wattcast will not start over it.`,
    { cause },
  );
}

/** Reads a numeric pragma, such as `user_version`. */
function pragma(db: DatabaseSync, name: string): number {
  return db.prepare(`PRAGMA ${name}`).get()![name] as number;
}

/** True when something exists at `path`. */
function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes a `-shm` the read-only check created, or a `-wal` it created
 * empty; a `-wal` holding data is another process's and stays.
 */
function removeCreatedSidecar(path: string): void {
  try {
    if (path.endsWith("-wal") && Deno.statSync(path).size > 0) return;
    Deno.removeSync(path);
  } catch {
    // Not created, or already gone.
  }
}

/** The message of a thrown value. */
function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
