// Loaded with `node --require` by tests/kcl_consumers.rs for lifion-kinesis's enhanced fan-out
// only (its polling runs unpatched). Two bugs of lifion-kinesis 1.3.3 keep its fan-out from
// working against any endpoint but AWS's own; neither is kinesd's, and this file is the
// smallest change that gets past them so the rest (its lease state in DynamoDB, consumer
// registration, SubscribeToShard over HTTP/1.1 signed by aws4) is tested for real:
//
// 1. The SubscribeToShard request is signed with aws4, which sets the request's host to
//    `kinesis.<region>.amazonaws.com` whatever `endpoint` says (got keeps the endpoint's port).
//    Here that name resolves to 127.0.0.1; kinesd is started with
//    `--allowed-host kinesis.us-east-1.amazonaws.com` so its DNS-rebinding defence lets the
//    Host through.
// 2. lifion-aws-event-stream's `Parser` assumes each chunk of the response starts a message
//    and holds at most one: it parses one message per chunk and reads the next length from the
//    next chunk, not from what it kept. Node hands a stream's buffered bytes over in one chunk
//    when they arrive together — the initial-response and the first event do, from kinesd,
//    when records are waiting — so the first event is lost and the next parse fails
//    ("Expected N bytes in the buffer but got M"). The parser below keeps the bytes and parses
//    every whole message in them.
'use strict';

const dns = require('dns');
const path = require('path');

const lookup = dns.lookup;
dns.lookup = function lookupAwsAsLocal(hostname, options, callback) {
  const local = /^kinesis\.[a-z0-9-]+\.amazonaws\.com$/.test(hostname);
  return lookup.call(this, local ? '127.0.0.1' : hostname, options, callback);
};

const lifion = path.dirname(
  require.resolve('lifion-kinesis/package.json', {
    paths: [process.env.LIFION_DIR || path.join(__dirname, '..', 'target', 'lifion')]
  })
);
const eventStream = require(require.resolve('lifion-aws-event-stream', { paths: [lifion] }));
const { parse, Parser } = eventStream;
Parser.prototype._transform = function transform(chunk, encoding, callback) {
  this.dataBuffer = Buffer.concat([this.dataBuffer, chunk]);
  while (this.dataBuffer.length >= 4) {
    const length = this.dataBuffer.readUInt32BE(0);
    if (this.dataBuffer.length < length) break;
    const message = this.dataBuffer.slice(0, length);
    this.dataBuffer = this.dataBuffer.slice(length);
    try {
      this.push(parse(message));
    } catch (err) {
      this.emit('error', err);
    }
  }
  callback();
};
