/**
 * `deno task keys`: creates, lists and revokes API keys. A new key is
 * printed once and stored only as a hash, in `API_KEYS_FILE` (by default
 * `{DATA_DIR}/api_keys.json`), which a running service reads again when it
 * changes. The record is printed too, for hosts that
 * take keys from the `API_KEYS` variable instead.
 *
 *     deno task keys create --name ci --scopes train,read --meters 'b1*'
 *     deno task keys list
 *     deno task keys revoke <id>
 *
 * @module
 */
import { parseArgs } from "node:util";
import { dirname } from "node:path";
import { createApiKey } from "../src/auth/api_keys.ts";
import { readKeyFile, writeKeyFile } from "../src/auth/key_store.ts";
import { parseScopes } from "../src/domain/principal.ts";

const USAGE = `Usage:
  deno task keys create --name <name> --scopes read,train,admin [--meters 'b1*,gas_*']
  deno task keys list
  deno task keys revoke <id>
Options: --file <path> (default: API_KEYS_FILE, or {DATA_DIR}/api_keys.json, DATA_DIR defaulting to ./data)`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      scopes: { type: "string" },
      meters: { type: "string" },
      file: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
const { values, positionals } = parsed;
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const file = values.file ?? Deno.env.get("API_KEYS_FILE") ??
  `${Deno.env.get("DATA_DIR") ?? "./data"}/api_keys.json`;
const [command, ...rest] = positionals;
const records = await readKeyFile(file).catch((error) => fail(String(error.message ?? error)));

if (command === "create") {
  if (!values.name) fail("create needs --name: who the key is for, shown in logs.");
  const scopes = parseScopes(values.scopes ?? "");
  if (!scopes || scopes.size === 0) {
    fail("create needs --scopes: one or more of read, train, admin.");
  }
  const meters = values.meters === undefined
    ? null
    : values.meters.split(",").map((m) => m.trim()).filter(Boolean);
  if (meters?.some((m) => !/^[A-Za-z0-9_*-]{1,64}$/.test(m))) {
    fail(
      "--meters takes meter id patterns (letters, digits, _, -, and * as a wildcard), comma-separated.",
    );
  }
  const { key, record } = await createApiKey({ name: values.name, scopes: [...scopes], meters });
  await Deno.mkdir(dirname(file), { recursive: true });
  await writeKeyFile(file, [...records, record]);
  console.log(
    `Created API key ${record.id} for "${record.name}" (${record.scopes.join(", ")}${
      meters ? `; meters ${meters.join(", ")}` : ""
    }), stored as a hash in ${file}.

  ${key}

This is the only time the key is shown: keep it now. Send it as "Authorization: Bearer <key>".
For a host with no disk, put this record in the API_KEYS variable (a JSON list) instead:
  ${JSON.stringify(record)}`,
  );
} else if (command === "list") {
  if (records.length === 0) console.log(`No API keys in ${file}.`);
  for (const r of records) {
    console.log(
      `${r.id}  ${r.name}  ${r.scopes.join(",")}  ${
        r.meters?.join(",") ?? "all meters"
      }  created ${r.created_at}`,
    );
  }
} else if (command === "revoke") {
  const id = rest[0];
  if (!id) fail("revoke needs the key's id (the 8 hex digits after wk_).");
  const kept = records.filter((r) => r.id !== id);
  if (kept.length === records.length) fail(`There is no key ${id} in ${file}.`);
  await writeKeyFile(file, kept);
  console.log(`Revoked API key ${id}. A running service refuses it within a few seconds.`);
} else {
  fail(command ? `Unknown command "${command}".` : "Give a command.");
}
