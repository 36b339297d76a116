/**
 * The cluster section of `npm run bench` (issue 13, docs/scaling.md): the S3 backend against the
 * local one and against the engine itself, and 1 against 3 servers behind haproxy.
 *
 *   large   store and get of one file of --size: fex on its local folder, fex on the object store
 *           (`--storage s3:// --state redis://`), and the AWS SDK alone on the same object store
 *           (parts of 8 MiB one at a time, as fex sends them, and 4 at a time, the SDK's own
 *           Upload default): the practical limit of that engine here
 *   small   1000 files of 1 KiB stored in one shell session, local and S3, against 1000
 *           PutObject calls of the SDK
 *   scale   aggregate throughput of 6 clients storing 64 MiB each at once through haproxy, in
 *           front of 1 and of 3 servers (every server on the same bucket and Redis)
 *
 * It uses the Redis and S3 endpoint of FEX_TEST_REDIS_URL / FEX_TEST_S3_ENDPOINT when set, or
 * starts its own with scripts/services.mjs (Debian's redis-server and Swift); haproxy is found
 * on the PATH. When one is missing the section says so and measures nothing.
 */
import {
  createReadStream,
  createWriteStream,
  linkSync,
  mkdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pipeline } from 'node:stream/promises';
import { register, runFex, startServer } from './lib/fex.mjs';
import { makeRandomFile } from './lib/files.mjs';
import { settle } from './lib/settle.mjs';
import { prettify } from './lib/report-markdown.mjs';
import { KiB, MiB, check, formatSize, log, median, round, sha256File } from './lib/util.mjs';

const PART = 8 * MiB;
const SCALE_CLIENTS = 6;

/** The engines: given by the environment, or started here. */
async function engines(root) {
  const services = await import(join(root, 'scripts', 'services.mjs'));
  const env = process.env;
  let started;
  if (!env.FEX_TEST_REDIS_URL || !env.FEX_TEST_S3_ENDPOINT) {
    log('cluster: starting Redis and Swift (scripts/services.mjs)');
    started = await services.startServices();
    for (const line of started.report) log(`cluster: ${line}`);
  }
  const redis = env.FEX_TEST_REDIS_URL ?? started?.env.FEX_TEST_REDIS_URL;
  const s3 = env.FEX_TEST_S3_ENDPOINT ?? started?.env.FEX_TEST_S3_ENDPOINT;
  const haproxy = env.FEX_TEST_HAPROXY ?? services.findProgram('haproxy');
  const missing = [
    !redis && 'Redis (apt-get install redis-server)',
    !s3 &&
      'an S3 server (apt-get install swift-proxy swift-account swift-container swift-object memcached)',
    !haproxy && 'haproxy (apt-get install haproxy)',
  ].filter(Boolean);
  return { redis, s3, haproxy, missing, stop: () => started?.stop() };
}

export async function clusterSection(opts, work) {
  const root = opts.root;
  const found = await engines(root);
  if (found.missing.length > 0) {
    await found.stop();
    const reason = `skipped: needs ${found.missing.join(', ')}`;
    log(`cluster: ${reason}`);
    return { skipped: reason };
  }
  const sdk = await import('@aws-sdk/client-s3');
  const { startBalancer } = await import(join(root, 'dist', 'test', 'helpers', 'cluster.js'));
  const kit = await import(join(root, 'dist', 'src', 'testing', 'kit.js'));
  const client = new sdk.S3Client({
    endpoint: found.s3,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test:tester', secretAccessKey: 'testing' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: found.s3,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test:tester',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
  const dir = join(work, 'cluster');
  mkdirSync(dir, { recursive: true });
  const runId = Date.now().toString(36);
  const buckets = [];
  const bucket = async () => {
    const name = `fex-bench-${runId}-${buckets.length}`;
    await client.send(new sdk.CreateBucketCommand({ Bucket: name }));
    buckets.push(name);
    return name;
  };
  const stops = [];
  const serve = async (label, args = []) => {
    const server = await startServer({
      root,
      dir: join(dir, `server-${label}`),
      home: join(dir, `server-home-${label}`),
      args,
    });
    stops.push(server.stop);
    return server;
  };
  const s3Args = (name, prefix) => [
    '--storage',
    `s3://${name}/fex`,
    '--s3-path-style',
    '--state',
    // A prefix of this run's own: a Redis given by the environment may hold earlier runs' keys.
    `${found.redis}/0?prefix=fex-bench-${runId}-${prefix}:`,
  ];
  try {
    const runs = opts.quick ? 1 : Math.min(opts.runs, 3);
    const result = { size: opts.size, runs, partSize: PART };
    const large = await largeRuns({ opts, dir, runs, serve, s3Args, bucket, client, sdk });
    result.large = large;
    const small = await smallRuns({ opts, dir, runs, serve, s3Args, bucket, client, sdk });
    result.small = small;
    result.scale = await scaleRuns({
      opts,
      dir,
      serve,
      s3Args,
      bucket,
      startBalancer,
      haproxy: found.haproxy,
    });
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, 'cluster.md'), clusterMarkdown(result));
    await prettify(join(opts.out, 'cluster.md'));
    log(`cluster: wrote ${join(opts.out, 'cluster.md')}`);
    return result;
  } finally {
    await Promise.all(stops.map((stop) => stop()));
    await kit.cleanup();
    for (const name of buckets) await emptyBucket(client, sdk, name).catch(() => undefined);
    client.destroy();
    await found.stop();
  }
}

/** MiB/s of `bytes` in `ms`. */
const rate = (bytes, ms) => round(bytes / MiB / (ms / 1000), 1);

async function largeRuns({ opts, dir, runs, serve, s3Args, bucket, client, sdk }) {
  const src = join(dir, 'large.bin');
  log(`cluster: writing a ${formatSize(opts.size)} random file`);
  await makeRandomFile(src, opts.size);
  const sum = await sha256File(src);
  const local = await serve('large-local');
  const s3Bucket = await bucket();
  const s3 = await serve('large-s3', s3Args(s3Bucket, 'large'));
  const home = join(dir, 'large-home');
  await register(opts.root, local, home, 'bench');
  await register(opts.root, s3, home, 'bench');
  const out = join(dir, 'large-back.bin');
  const samples = {};
  const add = (name, ms) => {
    (samples[name] ??= []).push(ms);
    log(`cluster: ${name} ${(ms / 1000).toFixed(2)} s (${rate(opts.size, ms)} MiB/s)`);
  };
  const fexPair = async (label, server) => {
    const at = ['--server', server.address];
    const stored = check(await runFex(opts.root, ['store', src, ...at], { home }), 'fex store');
    add(`fex ${label} store`, stored.ms);
    rmSync(out, { force: true });
    const got = check(
      await runFex(opts.root, ['get', 'large.bin', '-o', out, ...at], { home }),
      'fex get',
    );
    add(`fex ${label} get`, got.ms);
    if ((await sha256File(out)) !== sum)
      throw new Error(`fex ${label}: the file came back different`);
  };
  const sdkPair = async (label, parallel) => {
    const key = `sdk/${label}`;
    let t0 = performance.now();
    await sdkUpload(client, sdk, s3Bucket, key, src, parallel);
    add(`SDK ${label} upload`, performance.now() - t0);
    rmSync(out, { force: true });
    t0 = performance.now();
    const { Body } = await client.send(new sdk.GetObjectCommand({ Bucket: s3Bucket, Key: key }));
    await pipeline(Body, createWriteStream(out));
    add(`SDK ${label} download`, performance.now() - t0);
    if ((await sha256File(out)) !== sum)
      throw new Error(`SDK ${label}: the object came back different`);
    await client.send(new sdk.DeleteObjectCommand({ Bucket: s3Bucket, Key: key }));
  };
  for (let run = 1; run <= runs; run++) {
    log(`cluster: large run ${run}/${runs}`);
    // Rotated, so no contender always runs on a warmer (or busier) machine.
    const order = [
      () => fexPair('local', local),
      () => fexPair('S3', s3),
      () => sdkPair('parts 1 at a time', 1),
      () => sdkPair('parts 4 at a time', 4),
    ];
    for (let i = 0; i < order.length; i++) {
      await settle();
      await order[(i + run - 1) % order.length]();
    }
  }
  rmSync(out, { force: true });
  rmSync(src, { force: true });
  return Object.fromEntries(
    Object.entries(samples).map(([name, ms]) => [
      name,
      {
        medianS: round(median(ms) / 1000, 2),
        mibPerS: rate(opts.size, median(ms)),
        runsS: ms.map((m) => round(m / 1000, 2)),
      },
    ]),
  );
}

/** A multipart upload of the SDK alone, `parallel` parts of PART bytes in flight. */
async function sdkUpload(client, sdk, bucket, key, path, parallel) {
  const { UploadId } = await client.send(
    new sdk.CreateMultipartUploadCommand({ Bucket: bucket, Key: key }),
  );
  const parts = [];
  const inFlight = new Set();
  let number = 0;
  let pending = [];
  let pendingBytes = 0;
  const send = (body, partNumber) => {
    const sent = client
      .send(
        new sdk.UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: partNumber,
          Body: body,
        }),
      )
      .then(({ ETag }) => {
        parts.push({ ETag, PartNumber: partNumber });
        inFlight.delete(sent);
      });
    inFlight.add(sent);
    return sent;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: MiB })) {
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes < PART) continue;
    const body = Buffer.concat(pending);
    pending = [];
    pendingBytes = 0;
    void send(body, ++number);
    while (inFlight.size >= parallel) await Promise.race(inFlight);
  }
  if (pendingBytes > 0) void send(Buffer.concat(pending), ++number);
  await Promise.all(inFlight);
  parts.sort((a, b) => a.PartNumber - b.PartNumber);
  await client.send(
    new sdk.CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
}

async function smallRuns({ opts, dir, runs, serve, s3Args, bucket, client, sdk }) {
  const count = opts.files;
  const files = join(dir, 'small');
  mkdirSync(files, { recursive: true });
  const names = [];
  for (let i = 1; i <= count; i++) {
    const name = `f${String(i).padStart(5, '0')}.txt`;
    writeFileSync(join(files, name), Buffer.alloc(KiB, i % 251));
    names.push(name);
  }
  // A name has one owner, so each round stores into servers (and a bucket) of its own: a second
  // round's new handle would otherwise be refused every name the first round's handle owns.
  const serversOf = async (run) => {
    const s3Bucket = await bucket();
    return {
      s3Bucket,
      local: await serve(`small-local-${run}`),
      s3: await serve(`small-s3-${run}`, s3Args(s3Bucket, `small${run}`)),
    };
  };
  const samples = {};
  const add = (name, ms) => {
    (samples[name] ??= []).push(ms);
    log(`cluster: ${count} small files, ${name}: ${(ms / 1000).toFixed(2)} s`);
  };
  const shell = async (label, server, run) => {
    const script = [
      `/join 127.0.0.1 ${server.port}`,
      `/register ${label}${run}`,
      ...names.map((n) => `/store ${n}`),
      '/leave',
      '',
    ];
    const result = check(
      await runFex(opts.root, [], {
        home: join(dir, `small-home-${label}-${run}`),
        cwd: files,
        input: script.join('\n'),
        outputLimit: 64 << 20,
      }),
      'fex shell',
    );
    const uploaded = result.stdout.split('\n').filter((l) => / Uploaded /.test(l)).length;
    if (uploaded !== count) throw new Error(`fex ${label}: ${uploaded} of ${count} stored`);
    add(`fex ${label} (one shell session)`, result.ms);
  };
  const puts = async (bucketName, run) => {
    const t0 = performance.now();
    for (const name of names)
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: bucketName,
          Key: `sdk-${run}/${name}`,
          Body: Buffer.alloc(KiB, 1),
        }),
      );
    add('SDK PutObject, one after another', performance.now() - t0);
  };
  for (let run = 1; run <= runs; run++) {
    const { s3Bucket, local, s3 } = await serversOf(run);
    const order = [
      () => shell('local', local, run),
      () => shell('S3', s3, run),
      () => puts(s3Bucket, run),
    ];
    for (let i = 0; i < order.length; i++) {
      await settle();
      await order[(i + run - 1) % order.length]();
    }
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, ms]) => [
      name,
      { medianS: round(median(ms) / 1000, 2), filesPerS: round(count / (median(ms) / 1000), 0) },
    ]),
  );
}

async function scaleRuns({ opts, dir, serve, s3Args, bucket, startBalancer, haproxy }) {
  const each = opts.quick ? 16 * MiB : 64 * MiB;
  const src = join(dir, 'scale.bin');
  await makeRandomFile(src, each);
  // One name per client (a name has one owner): links to the one file.
  const copies = Array.from({ length: SCALE_CLIENTS }, (_, i) => {
    const copy = join(dir, `s${i}.bin`);
    linkSync(src, copy);
    return copy;
  });
  const result = { clients: SCALE_CLIENTS, bytesEach: each };
  for (const count of [1, 3]) {
    const s3Bucket = await bucket();
    const servers = [];
    for (let i = 0; i < count; i++)
      servers.push(await serve(`scale-${count}-${i}`, s3Args(s3Bucket, `scale-${count}`)));
    const balancer = await startBalancer(
      servers.map((server) => ({ port: server.port })),
      { haproxy },
    );
    try {
      const homes = Array.from({ length: SCALE_CLIENTS }, (_, i) =>
        join(dir, `scale-home-${count}-${i}`),
      );
      for (const [i, home] of homes.entries())
        await register(opts.root, { address: balancer.address }, home, `c${i}`);
      await settle();
      const t0 = performance.now();
      const results = await Promise.all(
        homes.map((home, i) =>
          runFex(opts.root, ['store', copies[i], '--server', balancer.address], { home }),
        ),
      );
      const ms = performance.now() - t0;
      results.forEach((r) => check(r, 'fex store'));
      const total = each * SCALE_CLIENTS;
      result[`${count} server${count > 1 ? 's' : ''}`] = {
        seconds: round(ms / 1000, 2),
        mibPerS: rate(total, ms),
      };
      log(
        `cluster: ${SCALE_CLIENTS} clients x ${formatSize(each)} through haproxy to ${count} server(s): ${rate(total, ms)} MiB/s`,
      );
    } finally {
      await balancer.stop();
      await Promise.all(servers.map((server) => server.stop()));
    }
  }
  for (const path of [src, ...copies]) rmSync(path, { force: true });
  return result;
}

async function emptyBucket(client, sdk, bucket) {
  const { Uploads = [] } = await client.send(
    new sdk.ListMultipartUploadsCommand({ Bucket: bucket }),
  );
  for (const u of Uploads)
    await client.send(
      new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }),
    );
  let token;
  do {
    const page = await client.send(
      new sdk.ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? [])
      await client.send(new sdk.DeleteObjectCommand({ Bucket: bucket, Key: item.Key }));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await client.send(new sdk.DeleteBucketCommand({ Bucket: bucket }));
}

/** The section's table, for bench/cluster.md and docs/scaling.md. */
export function clusterMarkdown(result) {
  if (result.skipped) return `# Cluster bench\n\n${result.skipped}\n`;
  const lines = [
    '# Cluster bench',
    '',
    `One file of ${formatSize(result.size)}, median of ${result.runs} run(s); parts of ${formatSize(result.partSize)}.`,
    '',
    '| large file | median | MiB/s |',
    '| --- | --- | --- |',
    ...Object.entries(result.large).map(
      ([name, s]) => `| ${name} | ${s.medianS} s | ${s.mibPerS} |`,
    ),
    '',
    '| small files | median | files/s |',
    '| --- | --- | --- |',
    ...Object.entries(result.small).map(
      ([name, s]) => `| ${name} | ${s.medianS} s | ${s.filesPerS} |`,
    ),
    '',
    `Aggregate: ${result.scale.clients} clients storing ${formatSize(result.scale.bytesEach)} each at once through haproxy.`,
    '',
    '| servers behind haproxy | time | MiB/s |',
    '| --- | --- | --- |',
    ...Object.entries(result.scale)
      .filter(([, v]) => typeof v === 'object')
      .map(([name, s]) => `| ${name} | ${s.seconds} s | ${s.mibPerS} |`),
    '',
  ];
  return lines.join('\n');
}
