/**
 * Kafka for tests: a real broker when KAFKA_BROKERS is set, otherwise the
 * wire-protocol mock from tools/kafka-mock (librdkafka's mock cluster), which
 * needs no JVM or Docker.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Admin } from '@platformatic/kafka';
import { findRepoRoot } from '../runtime/repo-root.js';

export interface KafkaTestBroker {
  /** Bootstrap address list as one string, e.g. "127.0.0.1:41234". */
  brokers: string;
  /** The same list split for `bootstrapBrokers` options. */
  bootstrapBrokers: string[];
  stop(): Promise<void>;
}

export interface KafkaMock extends KafkaTestBroker {
  port: number;
  pid: number;
  /**
   * Makes the next `count` requests of Kafka API `apiKey` (0 = Produce) fail with broker error
   * `errorCode` (e.g. 10 MESSAGE_TOO_LARGE, 19 NOT_ENOUGH_REPLICAS); resolves once they are queued.
   */
  injectErrors(apiKey: number, count: number, errorCode: number): Promise<void>;
}

/** Kafka API keys and broker error codes the tests inject. */
export const KafkaApi = { produce: 0 } as const;
export const KafkaErrorCode = { messageTooLarge: 10, notEnoughReplicas: 19 } as const;

export interface KafkaMockOptions {
  /** Created up front: the mock does not implement CreateTopics. */
  topics: string[];
  /** Fixed listen port, e.g. to restart a broker at the same address; default any free port. */
  port?: number;
  /** Partitions per topic; default 3. */
  partitions?: number;
}

const STARTUP_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 3_000;
const DEFAULT_PARTITIONS = 3;

let built: Promise<string> | undefined;

/**
 * Builds the mock broker if needed and returns the binary's path. The first
 * build on a machine fetches and compiles librdkafka (~1 min on 2 cores), so
 * call it from a hook with a generous timeout; later calls are instant.
 */
export function ensureKafkaMockBuilt(): Promise<string> {
  built ??= (async () => {
    const root = findRepoRoot(dirname(fileURLToPath(import.meta.url)));
    const script = join(root, 'tools', 'kafka-mock', 'build.sh');
    try {
      const { stdout } = await promisify(execFile)('bash', [script]);
      return stdout.trim().split('\n').at(-1) ?? '';
    } catch (error) {
      built = undefined; // let a later call retry, e.g. after a network hiccup
      const stderr = (error as { stderr?: string }).stderr ?? '';
      throw new Error(`kafka-mock build failed: ${stderr || String(error)}`, { cause: error });
    }
  })();
  return built;
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (await waitForExit(child, STOP_GRACE_MS)) return;
  child.kill('SIGKILL');
  await waitForExit(child, STOP_GRACE_MS);
}

/** Resolves with the first stdout line (the bootstrap address) or rejects with the broker's stderr. */
function readBootstrapLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const fail = (why: string) => {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`kafka-mock: ${why}${err ? `: ${err.trim()}` : ''}`));
    };
    const onOut = (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf('\n');
      if (newline < 0) return;
      cleanup();
      resolve(out.slice(0, newline).trim());
    };
    const onErr = (chunk: Buffer) => {
      err += chunk.toString();
    };
    const onExit = (code: number | null, signal: string | null) => fail(`exited early (${signal ?? code})`);
    const onError = (error: Error) => fail(error.message);
    const timer = setTimeout(() => fail(`no address within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    function cleanup() {
      clearTimeout(timer);
      child.stdout?.off('data', onOut);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stdout?.on('data', onOut);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

/** Starts a one-broker mock cluster with `topics` created; `stop()` is idempotent. */
export async function startKafkaMock(opts: KafkaMockOptions): Promise<KafkaMock> {
  const bin = await ensureKafkaMockBuilt();
  const args = ['--partitions', String(opts.partitions ?? DEFAULT_PARTITIONS)];
  if (opts.port !== undefined) args.push('--port', String(opts.port));
  args.push('--', ...opts.topics);

  // stdin carries fault-injection commands (mock-broker.c), answered one line each on stdout.
  const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const brokers = await readBootstrapLine(child);
  // Keep draining so a chatty broker can never block on a full pipe.
  const answers: Array<(line: string) => void> = [];
  let pendingOut = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    pendingOut += chunk.toString();
    for (let newline = pendingOut.indexOf('\n'); newline >= 0; newline = pendingOut.indexOf('\n')) {
      const line = pendingOut.slice(0, newline).trim();
      pendingOut = pendingOut.slice(newline + 1);
      answers.shift()?.(line);
    }
  });
  child.stderr?.resume();

  const pid = child.pid;
  const port = Number(brokers.split(':').at(-1));
  if (pid === undefined || !Number.isInteger(port)) {
    await stopProcess(child);
    throw new Error(`kafka-mock: unexpected bootstrap line "${brokers}"`);
  }
  let stopped: Promise<void> | undefined;
  return {
    brokers,
    bootstrapBrokers: [brokers],
    port,
    pid,
    injectErrors(apiKey, count, errorCode) {
      return new Promise<void>((resolve, reject) => {
        answers.push((line) =>
          line === 'ok' ? resolve() : reject(new Error(`kafka-mock: injectErrors: ${line}`)),
        );
        child.stdin?.write(`errors ${apiKey} ${count} ${errorCode}\n`);
      });
    },
    stop: () => {
      stopped ??= stopProcess(child);
      return stopped;
    },
  };
}

/** Creates the topics a real broker lacks, so both modes of kafkaForTests behave alike. */
async function ensureTopics(bootstrapBrokers: string[], topics: string[], partitions: number): Promise<void> {
  const admin = new Admin({ clientId: 'k1s0-test-setup', bootstrapBrokers });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing, partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
}

/**
 * The Kafka tests should talk to: the real cluster in KAFKA_BROKERS
 * (comma-separated; `stop()` leaves it running) if set, else a fresh mock.
 */
export async function kafkaForTests(
  topics: string[],
  opts: { partitions?: number } = {},
): Promise<KafkaTestBroker> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (!fromEnv) return startKafkaMock({ topics, ...opts });

  const bootstrapBrokers = fromEnv.split(',').map((broker) => broker.trim());
  await ensureTopics(bootstrapBrokers, topics, opts.partitions ?? DEFAULT_PARTITIONS);
  return { brokers: bootstrapBrokers.join(','), bootstrapBrokers, stop: async () => {} };
}
