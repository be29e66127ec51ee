"""boto3's CloudWatch client against kinesd (tests/cloudwatch.rs): PutMetricData accepted in
whatever protocol the installed botocore speaks (the query protocol up to 1.40, Smithy RPCv2
CBOR in 1.43), CloudWatch's errors with their codes, and the latest values on kinesd's
/metrics. Run twice against the same server, so the datum count is checked as a multiple.

Usage: cloudwatch_boto3.py ENDPOINT
"""
import datetime
import sys
import urllib.request

import boto3
import botocore
import botocore.exceptions

endpoint = sys.argv[1]
cw = boto3.client(
    "cloudwatch",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="x",
    aws_secret_access_key="x",
)
print("botocore", botocore.__version__, "protocol", cw.meta.service_model.protocol)
now = datetime.datetime.now(datetime.timezone.utc)
cw.put_metric_data(
    Namespace="boto-app",
    MetricData=[
        {"MetricName": "Processed", "Value": 3.5, "Unit": "Count", "Timestamp": now,
         "Dimensions": [{"Name": "Worker", "Value": "w-1"}, {"Name": "Shard", "Value": "s-0"}]},
        {"MetricName": "Latency", "Unit": "Milliseconds", "StorageResolution": 1,
         "StatisticValues": {"SampleCount": 3, "Sum": 30, "Minimum": 5, "Maximum": 20}},
        {"MetricName": "Sizes", "Values": [1, 2, 3], "Counts": [1, 1, 2], "Unit": "Bytes"},
    ],
)
# Enough datums for botocore to gzip the body (over 10 KB).
cw.put_metric_data(
    Namespace="boto-bulk",
    MetricData=[{"MetricName": f"metric-{i:04d}", "Value": i} for i in range(400)],
)


def expect_error(code, fragment, **kwargs):
    try:
        cw.put_metric_data(**kwargs)
    except botocore.exceptions.ClientError as e:
        error = e.response["Error"]
        assert error["Code"] == code, (code, error)
        assert fragment in error["Message"], (fragment, error)
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400, e.response
        return
    raise AssertionError(f"no {code} for {kwargs}")


expect_error("InvalidParameterValue", "The value AWS/EC2 for parameter Namespace is invalid.",
             Namespace="AWS/EC2", MetricData=[{"MetricName": "m", "Value": 1}])
expect_error("InvalidParameterCombination", "are mutually exclusive and you have specified both",
             Namespace="n", MetricData=[{"MetricName": "m", "Value": 1, "Values": [1]}])
expect_error("InvalidParameterValue", "No metric may specify the same dimension name twice.",
             Namespace="n", MetricData=[{"MetricName": "m", "Value": 1, "Dimensions": [
                 {"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}]}])
expect_error("InvalidParameterValue", "must specify a time within the past two weeks.",
             Namespace="n", MetricData=[{"MetricName": "m", "Value": 1,
                                         "Timestamp": now - datetime.timedelta(days=15)}])
expect_error("InvalidParameterValue", "Dimensions must not have a size greater than 30",
             Namespace="n", MetricData=[{"MetricName": "m", "Value": 1, "Dimensions": [
                 {"Name": f"d{i}", "Value": "v"} for i in range(31)]}])
try:
    cw.list_metrics()
    raise AssertionError("ListMetrics answered")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidAction", e.response

# kinesd runs with --verify-signatures and the key pair x:x: a wrong secret is refused.
wrong = boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="x", aws_secret_access_key="wrong")
try:
    wrong.put_metric_data(Namespace="n", MetricData=[{"MetricName": "m", "Value": 1}])
    raise AssertionError("a wrong secret was accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
    assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, e.response

metrics = urllib.request.urlopen(endpoint + "/metrics", timeout=10).read().decode()


def value(labels):
    prefix = "kinesd_cloudwatch_metric{" + labels + "} "
    for line in metrics.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix):])
    raise AssertionError(f"no series {labels} in:\n{metrics}")


assert value('namespace="boto-app",metric="Processed",dimensions="Shard=s-0,Worker=w-1",unit="Count",statistic="Sum"') == 3.5
assert value('namespace="boto-app",metric="Latency",dimensions="",unit="Milliseconds",statistic="Minimum"') == 5
assert value('namespace="boto-app",metric="Sizes",dimensions="",unit="Bytes",statistic="Sum"') == 9
assert value('namespace="boto-bulk",metric="metric-0399",dimensions="",unit="None",statistic="Maximum"') == 399
total = next(int(l.split()[1]) for l in metrics.splitlines() if l.startswith("kinesd_cloudwatch_datums_total"))
assert total % 403 == 0, metrics
print("cloudwatch boto3: OK")
