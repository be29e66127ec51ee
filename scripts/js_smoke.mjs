#!/usr/bin/env node
// Smoke test of a running kinesd with the AWS SDK for JavaScript v3 (@aws-sdk/client-kinesis).
//
//   node scripts/js_smoke.mjs http://127.0.0.1:4567
//
// An https:// endpoint works too: trust kinesd's CA with NODE_EXTRA_CA_CERTS=<ca.pem>.
// The SDK is loaded from KINESD_JS_CLIENT_DIR (default: <repo>/target/js-client), installed with
//   npm install --prefix target/js-client @aws-sdk/client-kinesis @smithy/node-http-handler
// The Kinesis client's default request handler is NodeHttp2Handler: on an http:// endpoint that
// is cleartext HTTP/2 with prior knowledge (h2c), one session per request, and the SDK sends
// GOAWAY as soon as it has the response headers. This script keeps that default, asserts it, and
// checks every response body still arrives.
// Exits non-zero with a message on the first mismatch; prints `js smoke: OK ...` at the end.

import http2 from "node:http2";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const started = Date.now();
let checks = 0;

function fail(msg) {
  console.error(`js smoke: FAIL: ${msg}`);
  process.exit(1);
}
function check(cond, msg) {
  checks += 1;
  if (!cond) fail(typeof msg === "function" ? msg() : msg);
}
function checkEq(what, expected, actual) {
  const e = JSON.stringify(expected);
  const a = JSON.stringify(actual);
  check(e === a, () => `${what}: expected ${e}, got ${a}`);
}
function step(msg) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(2).padStart(6)}s] ${msg}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (bytes) => Buffer.from(bytes).toString("latin1");

const endpoint = process.argv[2];
if (!endpoint) {
  console.error("usage: js_smoke.mjs ENDPOINT");
  process.exit(2);
}
// Never hang a test run.
setTimeout(() => fail("timed out after 90 s"), 90_000).unref();

const here = path.dirname(fileURLToPath(import.meta.url));
const clientDir = process.env.KINESD_JS_CLIENT_DIR || path.join(here, "..", "target", "js-client");
const require = createRequire(path.join(path.resolve(clientDir), "package.json"));
let sdk, sdkVersion;
try {
  sdk = require("@aws-sdk/client-kinesis");
  require("@smithy/node-http-handler"); // what the default handler comes from
  sdkVersion = require("@aws-sdk/client-kinesis/package.json").version;
} catch (e) {
  console.error(`js smoke: FAIL: cannot load the SDK from ${clientDir}: ${e.message}`);
  process.exit(2);
}

// Watch the HTTP/2 sessions the SDK opens: every one must be h2c on http://, h2 on https://.
const sessions = { opened: 0, protocols: new Set() };
const realConnect = http2.connect;
http2.connect = function (...args) {
  const session = realConnect.apply(this, args);
  sessions.opened += 1;
  session.once("connect", () => sessions.protocols.add(session.alpnProtocol));
  return session;
};

// The SDK warns on Node < 22 (from 2027); that is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
for (const v of ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]) {
  delete process.env[v];
}
const client = new sdk.KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "smoke-akid", secretAccessKey: "smoke-secret" },
  maxAttempts: 1,
});
const send = (Command, input, options) => client.send(new Command(input), options);

async function expectError(name, Command, input, message) {
  try {
    const out = await send(Command, input);
    fail(`${Command.name}: expected ${name}, got success ${JSON.stringify(out)}`);
  } catch (e) {
    checkEq(`${Command.name} error name`, name, e.name);
    check(e instanceof sdk[name], `${Command.name}: error is not an instance of ${name}`);
    checkEq(`${Command.name} HTTP status`, 400, e.$metadata?.httpStatusCode);
    if (message !== undefined) checkEq(`${Command.name} error message`, message, e.message);
  }
}

async function waitActive(name) {
  for (let i = 0; i < 60; i++) {
    const s = await send(sdk.DescribeStreamSummaryCommand, { StreamName: name });
    if (s.StreamDescriptionSummary?.StreamStatus === "ACTIVE") return s.StreamDescriptionSummary;
    await sleep(500);
  }
  fail(`stream ${name} never became ACTIVE`);
}

try {
  const handler = client.config.requestHandler;
  step(`client-kinesis ${sdkVersion}, handler ${handler?.constructor?.name}, node ${process.version}`);
  checkEq("default request handler", "NodeHttp2Handler", handler?.constructor?.name);
  checkEq("handler protocol", "h2", handler?.metadata?.handlerProtocol);

  const run = `js-${process.pid}`;
  const stream = `${run}-main`;
  const arn = `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}`;

  step(`createStream ${stream}`);
  const created = await send(sdk.CreateStreamCommand, { StreamName: stream, ShardCount: 2 });
  checkEq("createStream status", 200, created.$metadata.httpStatusCode);
  let summary = await waitActive(stream);
  checkEq("summary StreamARN", arn, summary.StreamARN);
  checkEq("summary OpenShardCount", 2, summary.OpenShardCount);
  checkEq("summary RetentionPeriodHours", 24, summary.RetentionPeriodHours);
  check(
    summary.StreamCreationTimestamp instanceof Date &&
      Math.abs(summary.StreamCreationTimestamp.getTime() - Date.now()) < 120_000,
    () => `StreamCreationTimestamp ${summary.StreamCreationTimestamp} not about now`,
  );

  step("putRecord / putRecords");
  const expected = new Map(); // data (latin1) -> partition key
  const put = await send(sdk.PutRecordCommand, {
    StreamName: stream,
    PartitionKey: "pk-0",
    Data: Buffer.from("js-record-0"),
  });
  check(/^shardId-\d{12}$/.test(put.ShardId ?? ""), () => `putRecord ShardId ${put.ShardId}`);
  check(/^\d+$/.test(put.SequenceNumber ?? ""), () => `putRecord SequenceNumber ${put.SequenceNumber}`);
  expected.set("js-record-0", "pk-0");
  const entries = [];
  for (let i = 1; i <= 8; i++) {
    entries.push({ Data: Buffer.from(`js-record-${i}`), PartitionKey: `pk-${i}` });
  }
  entries.push({ Data: Uint8Array.from([0, 255, 10, 13, 128]), PartitionKey: "binary" });
  const puts = await send(sdk.PutRecordsCommand, { StreamName: stream, Records: entries });
  checkEq("putRecords FailedRecordCount", 0, puts.FailedRecordCount);
  checkEq("putRecords result count", entries.length, puts.Records?.length);
  for (const r of puts.Records) check(r.SequenceNumber && !r.ErrorCode, () => `putRecords entry ${JSON.stringify(r)}`);
  for (const e of entries) expected.set(text(e.Data), e.PartitionKey);

  step("listShards / getShardIterator / getRecords");
  const shards = (await send(sdk.ListShardsCommand, { StreamName: stream })).Shards;
  checkEq("listShards ids", ["shardId-000000000000", "shardId-000000000001"], shards?.map((s) => s.ShardId));
  const half = (1n << 127n).toString();
  checkEq("shard 1 StartingHashKey", half, shards[1].HashKeyRange?.StartingHashKey);
  const got = new Map();
  for (const s of shards) {
    const it = await send(sdk.GetShardIteratorCommand, {
      StreamName: stream,
      ShardId: s.ShardId,
      ShardIteratorType: "TRIM_HORIZON",
    });
    check(typeof it.ShardIterator === "string" && it.ShardIterator.length > 0, () => `getShardIterator: ${JSON.stringify(it)}`);
    const out = await send(sdk.GetRecordsCommand, { ShardIterator: it.ShardIterator });
    // The SDK sent GOAWAY before reading this body: an empty object means the server dropped it.
    check(Array.isArray(out.Records), () => `getRecords without Records (body lost?): ${JSON.stringify(out)}`);
    check(typeof out.NextShardIterator === "string", () => `getRecords without NextShardIterator: ${JSON.stringify(out)}`);
    check(typeof out.MillisBehindLatest === "number", () => `getRecords without MillisBehindLatest: ${JSON.stringify(out)}`);
    for (const r of out.Records) {
      check(r.Data instanceof Uint8Array, "record Data is not bytes");
      check(r.ApproximateArrivalTimestamp instanceof Date, "record timestamp is not a Date");
      got.set(text(r.Data), r.PartitionKey);
    }
  }
  checkEq(
    "records read back (data -> partition key)",
    [...expected.entries()].sort(),
    [...got.entries()].sort(),
  );

  // A body far beyond HTTP/2's 64 KiB initial window, still read after the client's GOAWAY.
  step("large getRecords body after GOAWAY");
  const big = [];
  for (let i = 0; i < 8; i++) big.push({ Data: Buffer.alloc(200_000, 65 + i), PartitionKey: "big" });
  const bigPut = await send(sdk.PutRecordsCommand, { StreamName: stream, Records: big });
  checkEq("big putRecords FailedRecordCount", 0, bigPut.FailedRecordCount);
  const bigIt = await send(sdk.GetShardIteratorCommand, {
    StreamName: stream,
    ShardId: bigPut.Records[0].ShardId,
    ShardIteratorType: "AT_SEQUENCE_NUMBER",
    StartingSequenceNumber: bigPut.Records[0].SequenceNumber,
  });
  const bigOut = await send(sdk.GetRecordsCommand, { ShardIterator: bigIt.ShardIterator });
  checkEq(
    "big records read back (lengths, first byte)",
    big.map((r) => [r.Data.length, r.Data[0]]),
    (bigOut.Records ?? []).map((r) => [r.Data.length, r.Data[0]]),
  );

  // AT_TIMESTAMP: the SDK sends the Date as epoch seconds with milliseconds.
  const atTs = await send(sdk.GetShardIteratorCommand, {
    StreamName: stream,
    ShardId: bigPut.Records[0].ShardId,
    ShardIteratorType: "AT_TIMESTAMP",
    Timestamp: new Date(bigOut.Records[0].ApproximateArrivalTimestamp.getTime()),
  });
  const atTsOut = await send(sdk.GetRecordsCommand, { ShardIterator: atTs.ShardIterator, Limit: 10 });
  check(
    atTsOut.Records.some((r) => r.SequenceNumber === bigPut.Records[0].SequenceNumber),
    () => `AT_TIMESTAMP at a record's arrival time does not return it`,
  );

  summary = (await send(sdk.DescribeStreamSummaryCommand, { StreamName: stream })).StreamDescriptionSummary;
  checkEq("describeStreamSummary StreamName", stream, summary?.StreamName);
  checkEq("describeStreamSummary StreamModeDetails", { StreamMode: "PROVISIONED" }, summary?.StreamModeDetails);

  step("registerStreamConsumer / describeStreamConsumer");
  const consumerName = `${run}-consumer`;
  const reg = await send(sdk.RegisterStreamConsumerCommand, { StreamARN: arn, ConsumerName: consumerName });
  const consumerArn = reg.Consumer?.ConsumerARN;
  check(consumerArn?.startsWith(`${arn}/consumer/${consumerName}:`), () => `ConsumerARN ${consumerArn}`);
  let consumer;
  for (let i = 0; i < 60; i++) {
    consumer = (await send(sdk.DescribeStreamConsumerCommand, { ConsumerARN: consumerArn })).ConsumerDescription;
    if (consumer?.ConsumerStatus === "ACTIVE") break;
    await sleep(500);
  }
  checkEq("consumer status", "ACTIVE", consumer?.ConsumerStatus);

  // Subscribe to the shard that holds js-record-0 (and whatever else hashed there).
  const target = put.ShardId;
  const targetIt = await send(sdk.GetShardIteratorCommand, {
    StreamName: stream,
    ShardId: target,
    ShardIteratorType: "TRIM_HORIZON",
  });
  const onTarget = (await send(sdk.GetRecordsCommand, { ShardIterator: targetIt.ShardIterator })).Records.map((r) =>
    text(r.Data),
  );
  check(onTarget.includes("js-record-0"), () => `shard ${target} lacks js-record-0: ${JSON.stringify(onTarget)}`);

  step(`subscribeToShard ${target} (HTTP/2 event stream)`);
  const abort = new AbortController();
  const sub = await send(
    sdk.SubscribeToShardCommand,
    { ConsumerARN: consumerArn, ShardId: target, StartingPosition: { Type: "TRIM_HORIZON" } },
    { abortSignal: abort.signal },
  );
  checkEq("subscribeToShard status", 200, sub.$metadata.httpStatusCode);
  check(sub.EventStream && typeof sub.EventStream[Symbol.asyncIterator] === "function", "no EventStream");
  const seen = [];
  let events = 0;
  let livePut = null;
  let continuation;
  const hashKey = shards.find((s) => s.ShardId === target).HashKeyRange.StartingHashKey;
  const deadline = Date.now() + 40_000;
  try {
    for await (const ev of sub.EventStream) {
      events += 1;
      const e = ev.SubscribeToShardEvent;
      check(e, () => `unexpected event ${JSON.stringify(Object.keys(ev))}`);
      check(typeof e.ContinuationSequenceNumber === "string" && typeof e.MillisBehindLatest === "number",
        () => `event missing fields: ${JSON.stringify(e)}`);
      continuation = e.ContinuationSequenceNumber;
      for (const r of e.Records ?? []) {
        check(r.ApproximateArrivalTimestamp instanceof Date, "event record timestamp is not a Date");
        seen.push(text(r.Data));
      }
      if (!livePut && onTarget.every((d) => seen.includes(d))) {
        livePut = await send(sdk.PutRecordCommand, {
          StreamName: stream,
          PartitionKey: "live",
          ExplicitHashKey: hashKey,
          Data: Buffer.from("js-live"),
        });
        checkEq("live put shard", target, livePut.ShardId);
      }
      if (seen.includes("js-live") || Date.now() > deadline || events > 20) break;
    }
  } finally {
    abort.abort();
  }
  checkEq("records before the subscription, in order", onTarget, seen.filter((d) => d !== "js-live"));
  check(seen.includes("js-live"), () => `record put during the subscription never arrived (${events} events, seen ${JSON.stringify(seen)})`);
  check(/^\d+$/.test(continuation ?? ""), () => `ContinuationSequenceNumber ${continuation}`);
  step(`  ${events} events, ${seen.length} records`);

  // A second subscription of the same consumer and shard within 5 s is refused.
  await expectError("ResourceInUseException", sdk.SubscribeToShardCommand, {
    ConsumerARN: consumerArn,
    ShardId: target,
    StartingPosition: { Type: "LATEST" },
  });

  step("errors");
  const missing = `${run}-missing`;
  await expectError(
    "ResourceNotFoundException",
    sdk.DescribeStreamSummaryCommand,
    { StreamName: missing },
    `Stream ${missing} under account 000000000000 not found.`,
  );
  await expectError("InvalidArgumentException", sdk.GetRecordsCommand, { ShardIterator: "AAAAAAAAAAFnotreal" }, "Invalid ShardIterator.");

  step("deleteStream");
  await send(sdk.DeleteStreamCommand, { StreamName: stream, EnforceConsumerDeletion: true });
  let gone = false;
  for (let i = 0; i < 60 && !gone; i++) {
    try {
      await send(sdk.DescribeStreamSummaryCommand, { StreamName: stream });
      await sleep(500);
    } catch (e) {
      if (e.name !== "ResourceNotFoundException") throw e;
      gone = true;
    }
  }
  check(gone, "stream still exists after deleteStream");
  const listed = await send(sdk.ListStreamsCommand, {});
  check(Array.isArray(listed.StreamNames) && !listed.StreamNames.includes(stream), () => `listStreams: ${JSON.stringify(listed)}`);

  check(sessions.opened > 0, "no HTTP/2 session was opened");
  // h2c (prior knowledge) on http://, h2 by ALPN on https://.
  const wantProtocol = endpoint.startsWith("https:") ? "h2" : "h2c";
  checkEq("protocols of the SDK's sessions", [wantProtocol], [...sessions.protocols]);
  client.destroy();
  console.log(
    `js smoke: OK (${checks} checks, @aws-sdk/client-kinesis ${sdkVersion}, ` +
      `${sessions.opened} ${wantProtocol} sessions, ${((Date.now() - started) / 1000).toFixed(1)}s)`,
  );
  process.exit(0);
} catch (e) {
  fail(`unexpected error: ${e?.name}: ${e?.message}\n${e?.stack}\n$metadata=${JSON.stringify(e?.$metadata)}`);
}
