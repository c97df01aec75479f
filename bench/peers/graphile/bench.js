#!/usr/bin/env node
// graphile-worker (0.17.x, pinned in package.json) on the local PostgreSQL,
// the peer of stask in bench/peers. Each command prints one JSON line.
//
//   node bench.js throughput --schema=S --jobs=N --procs=P --batched=0|1
//       queues N no-op jobs (add_jobs, 1,000 per call), then starts P worker
//       processes of concurrency 1 (-j1) that run until the queue is empty
//       (runOnce). batched=1: localQueue.size 500, completeJobBatchDelay 0;
//       batched=0: graphile's defaults (no local queue, one completion per job).
//       Rate = jobs / (last process's end - first process's start), each taken
//       inside the process around runOnce(), so Node's start-up is left out
//       (as PHP's is for stask); the spawn-to-exit wall rate is printed too.
//   node bench.js pickup --schema=S --samples=200
//       an idle worker (run(), -j1, no local queue, LISTEN/NOTIFY) in a child
//       process; this process adds one job at a time (addJob) 20-60 ms apart;
//       latency = job start in the worker - just before addJob here
//       (CLOCK_MONOTONIC of both processes).
//   node bench.js addjobs --schema=S --jobs=N --chunk=1000
//       bulk enqueue: addJobs() with `chunk` jobs per call.
//   node bench.js drop --schema=S      drops the schema (CASCADE)
//
// Connection: PG_URL (default postgres://postgres@127.0.0.1:5432/test). Every
// run uses its own schema (the caller picks a unique name) and nothing else.
"use strict";

const { fork } = require("child_process");
const { Pool } = require("pg");
const { run, runOnce, runMigrations, makeWorkerUtils, Logger } = require("graphile-worker");

const PG_URL = process.env.PG_URL || "postgres://postgres@127.0.0.1:5432/test";
const quiet = new Logger(() => (level, message) => {
  if (level === "error") process.stderr.write(`graphile: ${message}\n`);
});

function args() {
  const out = { _: [] };
  for (const a of process.argv.slice(2)) {
    const m = /^--([^=]+)=(.*)$/.exec(a);
    if (m) out[m[1]] = m[2];
    else out._.push(a);
  }
  return out;
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function workerOptions(schema, batched) {
  const preset = { worker: {} };
  if (batched) {
    preset.worker.localQueue = { size: 500 };
    preset.worker.completeJobBatchDelay = 0;
  }
  return {
    connectionString: PG_URL,
    schema,
    concurrency: 1,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: quiet,
    preset,
  };
}

function checkSchema(schema) {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema || "")) throw new Error(`bad --schema: ${schema}`);
  return schema;
}

async function enqueue(utils, n, chunk) {
  for (let i = 0; i < n; i += chunk) {
    const specs = [];
    for (let k = i; k < Math.min(n, i + chunk); k++) specs.push({ identifier: "noop", payload: { i: k } });
    await utils.addJobs(specs);
  }
}

async function countJobs(schema) {
  const pool = new Pool({ connectionString: PG_URL, max: 1 });
  try {
    const r = await pool.query(`SELECT count(*)::int AS n FROM ${schema}._private_jobs`);
    return r.rows[0].n;
  } finally {
    await pool.end();
  }
}

function child(cmd, extra) {
  return fork(__filename, [cmd, ...extra], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

function exitOf(p) {
  return new Promise((resolve) => p.on("exit", (code, signal) => resolve(code === null ? 128 : code)));
}

async function throughput(o) {
  const schema = checkSchema(o.schema);
  const n = Number(o.jobs || 20000);
  const procs = Number(o.procs || 1);
  const batched = o.batched === "1";
  await runMigrations({ connectionString: PG_URL, schema, logger: quiet });
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: quiet });
  try {
    await enqueue(utils, n, 1000);
  } finally {
    await utils.release();
  }
  if ((await countJobs(schema)) !== n) throw new Error(`expected ${n} queued jobs`);
  const windows = [];
  const t0 = nowMs();
  const kids = [];
  for (let i = 0; i < procs; i++) {
    const k = child("work", [`--schema=${schema}`, `--batched=${batched ? 1 : 0}`]);
    k.on("message", (m) => windows.push(m));
    kids.push(exitOf(k));
  }
  const codes = await Promise.all(kids);
  const wall = (nowMs() - t0) / 1000;
  if (codes.some((c) => c !== 0)) throw new Error(`worker exit codes ${codes}`);
  const left = await countJobs(schema);
  const done = windows.reduce((s, w) => s + w.jobs, 0);
  const start = Math.min(...windows.map((w) => w.start));
  const end = Math.max(...windows.map((w) => w.end));
  const secs = (end - start) / 1000;
  return { jobs: n, procs, batched, done, left, window_s: secs, per_s: (n - left) / secs, wall_per_s: (n - left) / wall };
}

async function work(o) {
  const schema = checkSchema(o.schema);
  const opts = workerOptions(schema, o.batched === "1");
  let jobs = 0;
  const taskList = { noop: async () => { jobs++; } };
  const start = nowMs();
  await runOnce(opts, taskList);
  const end = nowMs();
  await new Promise((resolve) => process.send({ start, end, jobs }, resolve));
}

async function pickupWorker(o) {
  const schema = checkSchema(o.schema);
  const taskList = {
    pickup: async (payload) => {
      process.send({ lat: nowMs() - payload.t });
    },
  };
  const runner = await run(workerOptions(schema, false), taskList);
  process.on("message", async (m) => {
    if (m === "stop") {
      await runner.stop();
      process.disconnect();
    }
  });
  process.send({ ready: true });
  await runner.promise;
}

async function pickup(o) {
  const schema = checkSchema(o.schema);
  const samples = Number(o.samples || 200);
  await runMigrations({ connectionString: PG_URL, schema, logger: quiet });
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: quiet });
  const lats = [];
  const k = child("pickup-worker", [`--schema=${schema}`]);
  const exited = exitOf(k);
  await new Promise((resolve) => k.on("message", (m) => (m.ready ? resolve() : lats.push(m.lat))));
  await sleep(500);
  try {
    for (let i = 0; i < samples; i++) {
      await utils.addJob("pickup", { t: nowMs() });
      await sleep(20 + Math.random() * 40);
    }
    await sleep(300);
  } finally {
    k.send("stop");
    await exited;
    await utils.release();
  }
  if (lats.length < samples) throw new Error(`only ${lats.length} of ${samples} pickups seen`);
  const s = [...lats].sort((a, b) => a - b);
  const pct = (p) => s[Math.floor(p * (s.length - 1))];
  return { samples: s.length, p50_ms: pct(0.5), p95_ms: pct(0.95) };
}

async function addjobs(o) {
  const schema = checkSchema(o.schema);
  const n = Number(o.jobs || 100000);
  const chunk = Number(o.chunk || 1000);
  await runMigrations({ connectionString: PG_URL, schema, logger: quiet });
  const utils = await makeWorkerUtils({ connectionString: PG_URL, schema, logger: quiet });
  try {
    const t = nowMs();
    await enqueue(utils, n, chunk);
    const secs = (nowMs() - t) / 1000;
    const have = await countJobs(schema);
    if (have !== n) throw new Error(`expected ${n} jobs, found ${have}`);
    await utils.withPgClient((c) => c.query(`DELETE FROM ${schema}._private_jobs`));
    return { jobs: n, chunk, per_s: n / secs };
  } finally {
    await utils.release();
  }
}

async function drop(o) {
  const schema = checkSchema(o.schema);
  const pool = new Pool({ connectionString: PG_URL, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await pool.end();
  }
  return { dropped: schema };
}

async function main() {
  const o = args();
  const cmd = o._[0];
  const commands = { throughput, work, "pickup-worker": pickupWorker, pickup, addjobs, drop };
  if (!commands[cmd]) throw new Error(`usage: node bench.js throughput|pickup|addjobs|drop --schema=S ...`);
  const out = await commands[cmd](o);
  if (out !== undefined) process.stdout.write(JSON.stringify(out) + "\n");
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench.js: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  }
);
