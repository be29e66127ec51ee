"""One async-kinesis consumer with its DynamoDB checkpointer, reading a stream from kinesd, for
tests/kcl_consumers.rs.

Usage: async_kinesis_consumer.py ENDPOINT STREAM APP WORKER_ID OUT
  Kinesis and DynamoDB (the checkpoint table `kinesis-checkpoints-APP`) both go to ENDPOINT.
  Every record the consumer yields is appended to OUT as a JSON line {"worker", "data"} before
  the consumer is asked for the next one; {"worker", "event": "lease", "shard"} when it first
  holds a shard (async-kinesis checkpoints a batch when the next item
  is requested, and flushes on close). Runs until SIGTERM, then closes the consumer, which
  writes its last checkpoints and releases its shards, and exits 0.
"""
import asyncio
import json
import signal
import sys

from kinesis import Consumer, StringProcessor
from kinesis.dynamodb import DynamoDBCheckPointer

endpoint, stream, app, worker, out_path = sys.argv[1:6]
out = open(out_path, "a", buffering=1)


def emit(entry):
    entry["worker"] = worker
    out.write(json.dumps(entry) + "\n")
    out.flush()


async def main():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    checkpointer = DynamoDBCheckPointer(
        name=app,
        id=worker,
        endpoint_url=endpoint,
        region_name="us-east-1",
        # A stopped worker's shards are free again after this long; a worker that closed
        # cleanly releases them at once.
        session_timeout=10,
        heartbeat_frequency=2,
    )
    async with Consumer(
        stream_name=stream,
        endpoint_url=endpoint,
        region_name="us-east-1",
        checkpointer=checkpointer,
        processor=StringProcessor(),
        iterator_type="TRIM_HORIZON",
        sleep_time_no_records=0.5,
        idle_timeout=0.5,
    ) as consumer:
        emit({"event": "started"})
        held = set()
        while not stop.is_set():
            async for item in consumer:
                emit({"data": item})
                if stop.is_set():
                    break
            if not stop.is_set():
                await asyncio.sleep(0.2)
            for shard in consumer.shards:
                shard_id = shard["ShardId"]
                if checkpointer.is_allocated(shard_id) and shard_id not in held:
                    held.add(shard_id)
                    emit({"event": "lease", "shard": shard_id})
    emit({"event": "stopped"})


asyncio.run(main())
