"""One kcl-rs (KCL 3 port) worker consuming a stream from kinesd, for tests/kcl_consumers.rs.

Usage: kcl_rs_consumer.py ENDPOINT STREAM APP WORKER_ID MODE OUT
  MODE is POLLING or FANOUT. Kinesis, DynamoDB (the lease table named APP) and CloudWatch all
  go to ENDPOINT. Every record handed to the processor is appended to OUT as one JSON line
  {"worker", "shard", "data"} and flushed before the batch is checkpointed, so a record in OUT
  that was not checkpointed is the only way a duplicate can appear. Lease events are written
  too ({"worker", "shard", "event"}: "lease" when a processor starts on a shard, "lease_lost"). The worker runs until SIGTERM, then shuts down gracefully
  (checkpointing what it processed) and exits 0.
"""
import json
import signal
import sys
import threading

from kcl_rs import RecordProcessorBase, Scheduler

endpoint, stream, app, worker, mode, out_path = sys.argv[1:7]
out = open(out_path, "a", buffering=1)
out_lock = threading.Lock()


def emit(entry):
    entry["worker"] = worker
    with out_lock:
        out.write(json.dumps(entry) + "\n")
        out.flush()


class Processor(RecordProcessorBase):
    def __init__(self):
        self.shard = None

    def initialize(self, initialize_input):
        self.shard = initialize_input.shard_id
        emit({"shard": self.shard, "event": "lease", "checkpoint": initialize_input.sequence_number})

    def process_records(self, process_records_input):
        for record in process_records_input.records:
            emit({"shard": self.shard, "data": record.binary_data.decode()})
        process_records_input.checkpointer.checkpoint()

    def lease_lost(self, lease_lost_input):
        emit({"shard": self.shard, "event": "lease_lost"})

    def shard_ended(self, shard_ended_input):
        shard_ended_input.checkpointer.checkpoint()

    def shutdown_requested(self, shutdown_requested_input):
        shutdown_requested_input.checkpointer.checkpoint()
        emit({"shard": self.shard, "event": "shutdown_requested"})


options = dict(
    stream_name=stream,
    application_name=app,
    record_processor_factory=Processor,
    worker_identifier=worker,
    region="us-east-1",
    endpoint_url=endpoint,
    access_key_id="x",
    secret_access_key="x",
    initial_position="TRIM_HORIZON",
    retrieval_mode=mode,
    shard_sync_interval_millis=5000,
)
if mode == "POLLING":
    options.update(idle_time_between_reads_millis=200)
scheduler = Scheduler(**options)
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
signal.signal(signal.SIGINT, lambda *_: stop.set())
scheduler.start()
emit({"event": "started"})
while not stop.wait(0.2):
    pass
scheduler.shutdown()
emit({"event": "stopped"})
