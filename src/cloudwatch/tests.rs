//! PutMetricData's parsing, validation and answers, through [`super::answer`].

use super::*;

const NOW_MS: i64 = 1_800_000_000_000;

fn query(sink: &Sink, body: &str) -> Answer {
    answer(sink, &Wire::Query, body.as_bytes(), NOW_MS)
}

fn json(sink: &Sink, body: serde_json::Value) -> Answer {
    let wire = Wire::Json("PutMetricData".into());
    answer(sink, &wire, body.to_string().as_bytes(), NOW_MS)
}

fn text(a: &Answer) -> String {
    String::from_utf8_lossy(&a.body).into_owned()
}

fn header<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn scrape(sink: &Sink) -> String {
    let mut registry = prometheus_client::registry::Registry::with_prefix("kinesd");
    registry.register_collector(sink.collector());
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &registry).unwrap();
    out
}

#[test]
fn a_query_put_is_accepted_and_its_latest_values_are_scraped() {
    let sink = Sink::default();
    let a = query(
        &sink,
        "Action=PutMetricData&Version=2010-08-01&Namespace=app\
         &MetricData.member.1.MetricName=Lag&MetricData.member.1.Value=7&MetricData.member.1.Unit=Count\
         &MetricData.member.1.Dimensions.member.1.Name=Shard&MetricData.member.1.Dimensions.member.1.Value=s-1",
    );
    assert_eq!(a.status, 200, "{}", text(&a));
    assert!(
        text(&a).starts_with("<PutMetricDataResponse"),
        "{}",
        text(&a)
    );
    let out = scrape(&sink);
    assert!(
        out.contains(r#"kinesd_cloudwatch_metric{namespace="app",metric="Lag",dimensions="Shard=s-1",unit="Count",statistic="Sum"} 7.0"#),
        "{out}"
    );
    // A later datum of the same series replaces it.
    let a = json(
        &sink,
        serde_json::json!({"Namespace": "app", "MetricData": [{"MetricName": "Lag", "Unit": "Count",
            "Dimensions": [{"Name": "Shard", "Value": "s-1"}],
            "StatisticValues": {"SampleCount": 2, "Sum": 10, "Minimum": 4, "Maximum": 6}}]}),
    );
    assert_eq!(a.status, 200, "{}", text(&a));
    let out = scrape(&sink);
    assert!(out.contains(r#"statistic="Maximum"} 6.0"#), "{out}");
    assert!(out.contains(r#"statistic="SampleCount"} 2.0"#), "{out}");
    assert!(out.contains("kinesd_cloudwatch_datums_total 2"), "{out}");
}

#[test]
fn values_and_counts_summarise() {
    let sink = Sink::default();
    let a = json(
        &sink,
        serde_json::json!({"Namespace": "n", "MetricData": [{"MetricName": "m",
            "Values": [1.0, 3.0], "Counts": [2.0, 1.0], "Timestamp": (NOW_MS / 1000) as f64}]}),
    );
    assert_eq!(a.status, 200, "{}", text(&a));
    let out = scrape(&sink);
    assert!(out.contains(r#"statistic="Sum"} 5.0"#), "{out}");
    assert!(out.contains(r#"statistic="SampleCount"} 3.0"#), "{out}");
    assert!(out.contains(r#"unit="None""#), "{out}");
}

/// (body, query error code, message fragment)
fn invalid_cases() -> Vec<(serde_json::Value, &'static str, &'static str)> {
    use serde_json::json;
    let one = |datum: serde_json::Value| json!({"Namespace": "n", "MetricData": [datum]});
    let dims: Vec<_> = (0..31)
        .map(|i| json!({"Name": format!("d{i}"), "Value": "v"}))
        .collect();
    vec![
        (json!({"MetricData": [{"MetricName": "m", "Value": 1}]}), "MissingParameter", "The parameter Namespace is required."),
        (json!({"Namespace": "n"}), "MissingParameter", "The parameter MetricData is required."),
        (json!({"Namespace": "AWS/EC2", "MetricData": [{"MetricName": "m", "Value": 1}]}), "InvalidParameterValue", "The value AWS/EC2 for parameter Namespace is invalid."),
        (json!({"Namespace": "x".repeat(256), "MetricData": [{"MetricName": "m", "Value": 1}]}), "InvalidParameterValue", "must be shorter than 256 characters"),
        (one(json!({"Value": 1})), "MissingParameter", "The parameter MetricData.member.1.MetricName is required."),
        (one(json!({"MetricName": "m", "Value": 1, "Dimensions": dims})), "InvalidParameterValue", "Dimensions must not have a size greater than 30"),
        (one(json!({"MetricName": "m", "Value": 1, "Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}]})), "InvalidParameterValue", "No metric may specify the same dimension name twice."),
        (one(json!({"MetricName": "m", "Value": 1, "Dimensions": [{"Name": "a"}]})), "MissingParameter", "MetricData.member.1.Dimensions.member.1.Value is required"),
        (one(json!({"MetricName": "m", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}})), "InvalidParameterCombination", "The parameters MetricData.member.1.Value and MetricData.member.1.StatisticValues are mutually exclusive and you have specified both."),
        (one(json!({"MetricName": "m"})), "InvalidParameterCombination", "At least one of the parameters"),
        (one(json!({"MetricName": "m", "Value": "NaN"})), "InvalidParameterValue", "The value NaN for parameter MetricData.member.1.Value is invalid."),
        (one(json!({"MetricName": "m", "Value": 1e300})), "InvalidParameterValue", "for parameter MetricData.member.1.Value is invalid."),
        (one(json!({"MetricName": "m", "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1}})), "MissingParameter", "The parameter MetricData.member.1.StatisticValues.Maximum is required."),
        (one(json!({"MetricName": "m", "Values": [1, 2], "Counts": [1]})), "InvalidParameterValue", "must be of the same size"),
        (one(json!({"MetricName": "m", "Values": vec![1; 151]})), "InvalidParameterValue", "Values must not have a size greater than 150"),
        (one(json!({"MetricName": "m", "Value": 1, "Unit": "Parsecs"})), "InvalidParameterValue", "The parameter MetricData.member.1.Unit must be a value in the set [ Seconds,"),
        (one(json!({"MetricName": "m", "Value": 1, "Timestamp": (NOW_MS / 1000 - 15 * 86400) as f64})), "InvalidParameterValue", "must specify a time within the past two weeks."),
        (one(json!({"MetricName": "m", "Value": 1, "Timestamp": (NOW_MS / 1000 + 3 * 3600) as f64})), "InvalidParameterValue", "no more than two hours in the future"),
        (one(json!({"MetricName": "m", "Value": 1, "StorageResolution": 5})), "InvalidParameterValue", "StorageResolution is invalid"),
    ]
}

#[test]
fn invalid_input_gets_cloudwatchs_errors_in_json() {
    for (body, code, fragment) in invalid_cases() {
        let sink = Sink::default();
        let a = json(&sink, body.clone());
        assert_eq!(a.status, 400, "{body}");
        assert_eq!(
            header(&a, "x-amzn-query-error"),
            Some(&*format!("{code};Sender")),
            "{body}"
        );
        let answer: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
        let message = answer["message"].as_str().unwrap();
        assert!(message.contains(fragment), "{body}: {message}");
        assert!(answer["__type"]
            .as_str()
            .unwrap()
            .starts_with("com.amazonaws.cloudwatch#"));
        assert!(
            !scrape(&sink).contains("kinesd_cloudwatch_metric{"),
            "nothing kept: {body}"
        );
    }
}

#[test]
fn every_bad_unit_is_listed_and_query_errors_are_xml() {
    let sink = Sink::default();
    let a = query(
        &sink,
        "Action=PutMetricData&Namespace=n&MetricData.member.1.MetricName=a&MetricData.member.1.Value=1\
         &MetricData.member.1.Unit=x&MetricData.member.2.MetricName=b&MetricData.member.2.Value=1\
         &MetricData.member.2.Unit=y",
    );
    assert_eq!(a.status, 400);
    let body = text(&a);
    assert!(
        body.contains("<Code>InvalidParameterValue</Code>"),
        "{body}"
    );
    assert!(body.contains("<Type>Sender</Type>"), "{body}");
    assert!(
        body.contains("MetricData.member.1.Unit") && body.contains("MetricData.member.2.Unit"),
        "{body}"
    );
}

#[test]
fn other_actions_are_refused_in_each_encoding() {
    let sink = Sink::default();
    let a = query(&sink, "Action=GetMetricData&Version=2010-08-01");
    assert_eq!(a.status, 400);
    assert!(
        text(&a).contains("<Code>InvalidAction</Code>"),
        "{}",
        text(&a)
    );
    let a = query(&sink, "Version=2010-08-01");
    assert!(
        text(&a).contains("<Code>MissingAction</Code>"),
        "{}",
        text(&a)
    );
    let a = answer(&sink, &Wire::Json("ListMetrics".into()), b"{}", NOW_MS);
    assert_eq!(a.status, 400);
    assert!(
        text(&a).contains("UnknownOperationException"),
        "{}",
        text(&a)
    );
    let a = answer(&sink, &Wire::Cbor("ListMetrics".into()), &[0xa0], NOW_MS);
    assert_eq!(a.status, 400);
    assert_eq!(header(&a, "smithy-protocol"), Some("rpc-v2-cbor"));
    let v: ciborium::Value = ciborium::de::from_reader(&a.body[..]).unwrap();
    assert!(
        format!("{v:?}").contains("UnknownOperationException"),
        "{v:?}"
    );
}

#[test]
fn cbor_puts_with_tagged_timestamps_are_accepted() {
    use ciborium::Value;
    let datum = Value::Map(vec![
        ("MetricName".into(), "m".into()),
        (
            "Timestamp".into(),
            Value::Tag(1, Box::new(Value::Float(NOW_MS as f64 / 1000.0))),
        ),
        ("Value".into(), Value::Float(2.5)),
        ("Unit".into(), "Milliseconds".into()),
    ]);
    let request = Value::Map(vec![
        ("Namespace".into(), "k".into()),
        ("MetricData".into(), Value::Array(vec![datum])),
    ]);
    let mut body = Vec::new();
    ciborium::ser::into_writer(&request, &mut body).unwrap();
    let sink = Sink::default();
    let a = answer(&sink, &Wire::Cbor("PutMetricData".into()), &body, NOW_MS);
    assert_eq!(a.status, 200);
    assert_eq!(a.content_type, "application/cbor");
    assert_eq!(header(&a, "smithy-protocol"), Some("rpc-v2-cbor"));
    assert!(scrape(&sink).contains(r#"unit="Milliseconds",statistic="Sum"} 2.5"#));
}

#[test]
fn new_series_past_the_bound_are_dropped_and_counted() {
    let sink = Sink::with_bounds(2, 1 << 20);
    for name in ["a", "b", "c", "a"] {
        let a = json(
            &sink,
            serde_json::json!({"Namespace": "n", "MetricData": [{"MetricName": name, "Value": 1}]}),
        );
        assert_eq!(a.status, 200);
    }
    let out = scrape(&sink);
    assert!(
        out.contains(r#"metric="a""#) && out.contains(r#"metric="b""#),
        "{out}"
    );
    assert!(!out.contains(r#"metric="c""#), "{out}");
    assert!(
        out.contains("kinesd_cloudwatch_dropped_datums_total 1"),
        "{out}"
    );
    assert!(out.contains("kinesd_cloudwatch_datums_total 3"), "{out}");
}
