/**
 * Service configuration: parsed and validated once at start from the
 * environment. A bad value stops the process with a message naming the
 * variable.
 *
 * @module
 */
import { z } from "zod";
import type { ApiKeyRecord } from "./auth/api_keys.ts";
import type { JwtSettings } from "./auth/jwt.ts";
import { parseKeyRecords } from "./auth/key_store.ts";
import {
  DEFAULT_RETRY_SCHEDULE,
  parseRetrySchedule,
  type RetrySchedule,
} from "./webhooks/schedule.ts";
import { isSecret } from "./webhooks/message.ts";

const bool = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""], {
    error: "must be true or false (or 1/0, yes/no, on/off)",
  })
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

/** A whole number from `min` to `max`, its errors saying so. */
const int = (min: number, max: number) => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.coerce.number({ error: message }).int(message).min(min, message).max(max, message);
};

/** A number (seconds, days) from `min` to `max`, its errors saying so. */
const num = (min: number, max: number) => {
  const message = `must be a number from ${min} to ${max}`;
  return z.coerce.number({ error: message }).min(min, message).max(max, message);
};

const schema = z.object({
  PORT: int(0, 65535).default(8000),
  HTTP_SERVER: z.enum(["node", "deno"]).default("node"),
  STREAM_BUFFER_KB: int(4, 16_384).default(64),
  STREAM_GZIP: bool.default(true),
  MAX_CONNECTIONS: int(1, 1_000_000).optional(),
  MAX_STREAMS: int(1, 1_000_000).optional(),
  HEADERS_TIMEOUT_SECONDS: num(0.1, 600).default(10),
  REQUEST_TIMEOUT_SECONDS: num(0.1, 3600).default(60),
  KEEP_ALIVE_TIMEOUT_SECONDS: num(0.1, 600).default(5),
  HOST: z.string().min(1).default("0.0.0.0"),
  DEBUG: bool.default(false),
  DATA_DIR: z.string().min(1).default("./data"),
  HEARTBEAT_INTERVAL_SECONDS: num(0.05, 300).default(5),
  STREAM_MAX_SECONDS: num(1, 86_400).default(3600),
  TASK_TTL_SECONDS: int(1, 30 * 86_400).default(3600),
  TRAINING_CONCURRENCY: int(1, 64).default(1),
  SEED_DEMO_METERS: bool.default(true),
  READINGS_EARLIEST: z.iso.date({ error: "must be a date, YYYY-MM-DD" }).default("2000-01-01"),
  READINGS_MAX_DAYS_AHEAD: num(0, 366).default(2),
  CORS_ORIGIN: z.string().min(1).optional(),
  API_KEYS: z.string().min(1).optional(),
  API_KEYS_FILE: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  JWT_JWKS_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  JWT_CLOCK_SKEW_SECONDS: int(0, 600).default(30),
  STREAM_TOKEN_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  STREAM_TOKEN_AFTER_END_SECONDS: int(0, 7 * 86_400).default(3600),
  STREAM_TOKEN_MAX_SECONDS: int(60, 30 * 86_400).default(86_400),
  MAX_QUEUED_TASKS: int(1, 1_000_000).default(1000),
  MAX_QUEUED_TASKS_PER_PRINCIPAL: int(1, 1_000_000).default(100),
  UPSTASH_REDIS_REST_URL: z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })
    .optional(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1).optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: "must be a redis:// or rediss:// URL" })
    .optional(),
  GATEWAY_SCRIPTS: z.enum(["project", "any"]).default("project"),
  GATEWAY_READONLY_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  WORKER_CONCURRENCY: int(1, 64).default(1),
  WORKER_METRICS_PORT: int(0, 65535).optional(),
  SUBSCRIPTION_CHECK_SECONDS: num(0.1, 300).default(5),
  JOB_LEASE_SECONDS: num(1, 3600).default(30),
  JOB_MAX_ATTEMPTS: int(1, 100).default(3),
  WORKER_SHUTDOWN_GRACE_SECONDS: num(0, 3600).default(20),
  SHUTDOWN_GRACE_SECONDS: num(1, 3600).default(10),
  RATE_LIMIT_TRAIN_PER_MINUTE: int(0, 1_000_000).default(30),
  RATE_LIMIT_UPLOAD_PER_MINUTE: int(0, 1_000_000).default(60),
  RATE_LIMIT_FORECAST_PER_MINUTE: int(0, 1_000_000).default(120),
  RATE_LIMIT_STREAM_PER_MINUTE: int(0, 1_000_000).default(60),
  STREAM_LIMIT_PER_PRINCIPAL: int(0, 1_000_000).default(20),
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  LOG_FORMAT: z.enum(["json", "text"]).optional(),
  LOG_FILE: z.string().min(1).optional(),
  LOG_DIR: z.string().min(1).optional(),
  WEBHOOK_SECRET: z.string().refine(isSecret, {
    error:
      'must be a Standard Webhooks key, whsec_ and at least 16 base64 characters (README: "Notifications" says how to make one)',
  }).optional(),
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  WEBHOOK_RETRY_SCHEDULE: z.string().default(DEFAULT_RETRY_SCHEDULE).transform((text, ctx) => {
    try {
      return parseRetrySchedule(text);
    } catch (error) {
      ctx.issues.push({ code: "custom", message: (error as Error).message, input: text });
      return z.NEVER;
    }
  }),
  WEBHOOK_TIMEOUT_SECONDS: num(0.1, 60).default(10),
  WEBHOOK_POLL_SECONDS: num(0.05, 3600).default(30),
});

/** How notifications are sent (`WEBHOOK_*`). */
export interface WebhookSettings {
  /** The key per-task notifications are signed with; null: per-task notifications are refused (except slack). */
  secret: string | null;
  /** Send to loopback and private addresses too. */
  allowPrivate: boolean;
  /** Delays after each failed attempt. */
  schedule: RetrySchedule;
  /** Milliseconds an attempt waits for an answer. */
  timeoutMs: number;
  /** Milliseconds between looks for due deliveries at most, when none this process knows of is due sooner. */
  pollMs: number;
}

/** The validated configuration of one process. */
export interface Config {
  /** Port the HTTP server listens on (0 picks a free one). */
  port: number;
  /** Interface the HTTP server binds to. */
  host: string;
  /** `node` (Deno's node:http, the default: cheapest per open stream) or `deno` (`Deno.serve`). */
  httpServer: "node" | "deno";
  /** Unread bytes an event stream's client may leave before the stream waits for it (then drops it). */
  streamBufferBytes: number;
  /** Gzip event streams for clients that send `Accept-Encoding: gzip`. */
  streamGzip: boolean;
  /** Open connections at most (node server); null: the file-handle limit less a reserve. */
  maxConnections: number | null;
  /** Open event streams at most; null: nine in ten of the connections. */
  maxStreams: number | null;
  /** Milliseconds a client has to send a request's headers. */
  headersTimeoutMs: number;
  /** Milliseconds a request may go without activity once its headers are in. */
  requestTimeoutMs: number;
  /** Milliseconds an idle keep-alive connection is kept. */
  keepAliveTimeoutMs: number;
  /** Log request lines and internal errors in full. */
  debug: boolean;
  /** Directory where trained models are mirrored (`{dataDir}/models/...`); null: the broker only. */
  dataDir: string | null;
  /** Milliseconds between heartbeats on an idle event stream. */
  heartbeatMs: number;
  /** Milliseconds after which the server closes an event stream. */
  streamMaxMs: number;
  /** Seconds a finished task and its events are kept. */
  taskTtlSeconds: number;
  /** Jobs trained at once by one process. */
  trainingConcurrency: number;
  /** Seed the demo meters' readings at start when they are missing. */
  seedDemoMeters: boolean;
  /** Earliest reading timestamp accepted, epoch milliseconds. */
  readingsEarliest: number;
  /** Days after the server's clock a reading's timestamp may be (clock skew, time zones). */
  readingsMaxDaysAhead: number;
  /** Value of `Access-Control-Allow-Origin` (`*` or one origin); null: `*` while authentication is off, none once on. */
  corsOrigin: string | null;
  /** API key records from `API_KEYS` (JSON), for hosts with no disk. */
  apiKeys: ApiKeyRecord[];
  /** The API key file `deno task keys` writes; null when there is no data directory. */
  apiKeysFile: string | null;
  /** How JWTs from the team's identity provider are checked; null for no JWTs. */
  jwt: JwtSettings | null;
  /** The key stream tokens are signed with; null: made and kept in the data directory (or per process). */
  streamTokenSecret: string | null;
  /** Active training tasks (queued or training) there may be, in all and per principal. */
  queueBounds: { total: number; perPrincipal: number };
  /** Seconds after its task ends that a stream token still opens the stream, and at most. */
  streamTokenTimes: { afterEndSeconds: number; maxSeconds: number };
  /** The REST endpoint of Redis (Upstash, or this project's gateway). */
  redisRestUrl: string | null;
  /** Bearer token of the REST endpoint (and the token the gateway accepts). */
  redisRestToken: string | null;
  /** A Redis server to reach over RESP (the gateway's upstream). */
  redisUrl: string | null;
  /** Lua scripts the gateway runs: only Wattcast's own, or any. */
  gatewayScripts: "project" | "any";
  /** A token the gateway accepts for reads only; null for none. */
  gatewayReadOnlyToken: string | null;
  /** Jobs one worker process trains at once. */
  workerConcurrency: number;
  /** Port of a worker's own `/metrics` (on `HOST`; 0: any free port); null: no metrics server. */
  workerMetricsPort: number | null;
  /** Milliseconds a claimed job stays a worker's without a lease renewal. */
  jobLeaseMs: number;
  /** Deliveries of a job before its task fails. */
  jobMaxAttempts: number;
  /** Milliseconds a stopping worker gives its jobs to finish before handing them back. */
  workerShutdownGraceMs: number;
  /**
   * Milliseconds a stopping API process takes at most, from SIGTERM to exit:
   * its streams are told to reconnect and ended at once, requests in flight
   * get what is left; then it exits whatever is still open.
   */
  shutdownGraceMs: number;
  /** Quiet milliseconds after which the Redis subscription is checked with a ping. */
  subscriptionCheckMs: number;
  /**
   * Requests per minute per principal (per client address without
   * authentication), by kind: tasks started, readings uploads, forecasts,
   * event streams opened; 0 for no limit (`src/limits/rate_limits.ts`).
   */
  rateLimitsPerMinute: { train: number; upload: number; forecast: number; stream: number };
  /** Event streams one principal may hold open at once; 0 for no cap (`src/limits/stream_slots.ts`). */
  streamLimitPerPrincipal: number;
  /** The bearer token `GET /metrics` needs; null: open like `/health`. */
  metricsToken: string | null;
  /** How log lines are written; null: text on a terminal, JSON lines otherwise. */
  logFormat: "json" | "text" | null;
  /** A file that gets the same log lines (rotated); null for none. */
  logFile: string | null;
  /** A directory that gets the same log lines in one file a day; null for none. */
  logDir: string | null;
  /** Completion notifications. */
  webhooks: WebhookSettings;
}

/** Thrown when an environment variable has a bad value. */
export class ConfigError extends Error {
  /** Creates the error for one or more bad variables. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * Defaults on Deno Deploy: it serves what `Deno.serve` listens on, gives an
 * instance no disk to keep, and kills an instance 5 s after its SIGINT.
 */
export const DENO_DEPLOY_DEFAULTS: Readonly<Record<string, string>> = {
  HTTP_SERVER: "deno",
  DATA_DIR: "off",
  SHUTDOWN_GRACE_SECONDS: "4",
};

/**
 * Parses and validates the configuration from environment variables.
 * Empty values count as unset.
 *
 * @throws {ConfigError} naming every variable with a bad value.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
): Config {
  const input: Record<string, string> = {};
  // On Deno Deploy (which sets DENO_DEPLOY=true) the defaults suit it:
  // Deno.serve, no data directory, and a stop within its 5 s after SIGINT.
  if (env.DENO_DEPLOY?.trim() === "true") Object.assign(input, DENO_DEPLOY_DEFAULTS);
  for (const key of Object.keys(schema.shape)) {
    const value = env[key]?.trim();
    if (value) input[key] = value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      return `  ${name}=${JSON.stringify(input[name])}: ${issue.message}`;
    });
    throw new ConfigError(
      `Invalid configuration; fix these environment variables and start again:\n${
        lines.join("\n")
      }`,
    );
  }
  const c = parsed.data;
  let apiKeys: ApiKeyRecord[] = [];
  try {
    if (c.API_KEYS) apiKeys = parseKeyRecords(c.API_KEYS, "API_KEYS");
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: ${
        (error as Error).message
      } Make records with deno task keys create, or leave API_KEYS unset.`,
    );
  }
  if (c.UPSTASH_REDIS_REST_URL && !c.UPSTASH_REDIS_REST_TOKEN) {
    throw new ConfigError(
      "Invalid configuration: UPSTASH_REDIS_REST_URL is set but UPSTASH_REDIS_REST_TOKEN is not; set both (from the Upstash console, or the token your gateway uses).",
    );
  }
  return {
    port: c.PORT,
    host: c.HOST,
    httpServer: c.HTTP_SERVER,
    streamBufferBytes: c.STREAM_BUFFER_KB * 1024,
    streamGzip: c.STREAM_GZIP,
    maxConnections: c.MAX_CONNECTIONS ?? null,
    maxStreams: c.MAX_STREAMS ?? null,
    headersTimeoutMs: Math.round(c.HEADERS_TIMEOUT_SECONDS * 1000),
    requestTimeoutMs: Math.round(c.REQUEST_TIMEOUT_SECONDS * 1000),
    keepAliveTimeoutMs: Math.round(c.KEEP_ALIVE_TIMEOUT_SECONDS * 1000),
    debug: c.DEBUG,
    dataDir: c.DATA_DIR === "off" ? null : c.DATA_DIR,
    heartbeatMs: Math.round(c.HEARTBEAT_INTERVAL_SECONDS * 1000),
    streamMaxMs: Math.round(c.STREAM_MAX_SECONDS * 1000),
    taskTtlSeconds: c.TASK_TTL_SECONDS,
    trainingConcurrency: c.TRAINING_CONCURRENCY,
    seedDemoMeters: c.SEED_DEMO_METERS,
    readingsEarliest: Date.parse(`${c.READINGS_EARLIEST}T00:00:00Z`),
    readingsMaxDaysAhead: c.READINGS_MAX_DAYS_AHEAD,
    corsOrigin: c.CORS_ORIGIN ?? null,
    apiKeys,
    apiKeysFile: c.API_KEYS_FILE ??
      (c.DATA_DIR === "off" ? null : `${c.DATA_DIR.replace(/\/+$/, "")}/api_keys.json`),
    jwt: c.JWT_SECRET || c.JWT_JWKS_URL
      ? {
        secret: c.JWT_SECRET ?? null,
        jwksUrl: c.JWT_JWKS_URL ?? null,
        issuer: c.JWT_ISSUER ?? null,
        audience: c.JWT_AUDIENCE ?? null,
        clockToleranceSeconds: c.JWT_CLOCK_SKEW_SECONDS,
      }
      : null,
    streamTokenSecret: c.STREAM_TOKEN_SECRET ?? null,
    queueBounds: { total: c.MAX_QUEUED_TASKS, perPrincipal: c.MAX_QUEUED_TASKS_PER_PRINCIPAL },
    streamTokenTimes: {
      afterEndSeconds: c.STREAM_TOKEN_AFTER_END_SECONDS,
      maxSeconds: c.STREAM_TOKEN_MAX_SECONDS,
    },
    redisRestUrl: c.UPSTASH_REDIS_REST_URL?.replace(/\/+$/, "") ?? null,
    redisRestToken: c.UPSTASH_REDIS_REST_TOKEN ?? null,
    redisUrl: c.REDIS_URL ?? null,
    gatewayScripts: c.GATEWAY_SCRIPTS,
    gatewayReadOnlyToken: c.GATEWAY_READONLY_TOKEN ?? null,
    workerConcurrency: c.WORKER_CONCURRENCY,
    workerMetricsPort: c.WORKER_METRICS_PORT ?? null,
    jobLeaseMs: Math.round(c.JOB_LEASE_SECONDS * 1000),
    jobMaxAttempts: c.JOB_MAX_ATTEMPTS,
    workerShutdownGraceMs: Math.round(c.WORKER_SHUTDOWN_GRACE_SECONDS * 1000),
    shutdownGraceMs: Math.round(c.SHUTDOWN_GRACE_SECONDS * 1000),
    subscriptionCheckMs: Math.round(c.SUBSCRIPTION_CHECK_SECONDS * 1000),
    rateLimitsPerMinute: {
      train: c.RATE_LIMIT_TRAIN_PER_MINUTE,
      upload: c.RATE_LIMIT_UPLOAD_PER_MINUTE,
      forecast: c.RATE_LIMIT_FORECAST_PER_MINUTE,
      stream: c.RATE_LIMIT_STREAM_PER_MINUTE,
    },
    streamLimitPerPrincipal: c.STREAM_LIMIT_PER_PRINCIPAL,
    metricsToken: c.METRICS_TOKEN ?? null,
    logFormat: c.LOG_FORMAT ?? null,
    logFile: c.LOG_FILE ?? null,
    logDir: c.LOG_DIR ?? null,
    webhooks: {
      secret: c.WEBHOOK_SECRET ?? null,
      allowPrivate: c.WEBHOOK_ALLOW_PRIVATE,
      schedule: c.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: Math.round(c.WEBHOOK_TIMEOUT_SECONDS * 1000),
      pollMs: Math.round(c.WEBHOOK_POLL_SECONDS * 1000),
    },
  };
}
