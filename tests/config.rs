//! One configuration from three sources — the TOML file (`--config`, `KINESD_CONFIG`), the
//! `KINESD_<NAME>` variables and the flags — with flags over variables over the file, every
//! refusal naming the key and where it came from, and `[[streams]]` tables declaring streams
//! with tags and consumers.

mod common;

use common::process::{run_bounded, Kinesd};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// Runs kinesd to completion with `args` and `env` (nothing else of the test's KINESD_*
/// environment), returning (success, stdout, stderr).
fn kinesd(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kinesd"));
    for (name, _) in std::env::vars() {
        if name.starts_with("KINESD_") {
            command.env_remove(name);
        }
    }
    command.args(args).envs(env.iter().copied());
    run_bounded(command, Duration::from_secs(20))
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The `key = value  # source` line of `--print-config`'s output for `key`.
fn line<'a>(printed: &'a str, key: &str) -> &'a str {
    printed
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no {key} in:\n{printed}"))
}

#[test]
fn flags_win_over_variables_which_win_over_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write(
        tmp.path(),
        "kinesd.toml",
        "# a comment\nport = 5000\nregion = \"eu-west-1\"\nshard_limit = 20\nno_tls = true\n\
         allowed_hosts = [\"a.test\", \"*.b.test\"]\n",
    );
    let (ok, printed, stderr) = kinesd(
        &["--print-config", "--shard-limit", "30"],
        &[
            ("KINESD_CONFIG", &file),
            ("KINESD_REGION", "us-west-2"),
            ("KINESD_SHARD_LIMIT", "25"),
            ("KINESD_ACCOUNT_ID", "123456789012"),
        ],
    );
    assert!(ok, "{stderr}");
    assert_eq!(
        line(&printed, "port"),
        format!("port = 5000  # {file} line 2")
    );
    assert_eq!(
        line(&printed, "region"),
        "region = \"us-west-2\"  # environment KINESD_REGION"
    );
    assert_eq!(
        line(&printed, "shard_limit"),
        "shard_limit = 30  # flag --shard-limit"
    );
    assert_eq!(
        line(&printed, "account_id"),
        "account_id = \"123456789012\"  # environment KINESD_ACCOUNT_ID"
    );
    assert_eq!(
        line(&printed, "no_tls"),
        format!("no_tls = true  # {file} line 5")
    );
    assert_eq!(
        line(&printed, "allowed_hosts"),
        format!("allowed_hosts = [\"a.test\", \"*.b.test\"]  # {file} line 6")
    );
    assert_eq!(line(&printed, "host"), "host = \"127.0.0.1\"  # default");

    // What it prints is itself a configuration file that gives the same values.
    let again = write(tmp.path(), "printed.toml", &printed);
    let (ok, reprinted, stderr) = kinesd(&["--print-config", "--config", &again], &[]);
    assert!(ok, "{stderr}");
    for key in [
        "port",
        "region",
        "shard_limit",
        "account_id",
        "allowed_hosts",
    ] {
        let value = |p: &str| line(p, key).split("  #").next().unwrap().to_string();
        assert_eq!(value(&reprinted), value(&printed), "{key}");
    }
}

#[test]
fn every_refusal_names_the_key_and_its_source() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str])] = &[
        (
            "prot = 1\n",
            &["line 1: prot: unknown key", "known keys: host"],
        ),
        (
            "\nport = \"abc\"\n",
            &["line 2: port", "invalid value 'abc'"],
        ),
        (
            "port = 70000\n",
            &["line 1: port", "70000 is not in 0..=65535"],
        ),
        ("port = [1]\n", &["line 1: port: expected one value"]),
        (
            "no_tls = \"yes\"\n",
            &["line 1: no_tls: expected true or false"],
        ),
        (
            "region = 1.5\n",
            &["line 1: region: expected a string or a whole number"],
        ),
        (
            "durability = \"sometimes\"\n",
            &["durability", "'sometimes'", "flush"],
        ),
        (
            "nats_replicas = 9\n",
            &["line 1: nats_replicas", "9 is not in 1..=5"],
        ),
        ("port = \n", &["is not valid TOML", "line 1"]),
        ("config = \"x.toml\"\n", &["line 1: config: unknown key"]),
        (
            "[[streams]]\nname = \"a b\"\n",
            &["line 1: [[streams]]: a stream name is"],
        ),
        (
            "[[streams]]\nname = \"ab\"\nshard = 3\n",
            &["line 3", "unknown field `shard`", "`shards`"],
        ),
        (
            "[[streams]]\nname = \"ab\"\nshards = 0\n",
            &["line 1: [[streams]]: 0 shards is outside 1..10000"],
        ),
        (
            "[[streams]]\nname = \"ab\"\nmode = \"ON_DEMAND\"\nshards = 2\n",
            &["an ON_DEMAND stream has no shard count"],
        ),
        (
            "[[streams]]\nname = \"ab\"\nmode = \"FAST\"\n",
            &["mode 'FAST': expected \"PROVISIONED\" or \"ON_DEMAND\""],
        ),
        (
            "[[streams]]\nname = \"ab\"\nretention_hours = 2\n",
            &["retention 2h is outside 24h..8760h"],
        ),
        (
            "[[streams]]\nname = \"ab\"\nconsumers = [\"a\", \"a\"]\n",
            &["consumer 'a' is declared twice"],
        ),
        (
            "[[streams]]\nname = \"ab\"\ntags = { \"aws:x\" = \"1\" }\n",
            &["tag key 'aws:x'"],
        ),
        (
            "[[streams]]\nname = \"ab\"\n[[streams]]\nname = \"ab\"\n",
            &["stream 'ab' is declared twice"],
        ),
    ];
    for (i, (text, says)) in cases.iter().enumerate() {
        let file = write(tmp.path(), &format!("bad{i}.toml"), text);
        let (ok, stdout, stderr) = kinesd(&["--config", &file, "--in-memory", "--port", "0"], &[]);
        assert!(!ok && !stdout.contains("listening"), "{text:?}: {stdout}");
        assert!(
            stderr.contains(&file),
            "{text:?} does not name the file: {stderr}"
        );
        for part in *says {
            assert!(stderr.contains(part), "{text:?}: no {part:?} in {stderr}");
        }
    }
    let (ok, _, stderr) = kinesd(&["--config", "/nonexistent/kinesd.toml"], &[]);
    assert!(!ok && stderr.contains("cannot read the configuration file /nonexistent/kinesd.toml"));

    // A variable's value is refused naming the variable.
    for (name, value, says) in [
        (
            "KINESD_PORT",
            "abc",
            "environment KINESD_PORT: invalid value 'abc'",
        ),
        (
            "KINESD_SHARD_LIMIT",
            "many",
            "environment KINESD_SHARD_LIMIT",
        ),
        (
            "KINESD_STREAMS",
            "a b",
            "streams (environment KINESD_STREAMS): stream 'a b'",
        ),
    ] {
        let (ok, _, stderr) = kinesd(&["--in-memory"], &[("KINESD_PORT", "0"), (name, value)]);
        assert!(!ok, "{name}");
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
    // A flag's, naming the flag.
    let (ok, _, stderr) = kinesd(&["--port", "abc"], &[]);
    assert!(!ok && stderr.contains("'--port <PORT>'"), "{stderr}");
}

async fn consumers(client: &aws_sdk_kinesis::Client, arn: &str) -> Vec<(String, String)> {
    let listed = client
        .list_stream_consumers()
        .stream_arn(arn)
        .send()
        .await
        .unwrap();
    listed
        .consumers
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.consumer_name, c.consumer_status.as_str().to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_tables_declare_tags_and_consumers_once_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let data = data.to_str().unwrap();
    let file = write(
        tmp.path(),
        "kinesd.toml",
        "consumer_ms = 60000\ncreate_stream_ms = 60000\n\n\
         [[streams]]\nname = \"orders\"\nshards = 3\nretention_hours = 48\n\
         tags = { team = \"payments\" }\nconsumers = [\"audit\", \"billing\"]\n\n\
         [[streams]]\nname = \"events\"\nmode = \"ON_DEMAND\"\n",
    );
    // --no-tls as a flag: the harness waits for the TLS line unless it sees it.
    let args = ["--config", &file, "--data-dir", data, "--no-tls"];
    let check = |server: &Kinesd| {
        let client = common::client(&server.endpoint);
        async move {
            let d = client
                .describe_stream_summary()
                .stream_name("orders")
                .send()
                .await
                .unwrap()
                .stream_description_summary
                .unwrap();
            assert_eq!(d.stream_status.as_str(), "ACTIVE");
            assert_eq!((d.open_shard_count, d.retention_period_hours), (3, 48));
            let tags = client
                .list_tags_for_stream()
                .stream_name("orders")
                .send()
                .await
                .unwrap()
                .tags;
            let tags: Vec<_> = tags.iter().map(|t| (t.key(), t.value())).collect();
            assert_eq!(tags, [("team", Some("payments"))]);
            // ACTIVE at once, whatever --consumer-ms says; registered once.
            assert_eq!(
                consumers(&client, &d.stream_arn).await,
                [
                    ("audit".to_string(), "ACTIVE".to_string()),
                    ("billing".to_string(), "ACTIVE".to_string())
                ]
            );
            let events = client
                .describe_stream_summary()
                .stream_name("events")
                .send()
                .await
                .unwrap()
                .stream_description_summary
                .unwrap();
            assert_eq!(
                events.stream_mode_details.unwrap().stream_mode.as_str(),
                "ON_DEMAND"
            );
        }
    };
    let server = Kinesd::spawn(&args, None);
    check(&server).await;
    drop(server);
    let log = tmp.path().join("log");
    let server = Kinesd::spawn(&args, Some(&log));
    check(&server).await;
    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(!log.contains("left as it is"), "{log}");

    // The short form in a variable replaces the file's tables (a higher source wins).
    let server = Kinesd::spawn_with_env(
        &["--config", &file, "--in-memory", "--no-tls"],
        &[("KINESD_STREAMS", "clicks:2")],
    );
    let client = common::client(&server.endpoint);
    let names = client.list_streams().send().await.unwrap().stream_names;
    assert_eq!(names, ["clicks"]);
}

#[test]
fn a_variable_that_names_no_option_is_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("log");
    let server = Kinesd::spawn_full(
        &["--in-memory", "--no-tls"],
        &[("KINESD_PROT", "5000")],
        Some(&log),
    );
    drop(server);
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("naming none; ignored") && log.contains("KINESD_PROT"),
        "{log}"
    );
    assert!(!log.contains("KINESD_LOG"), "KINESD_LOG is kinesd's: {log}");
}
