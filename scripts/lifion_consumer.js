// One lifion-kinesis consumer reading a stream from kinesd, for tests/kcl_consumers.rs.
//
// Usage: node lifion_consumer.js ENDPOINT STREAM GROUP WORKER_ID MODE OUT
//   MODE is POLLING or FANOUT (enhanced fan-out: RegisterStreamConsumer + SubscribeToShard).
//   Kinesis and DynamoDB (the state table `lifion-kinesis-state-GROUP`) both go to ENDPOINT.
//   Every record the consumer emits is appended to OUT as a JSON line {"worker", "shard",
//   "data"}, and {"worker", "event": "lease", "shard"} when it takes a shard's lease; lifion
//   checkpoints automatically once a batch is emitted. Runs until SIGTERM, then
//   stops the consumer (which writes no further checkpoint) and exits 0.
'use strict';

const fs = require('fs');
const path = require('path');

const [endpoint, streamName, consumerGroup, worker, mode, outPath] = process.argv.slice(2);
// lifion-kinesis is installed under target/lifion (see .ci/run); NODE_PATH may point elsewhere.
const Kinesis = require(
  require.resolve('lifion-kinesis', {
    paths: [process.env.LIFION_DIR || path.join(__dirname, '..', 'target', 'lifion')]
  })
);

const out = fs.openSync(outPath, 'a');
const emit = (entry) => fs.writeSync(out, `${JSON.stringify({ ...entry, worker })}\n`);
const aws = {
  accessKeyId: 'x',
  endpoint,
  region: 'us-east-1',
  secretAccessKey: 'x',
  sslEnabled: false
};
const debug = !!process.env.LIFION_DEBUG;
// lifion says which leases it takes only in its debug log: `Lease for "shardId-…" acquired.`
const noteLease = (message) => {
  const taken = /^Lease for "([^"]+)" acquired\./.exec(String(message));
  if (taken) emit({ event: 'lease', shard: taken[1] });
};
const consumer = new Kinesis({
  ...aws,
  consumerGroup,
  createStreamIfNeeded: false,
  dynamoDb: { ...aws, tableName: `lifion-kinesis-state-${consumerGroup}` },
  initialPositionInStream: 'TRIM_HORIZON',
  leaseAcquisitionInterval: 2000,
  leaseAcquisitionRecoveryInterval: 1000,
  logger: {
    debug: (...a) => {
      noteLease(a[0]);
      if (debug) console.error('debug', ...a);
    },
    error: (...a) => console.error('error', ...a),
    warn: (...a) => console.error('warn', ...a)
  },
  noRecordsPollDelay: 250,
  pollDelay: 100,
  shouldParseJson: false,
  streamName,
  useEnhancedFanOut: mode === 'FANOUT'
});

consumer.on('data', ({ records, shardId }) => {
  for (const record of records) emit({ data: record.data.toString(), shard: shardId });
});
consumer.on('error', (err) => console.error('consumer error', err));

const stop = () => {
  try {
    consumer.stopConsumer();
  } catch (err) {
    // lifion-kinesis 1.3.3's ConsumersManager.stop() reads `.stop` of every shard consumer it
    // lists, and one it dropped after a lease moved away can be undefined by then; the
    // process is exiting anyway, which is all a stop does here.
    console.error('lifion stopConsumer failed (a lifion-kinesis bug):', err.message);
  }
  emit({ event: 'stopped' });
  fs.closeSync(out);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

consumer
  .startConsumer()
  .then(() => emit({ event: 'started' }))
  .catch((err) => {
    console.error('start failed', err);
    process.exit(1);
  });
