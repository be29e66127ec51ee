"""Drives kinesd's web console in headless Chromium (Selenium + Debian's chromedriver).

Usage: console_browser.py ENDPOINT SCREENSHOT_DIR

Creates a stream from the page, splits a shard and watches the hash-key bar change, puts records
with boto3 (a plain one, one whose partition key is markup, and a KPL aggregate built here with
a real protobuf encoding and MD5) and expects each in the live tail within a second, uses the
put form, pause and the filter, deletes a stream, checks that another origin cannot call the
API, and writes screenshots of every page at 1280x800 and at phone width. Exits non-zero on
the first failed check.
"""

import base64
import hashlib
import os
import shutil
import sys
import tempfile
import time

import boto3
from botocore.config import Config
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

ENDPOINT, SHOTS = sys.argv[1], sys.argv[2]
CONSOLE = ENDPOINT + "/console"
STREAM = "orders"
MARKUP_KEY = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'


def check(condition, what):
    if not condition:
        raise AssertionError(what)
    print("ok:", what, flush=True)


def wait_for(what, predicate, timeout=10.0, interval=0.05):
    """Polls `predicate` until it returns a truthy value; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # the page is re-rendering: try again
            last_error = e
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last error: {last_error})")


# --- KPL aggregation, written from the format: magic, protobuf AggregatedRecord, MD5. ---

def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, wire, payload):
    key = varint(number << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def aggregate(records):
    """records: [(partition_key, data bytes)] -> one KPL aggregated record."""
    keys = []
    body = b""
    for key, _ in records:
        if key not in keys:
            keys.append(key)
    for key in keys:
        body += field(1, 2, key.encode())
    for key, data in records:
        record = field(1, 0, keys.index(key)) + field(3, 2, data)
        body += field(3, 2, record)
    return b"\xf3\x89\x9a\xc2" + body + hashlib.md5(body).digest()


# --- the browser ---

def browser():
    profile = tempfile.mkdtemp(prefix="kinesd-console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or shutil.which("chromium-browser")
    for arg in [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
        "--window-size=1280,800",
    ]:
        options.add_argument(arg)
    service = Service(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service), profile


def viewport(driver, width, height):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700,
    })


def shot(driver, name):
    path = os.path.join(SHOTS, name)
    driver.save_screenshot(path)
    print("screenshot:", path, flush=True)


def full_page_shot(driver, name, width, height_after=800):
    """The whole page, not just what fits the window: the viewport grown to the page's height."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    viewport(driver, width, min(height, 6000))
    shot(driver, name)
    viewport(driver, width, height_after)


def no_horizontal_overflow(driver, page):
    wide = driver.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth")
    check(wide <= 0, f"{page} fits the phone's width (overflow {wide}px)")


def every_control_labelled(driver, page):
    unlabelled = driver.execute_script("""
        return [...document.querySelectorAll('input, select, textarea')]
          .filter((e) => !e.labels.length && !e.getAttribute('aria-label')).map((e) => e.id);""")
    check(unlabelled == [], f"every control on the {page} page has a label {unlabelled}")


def tail_rows(driver):
    return driver.execute_script("""
        return [...document.querySelectorAll('#tail-rows tr.record')].map((tr) => ({
          key: tr.querySelector('.pk').textContent,
          seq: tr.querySelector('.seq').textContent,
          shard: tr.querySelector('abbr').title,
          sub: (tr.querySelector('.sub') || {}).textContent || null,
          data: tr.querySelector('.payload').textContent,
          user: tr.classList.contains('user-record'),
        }));""")


def main():
    os.makedirs(SHOTS, exist_ok=True)
    kinesis = boto3.client(
        "kinesis", endpoint_url=ENDPOINT, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}))
    driver, profile = browser()
    try:
        run(driver, kinesis)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def run(driver, kinesis):
    viewport(driver, 1280, 800)
    driver.get(CONSOLE)
    wait_for("the streams page", lambda: driver.find_element(By.TAG_NAME, "h1").text == "Streams")
    every_control_labelled(driver, "streams")

    # Create a stream from the page.
    driver.find_element(By.ID, "new-name").send_keys(STREAM)
    shards = driver.find_element(By.ID, "new-shards")
    shards.clear()
    shards.send_keys("2")
    driver.find_element(By.ID, "create").click()
    row = f'tr[data-stream="{STREAM}"]'
    wait_for("the new stream's row, ACTIVE", lambda: "ACTIVE" in driver.find_element(By.CSS_SELECTOR, row).text)
    check(kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["OpenShardCount"] == 2,
          "the page created the stream with 2 shards")
    check("2 / 0" in driver.find_element(By.CSS_SELECTOR, row).text, "the row shows 2 open, 0 closed shards")

    # An on-demand stream.
    Select(driver.find_element(By.ID, "new-mode")).select_by_value("ON_DEMAND")
    driver.find_element(By.ID, "new-name").send_keys("clicks")
    driver.find_element(By.ID, "create").click()
    wait_for("the on-demand stream", lambda: "on-demand" in driver.find_element(By.CSS_SELECTOR, 'tr[data-stream="clicks"]').text)
    check(kinesis.describe_stream_summary(StreamName="clicks")["StreamDescriptionSummary"]["StreamModeDetails"]["StreamMode"]
          == "ON_DEMAND", "the page created an on-demand stream")

    # Delete a stream from the page (two steps).
    kinesis.create_stream(StreamName="scratch", ShardCount=1)
    wait_for("the scratch row", lambda: driver.find_elements(By.CSS_SELECTOR, 'tr[data-stream="scratch"]'))
    button = lambda: driver.find_element(By.CSS_SELECTOR, 'tr[data-stream="scratch"] button')
    button().click()
    wait_for("the confirmation", lambda: button().text == "Confirm delete")
    button().click()
    wait_for("the scratch row to go", lambda: not driver.find_elements(By.CSS_SELECTOR, 'tr[data-stream="scratch"]'))
    check(STREAM in kinesis.list_streams()["StreamNames"] and "scratch" not in kinesis.list_streams()["StreamNames"],
          "the page deleted the stream")
    kinesis.add_tags_to_stream(StreamName=STREAM, Tags={"team": "payments"})
    arn = kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="audit")
    wait_for("the tag and the consumer", lambda: "team=payments" in driver.find_element(By.CSS_SELECTOR, row).text)
    cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, f"{row} td")]
    check(cells[4] == "1" and cells[5] == "team=payments", f"the row shows the consumer and the tag {cells}")

    # The stream page: the key-space bar before and after a split.
    driver.find_element(By.LINK_TEXT, STREAM).click()
    bar = lambda: driver.find_element(By.ID, "keyspace")
    wait_for("a bar of 2 shards", lambda: bar().get_attribute("data-shards") == "2")
    widths = lambda: [c.get_attribute("data-shard") + ":" + c.value_of_css_property("width")
                      for c in bar().find_elements(By.CSS_SELECTOR, ".cut")]
    before = widths()
    check(len(before) == 2, f"two open shards cut the bar {before}")
    every_control_labelled(driver, "stream")
    driver.find_element(By.CSS_SELECTOR, '[data-key="split:shardId-000000000000"]').click()
    wait_for("a bar of 3 shards", lambda: bar().get_attribute("data-shards") == "3")
    after = widths()
    check(after != before and len(after) == 3, f"the split changed the bar: {before} -> {after}")
    ranges = driver.find_element(By.ID, "ranges").text
    check("shardId-000000000002" in ranges and "shardId-000000000003" in ranges and "25.00 %" in ranges,
          "the children each hold a quarter of the key space")
    lineage = driver.find_element(By.CSS_SELECTOR, '#lineage li[data-shard="shardId-000000000000"]')
    check("shardId-000000000002" in lineage.text and "closed" in lineage.text,
          "the lineage shows the closed parent over its children")
    consumer = kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="audit")["ConsumerDescription"]["ConsumerARN"]
    subscription = kinesis.subscribe_to_shard(ConsumerARN=consumer, ShardId="shardId-000000000001",
                                              StartingPosition={"Type": "LATEST"})
    next(iter(subscription["EventStream"]))  # the first event: the subscription runs
    audit = lambda: driver.find_element(By.CSS_SELECTOR, '#consumers tr[data-consumer="audit"] .subscriptions').text
    wait_for("the consumer's subscription", lambda: "shardId-000000000001 since" in audit())
    print("ok: the consumer and its subscription are listed:", audit(), flush=True)
    subscription["EventStream"].close()

    # The live tail from LATEST.
    driver.get(f"{CONSOLE}#/tail/{STREAM}")
    wait_for("readers on the 3 open shards",
             lambda: "Reading 3 shards" in driver.find_element(By.ID, "tail-status").text)
    every_control_labelled(driver, "tail")

    def put_and_see(what, count, **put):
        answer = kinesis.put_record(StreamName=STREAM, **put)
        sent = time.monotonic()
        def arrived():
            rows = [r for r in tail_rows(driver) if r["seq"] == answer["SequenceNumber"]]
            return rows if len(rows) >= count else None
        rows = wait_for(what, arrived, timeout=5.0, interval=0.02)
        seen = time.monotonic() - sent
        check(seen <= 1.0, f"{what} shown in the tail {seen * 1000:.0f} ms after its put")
        return answer, rows

    _, rows = put_and_see("a JSON record", 1, PartitionKey="user-1", Data=b'{"order":1,"items":["a","b"]}')
    check(rows[0]["key"] == "user-1" and '"order":1' in rows[0]["data"], "its key and data as text")

    _, rows = put_and_see("a record keyed with markup", 1, PartitionKey=MARKUP_KEY, Data=b"<b>not bold</b>")
    check(rows[0]["key"] == MARKUP_KEY, "a partition key holding <script> is shown as text")
    check(rows[0]["data"] == "<b>not bold</b>", "data holding markup is shown as text")
    check(driver.execute_script("return window.__pwned") is None, "no markup from a record ran")
    check(not driver.find_elements(By.CSS_SELECTOR, "#tail-rows script, #tail-rows img, #tail-rows b"),
          "no element came from a record")

    users = [("kpl-a", b"first user record"), ("kpl-b", b'{"n":2}'), ("kpl-a", b"third")]
    _, rows = put_and_see("a KPL aggregate", 3, PartitionKey="kpl-agg", Data=aggregate(users))
    rows = sorted(rows, key=lambda r: r["sub"])
    check([r["key"] for r in rows] == ["kpl-a", "kpl-b", "kpl-a"], "the aggregate's user records and their keys")
    check([r["data"] for r in rows] == ["first user record", '{"n":2}', "third"], "the user records' data")
    check([r["sub"].strip() for r in rows] == [f"sub-sequence {i}" for i in range(3)], "their sub-sequence numbers")
    check(all(r["user"] for r in rows), "marked as KPL user records")

    broken = bytearray(aggregate(users))
    broken[-1] ^= 0xFF
    _, rows = put_and_see("an aggregate with a wrong MD5", 1, PartitionKey="bad-md5", Data=bytes(broken))
    check(not rows[0]["user"] and rows[0]["key"] == "bad-md5", "a wrong MD5 leaves the record whole")

    # The page's MD5 and protobuf reader against Python's, on every padding length and on an
    # aggregate whose key indexes need multi-byte varints.
    digests = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        import('/console/kpl.js').then(({ md5 }) => done([...Array(200).keys()].map((n) => {
          const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) % 251);
          return Array.from(md5(bytes), (b) => b.toString(16).padStart(2, '0')).join('');
        })));""")
    expected = [hashlib.md5(bytes((i * 7 + n) % 251 for i in range(n))).hexdigest() for n in range(200)]
    check(digests == expected, "the page's MD5 matches hashlib's for lengths 0 to 199")
    many = [(f"key-{i}", f"data {i}".encode()) for i in range(300)]
    unpacked = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
        import('/console/kpl.js').then(({ deaggregate }) => done(deaggregate(bytes).map(
          (r) => [r.partitionKey, new TextDecoder().decode(r.data)])));""",
        base64.b64encode(aggregate(many)).decode())
    check(unpacked == [[k, d.decode()] for k, d in many], "300 user records with multi-byte key indexes")

    # Data views.
    Select(driver.find_element(By.ID, "tail-view")).select_by_value("json")
    pretty = wait_for("pretty JSON", lambda: [r for r in tail_rows(driver) if r["key"] == "user-1"][0]["data"])
    check('"items": [\n' in pretty, "JSON data pretty-printed")
    Select(driver.find_element(By.ID, "tail-view")).select_by_value("hex")
    hexed = [r for r in tail_rows(driver) if r["key"] == "user-1"][0]["data"]
    check(hexed.startswith("7b 22 6f"), "data as hex")
    Select(driver.find_element(By.ID, "tail-view")).select_by_value("text")

    # Filter by partition key.
    driver.find_element(By.ID, "tail-filter").send_keys("kpl-")
    keys = {r["key"] for r in tail_rows(driver)}
    check(keys == {"kpl-a", "kpl-b"}, f"the filter keeps matching keys only {keys}")
    driver.find_element(By.ID, "tail-filter").send_keys(Keys.CONTROL, "a", Keys.BACKSPACE)

    # Pause: nothing new appears until resumed.
    pause = driver.find_element(By.ID, "tail-pause")
    pause.click()
    answer = kinesis.put_record(StreamName=STREAM, PartitionKey="while-paused", Data=b"later")
    time.sleep(1.5)
    check(not [r for r in tail_rows(driver) if r["key"] == "while-paused"], "paused: no new rows")
    pause.click()
    wait_for("the record put while paused", lambda: [r for r in tail_rows(driver) if r["key"] == "while-paused"], 3)
    print("ok: resumed, the record put while paused is shown", flush=True)

    # The put form.
    driver.find_element(By.ID, "tail-put-key").send_keys("from-form")
    driver.find_element(By.ID, "tail-put-data").send_keys("hello from the form")
    driver.find_element(By.ID, "tail-put-submit").click()
    sequence = wait_for("the put's answer", lambda: driver.find_element(By.CSS_SELECTOR, "#tail-put-outcome .put-sequence").text)
    shard = driver.find_element(By.CSS_SELECTOR, "#tail-put-outcome .put-shard").text
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                          StartingSequenceNumber=sequence)["ShardIterator"]
    got = kinesis.get_records(ShardIterator=iterator, Limit=1)["Records"][0]
    check(got["Data"] == b"hello from the form" and got["PartitionKey"] == "from-form",
          f"the form's answer names the record's shard and sequence number ({shard}, {sequence})")
    wait_for("the form's record in the tail", lambda: [r for r in tail_rows(driver) if r["seq"] == sequence], 3)
    print("ok: the form's record is in the tail", flush=True)
    driver.execute_script("window.scrollTo(0, 0)")
    shot(driver, "tail-1280x800.png")
    full_page_shot(driver, "tail-1280-full.png", 1280)

    # A merge while tailing from LATEST: the tail follows the closed parents to their child.
    kinesis.merge_shards(StreamName=STREAM, ShardToMerge="shardId-000000000002",
                         AdjacentShardToMerge="shardId-000000000003")
    wait_for("the merge", lambda: kinesis.describe_stream_summary(StreamName=STREAM)
             ["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE")
    kinesis.put_record(StreamName=STREAM, PartitionKey="after-merge", Data=b"child", ExplicitHashKey="0")
    merged = wait_for("the record put into the merged child",
                      lambda: [r for r in tail_rows(driver) if r["key"] == "after-merge"], 5)
    check(merged[0]["shard"] == "shardId-000000000004", f"the tail followed the merge to its child {merged}")

    # TRIM_HORIZON reads the closed parent, then its children.
    Select(driver.find_element(By.ID, "tail-from")).select_by_value("TRIM_HORIZON")
    driver.find_element(By.ID, "tail-restart").click()
    wait_for("every record from the trim horizon",
             lambda: {"user-1", "kpl-a", "from-form", "while-paused", "after-merge"} <= {r["key"] for r in tail_rows(driver)})
    print("ok: TRIM_HORIZON shows the records of every shard", flush=True)

    # The form again: base64 data and an explicit hash key, which picks the shard.
    for field, value in [("tail-put-key", "b64"), ("tail-put-data", "AAEC/w=="), ("tail-put-hash", "0")]:
        driver.find_element(By.ID, field).clear()
        driver.find_element(By.ID, field).send_keys(value)
    Select(driver.find_element(By.ID, "tail-put-encoding")).select_by_value("base64")
    driver.find_element(By.ID, "tail-put-submit").click()
    wait_for("the second put's answer", lambda: driver.find_element(
        By.CSS_SELECTOR, "#tail-put-outcome .put-shard").text == "shardId-000000000004")
    print("ok: an explicit hash key of 0 went to the merged shard", flush=True)
    binary = wait_for("the binary record", lambda: [r for r in tail_rows(driver) if r["key"] == "b64"], 3)
    check(binary[0]["data"] == "binary: 00 01 02 ff", f"binary data shown as hex in text view: {binary}")

    # AT_TIMESTAMP: only what arrived from that second on.
    time.sleep(1.1)
    cut = time.time()
    time.sleep(1.1)
    kinesis.put_record(StreamName=STREAM, PartitionKey="after-cut", Data=b"late")
    Select(driver.find_element(By.ID, "tail-from")).select_by_value("AT_TIMESTAMP")
    driver.execute_script("""
        const d = new Date(arguments[0] * 1000), p = (n) => String(n).padStart(2, '0');
        document.getElementById('tail-when').value =
          `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;""",
        cut)
    driver.find_element(By.ID, "tail-restart").click()
    wait_for("the record after the time", lambda: [r for r in tail_rows(driver) if r["key"] == "after-cut"], 5)
    time.sleep(1)
    keys = {r["key"] for r in tail_rows(driver)}
    check(keys == {"after-cut"}, f"AT_TIMESTAMP shows only the records from that time on: {keys}")

    # Another origin cannot call the API: kinesd grants no CORS (localhost vs 127.0.0.1).
    other = ENDPOINT.replace("127.0.0.1", "localhost")
    outcome = driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0] + '/', {method: 'POST', headers: {'Content-Type': 'application/x-amz-json-1.1',
          'X-Amz-Target': 'Kinesis_20131202.ListStreams', 'X-Amz-Date': '20260101T000000Z',
          'Authorization': 'AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=0'}, body: '{}'})
          .then((r) => done('answered ' + r.status), (e) => done('refused ' + e.name));""", other)
    check(outcome.startswith("refused"), f"a cross-origin call is refused by the browser ({outcome})")

    # Traffic: the streams page counts the last minute, the stream page charts it.
    driver.get(CONSOLE)
    minute = wait_for("the last minute's records",
                      lambda: int(driver.find_element(By.CSS_SELECTOR, f'{row} .records-minute').text) >= 6 and
                      driver.find_element(By.CSS_SELECTOR, f'{row} .records-minute').text)
    check(int(minute) >= 6, f"the streams page counts {minute} records in the last minute")
    shot(driver, "streams-1280x800.png")
    driver.get(f"{CONSOLE}#/stream/{STREAM}")
    label = lambda: driver.find_element(By.CSS_SELECTOR, "#charts canvas").get_attribute("aria-label")
    wait_for("the charts", lambda: "peak" in label())
    check("peak 0.0/s" not in label(), f"the records chart has traffic: {label()}")
    driver.find_element(By.CSS_SELECTOR, '[data-key="count:shardId-000000000001"]').click()
    stored = wait_for("the stored count", lambda: driver.find_element(
        By.CSS_SELECTOR, 'tr[data-shard="shardId-000000000001"] .counted').text)
    iterator = kinesis.get_shard_iterator(StreamName=STREAM, ShardId="shardId-000000000001",
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    expected = len(kinesis.get_records(ShardIterator=iterator)["Records"])
    check(stored.startswith(f"{expected} records"), f"the shard's stored records counted: {stored} ({expected} by GetRecords)")
    lineage = driver.find_element(By.CSS_SELECTOR, '#lineage li[data-shard="shardId-000000000004"]').text
    check("merged from 2 and 3" in lineage, f"the lineage names the merge: {lineage}")
    shot(driver, "stream-1280x800.png")
    full_page_shot(driver, "stream-1280-full.png", 1280)
    # Merge from the page: the bar becomes one shard.
    driver.find_element(By.CSS_SELECTOR, '[data-key="merge:shardId-000000000004"]').click()
    wait_for("a bar of 1 shard", lambda: bar().get_attribute("data-shards") == "1", 15)
    check(kinesis.describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]["OpenShardCount"] == 1,
          "the page merged the last two shards")

    # Phone width.
    viewport(driver, 390, 844)
    for page, name in [("", "streams"), (f"#/stream/{STREAM}", "stream"), (f"#/tail/{STREAM}", "tail")]:
        driver.get(f"{CONSOLE}{page}")
        wait_for(f"the {name} page", lambda: driver.find_element(By.TAG_NAME, "h1").text)
        if name == "tail":
            Select(driver.find_element(By.ID, "tail-from")).select_by_value("TRIM_HORIZON")
            driver.find_element(By.ID, "tail-restart").click()
        time.sleep(1.5)
        no_horizontal_overflow(driver, name)
        shot(driver, f"{name}-390x844.png")
        if name == "stream":
            full_page_shot(driver, "stream-390-full.png", 390, 844)

    # Keyboard: the first Tab reaches the skip link, which moves focus to the page's content.
    viewport(driver, 1280, 800)
    driver.get("about:blank")  # a load, not a same-document hash change
    driver.get(f"{CONSOLE}#/stream/{STREAM}")
    wait_for("the stream page", lambda: driver.find_element(By.TAG_NAME, "h1").text == STREAM)
    driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    check(driver.switch_to.active_element.text == "Skip to content", "Tab first reaches the skip link")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    check(driver.switch_to.active_element.get_attribute("id") == "main"
          and driver.find_element(By.TAG_NAME, "h1").text == STREAM,
          "Enter on it focuses the content and stays on the page")
    driver.switch_to.active_element.send_keys(Keys.TAB)
    check(driver.switch_to.active_element.text == "Live tail", "the next Tab reaches the page's first control")
    driver.switch_to.active_element.send_keys(Keys.ENTER)
    wait_for("the tail page from the keyboard", lambda: driver.find_element(By.TAG_NAME, "h1").text == f"Live tail: {STREAM}")
    print("ok: the live tail opened from the keyboard", flush=True)


if __name__ == "__main__":
    main()
