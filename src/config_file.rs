//! One configuration from three sources: the TOML file of `--config` / `KINESD_CONFIG`, the
//! `KINESD_<NAME>` environment variables and the flags. Flags win over the environment, which
//! wins over the file; what none of them sets keeps its default.
//!
//! clap already layers flags over the environment and over defaults, and knows which of the
//! three each value came from, so the file is layered underneath by handing clap, as flags, the
//! file's values for the options that neither a flag nor a variable set. clap then checks every
//! value with the same parsers whatever its source. Each of the file's values is also checked
//! on its own first, so that a wrong one is reported with the file and line it is on.
//!
//! Invariants:
//! - every long option has a variable, `KINESD_` + its name in upper case (`--data-dir` is
//!   `KINESD_DATA_DIR`), and a key in the file, its name with `_` (`data_dir`); the few that
//!   make no sense in a file or the environment are in [`NOT_LAYERED`];
//! - an unknown key, a value of the wrong type and an impossible value stop the start with a
//!   message naming the key, where it came from and what is allowed — never a silent default;
//! - `[[streams]]` tables declare streams with tags and consumers; `KINESD_STREAMS` or
//!   `--streams` (the short form) replace them, as any higher source replaces a lower one.

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, CommandFactory, FromArgMatches};
use kinesd::streams::declared::DeclaredStream;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use toml::Spanned;

use crate::options::Args;

/// Options without a file key or a variable: they name the file itself or act once.
const NOT_LAYERED: &[&str] = &["config", "print_config", "help", "version"];

/// Where one value came from, for messages and `--print-config`.
pub enum Source {
    Default,
    File { path: PathBuf, line: usize },
    Environment(String),
    Flag(String),
    Unset,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => write!(f, "default"),
            Source::File { path, line } => write!(f, "{} line {line}", path.display()),
            Source::Environment(name) => write!(f, "environment {name}"),
            Source::Flag(name) => write!(f, "flag {name}"),
            Source::Unset => write!(f, "not set"),
        }
    }
}

/// The parsed options with what is needed to say where each came from.
pub struct Loaded {
    pub args: Args,
    /// The streams to declare, from whichever source won.
    pub streams: Vec<DeclaredStream>,
    matches: ArgMatches,
    file: Option<ConfigFile>,
}

/// What the file said: each top-level key's line and value.
struct ConfigFile {
    path: PathBuf,
    values: BTreeMap<String, (usize, toml::Value)>,
    streams: Vec<DeclaredStream>,
    /// The options whose value is the file's (no flag or variable set them).
    used: Vec<String>,
}

/// A `[[streams]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StreamTable {
    name: String,
    shards: Option<u32>,
    /// `PROVISIONED` (the default) or `ON_DEMAND`.
    mode: Option<String>,
    retention_hours: Option<i64>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    consumers: Vec<String>,
}

#[derive(Deserialize)]
struct StreamTables {
    #[serde(default)]
    streams: Vec<Spanned<StreamTable>>,
}

/// The command, with a variable for every long option that lacks one.
pub fn command() -> clap::Command {
    Args::command().mut_args(|arg| {
        let id = arg.get_id().as_str().to_string();
        if arg.get_long().is_none() || arg.get_env().is_some() || NOT_LAYERED.contains(&&*id) {
            return arg;
        }
        // clap keeps the name for the life of the process; there are a few dozen.
        let name: &'static str = Box::leak(env_name(&id).into_boxed_str());
        arg.env(name)
    })
}

/// `KINESD_*` variables kinesd reads that are not options.
const OTHER_VARIABLES: &[&str] = &["KINESD_LOG", "KINESD_CREDENTIALS"];

/// The `KINESD_*` variables of the environment that name no option (a misspelt one would
/// otherwise be ignored without a word): warned about at start, not refused, since scripts
/// and test harnesses keep their own `KINESD_*` settings in the environment they pass on.
pub fn unknown_variables() -> Vec<String> {
    let candidates: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with("KINESD_") && !OTHER_VARIABLES.contains(&name.as_str()))
        .collect();
    if candidates.is_empty() {
        // The usual case, without building clap's command a second time.
        return candidates;
    }
    let cmd = command();
    let known: Vec<String> = cmd
        .get_arguments()
        .filter_map(|a| a.get_env())
        .map(|e| e.to_string_lossy().into_owned())
        .collect();
    candidates
        .into_iter()
        .filter(|name| !known.contains(name))
        .collect()
}

fn env_name(id: &str) -> String {
    format!("KINESD_{}", id.to_ascii_uppercase())
}

/// Why the options were refused: clap's own errors (and `--help`, `--version`) are shown by
/// clap; the others are one line.
pub enum Refusal {
    Clap(clap::Error),
    Message(String),
}

impl From<clap::Error> for Refusal {
    fn from(e: clap::Error) -> Self {
        Refusal::Clap(e)
    }
}

/// Parses the command line, the environment and the file, or says in one message why not.
pub fn load(argv: Vec<OsString>) -> Result<Loaded, Refusal> {
    let cmd = command();
    let parse = |argv: &[OsString]| {
        cmd.clone()
            .try_get_matches_from(argv)
            .map_err(|e| name_the_variable(&cmd, e, argv))
    };
    let first = parse(&argv)?;
    let mut file = match first.get_one::<PathBuf>("config") {
        Some(path) => Some(read_file(path).map_err(Refusal::Message)?),
        None => None,
    };
    // Without a file the first reading is the only one: each is a copy of clap's command and
    // a parse, at every start.
    let matches = match &mut file {
        Some(file) => {
            let flags = file_flags(&cmd, &first, file).map_err(Refusal::Message)?;
            let mut layered = argv.clone();
            layered.splice(1..1, flags);
            parse(&layered)?
        }
        None => first,
    };
    let args = Args::from_arg_matches(&matches)?;
    let short_form = !matches!(
        matches.value_source("streams"),
        Some(ValueSource::DefaultValue)
    );
    let streams = match &file {
        Some(file) if !short_form => file.streams.clone(),
        _ => kinesd::streams::declared::parse_list(&args.streams).map_err(|why| {
            let from = source_of(&matches, file.as_ref(), "streams");
            Refusal::Message(format!("streams ({from}): {why}"))
        })?,
    };
    Ok(Loaded {
        args,
        streams,
        matches,
        file,
    })
}

fn read_file(path: &Path) -> Result<ConfigFile, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the configuration file {shown}: {e}"))?;
    let table: BTreeMap<String, Spanned<toml::Value>> =
        toml::from_str(&text).map_err(|e| format!("{shown} is not valid TOML: {e}"))?;
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let streams_are_tables = table.get("streams").is_some_and(|v| v.get_ref().is_array());
    let values = table
        .into_iter()
        .map(|(key, value)| {
            let line = line_of(value.span().start);
            (key, (line, value.into_inner()))
        })
        .collect();
    let mut streams = Vec::new();
    if streams_are_tables {
        let tables: StreamTables = toml::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
        for table in tables.streams {
            let line = line_of(table.span().start);
            let declared = declared_stream(table.into_inner())
                .and_then(|d| d.check().map(|()| d))
                .map_err(|why| format!("{shown} line {line}: [[streams]]: {why}"))?;
            streams.push(declared);
        }
        kinesd::streams::declared::check_list(&streams)
            .map_err(|why| format!("{shown}: [[streams]]: {why}"))?;
    }
    Ok(ConfigFile {
        path: path.to_path_buf(),
        values,
        streams,
        used: Vec::new(),
    })
}

fn declared_stream(table: StreamTable) -> Result<DeclaredStream, String> {
    let on_demand = match table.mode.as_deref() {
        None | Some("PROVISIONED") => false,
        Some("ON_DEMAND") => true,
        Some(other) => {
            return Err(format!(
                "mode '{other}': expected \"PROVISIONED\" or \"ON_DEMAND\""
            ))
        }
    };
    let shards = match (on_demand, table.shards) {
        (true, Some(_)) => return Err("an ON_DEMAND stream has no shard count".into()),
        (true, None) => None,
        (false, shards) => Some(shards.unwrap_or(1)),
    };
    Ok(DeclaredStream {
        name: table.name,
        shards,
        retention_hours: table.retention_hours,
        tags: table.tags,
        consumers: table.consumers,
    })
}

/// The file's values as flags, for the options no flag or variable set. Each is checked on
/// its own first so that a bad one is reported with its line.
fn file_flags(
    cmd: &clap::Command,
    given: &ArgMatches,
    file: &mut ConfigFile,
) -> Result<Vec<OsString>, String> {
    let mut flags = Vec::new();
    for (key, (line, value)) in &file.values {
        let at = format!("{} line {line}: {key}", file.path.display());
        if key == "streams" && value.is_array() {
            continue; // [[streams]] tables, read by read_file
        }
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_id() == key.as_str() && a.get_long().is_some())
            .filter(|_| !NOT_LAYERED.contains(&key.as_str()))
            .ok_or_else(|| format!("{at}: unknown key; known keys: {}", known_keys(cmd)))?;
        let long = format!("--{}", arg.get_long().unwrap_or_default());
        let these = arg_flags(arg, &long, value).map_err(|why| format!("{at}: {why}"))?;
        // Checked alone, without the environment, so a failure is this value's.
        let mut alone = vec![OsString::from("kinesd")];
        alone.extend(these.iter().cloned());
        if let Err(e) = without_env(cmd).try_get_matches_from(alone) {
            return Err(format!("{at}: {}", clap_reason(&e)));
        }
        if matches!(
            given.value_source(key),
            Some(ValueSource::DefaultValue) | None
        ) {
            flags.extend(these);
            file.used.push(key.clone());
        }
    }
    Ok(flags)
}

/// One option's value from the file, as the flags that would give it.
fn arg_flags(arg: &clap::Arg, long: &str, value: &toml::Value) -> Result<Vec<OsString>, String> {
    let scalar = |v: &toml::Value| match v {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        other => Err(format!(
            "expected a string or a whole number, found {}",
            other.type_str()
        )),
    };
    match (arg.get_action(), value) {
        (ArgAction::SetTrue, toml::Value::Boolean(on)) => {
            Ok(if *on { vec![long.into()] } else { vec![] })
        }
        (ArgAction::SetTrue, other) => Err(format!(
            "expected true or false, found {}",
            other.type_str()
        )),
        (ArgAction::Append, toml::Value::Array(items)) => items
            .iter()
            .map(|item| scalar(item).map(|v| format!("{long}={v}").into()))
            .collect(),
        (_, toml::Value::Array(_)) => Err("expected one value, found an array".into()),
        (_, value) => Ok(vec![format!("{long}={}", scalar(value)?).into()]),
    }
}

fn without_env(cmd: &clap::Command) -> clap::Command {
    cmd.clone().mut_args(|arg| arg.env(None::<&'static str>))
}

/// clap's reason for refusing a value (with the values it allows), without its usage lines.
fn clap_reason(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let reason: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    reason.join(" ").trim_start_matches("error: ").to_string()
}

/// clap names the flag of a refused value even when the value came from a variable; this
/// names the variable instead.
fn name_the_variable(cmd: &clap::Command, e: clap::Error, argv: &[OsString]) -> Refusal {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(shown)) = e.get(ContextKind::InvalidArg) else {
        return Refusal::Clap(e);
    };
    let long = shown.split_whitespace().next().unwrap_or_default();
    let on_line = argv.iter().any(|a| {
        let a = a.to_string_lossy();
        a == long || a.starts_with(&format!("{long}="))
    });
    let variable = cmd
        .get_arguments()
        .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == long))
        .and_then(|a| a.get_env())
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| std::env::var_os(v).is_some());
    match variable {
        Some(variable) if !on_line => {
            Refusal::Message(format!("environment {variable}: {}", clap_reason(&e)))
        }
        _ => Refusal::Clap(e),
    }
}

fn known_keys(cmd: &clap::Command) -> String {
    let mut keys: Vec<&str> = cmd
        .get_arguments()
        .filter(|a| a.get_long().is_some())
        .map(|a| a.get_id().as_str())
        .filter(|id| !NOT_LAYERED.contains(id))
        .collect();
    keys.push("[[streams]]");
    keys.join(", ")
}

/// Where the value of option `id` came from.
fn source_of(matches: &ArgMatches, file: Option<&ConfigFile>, id: &str) -> Source {
    let cmd = command();
    let arg = cmd.get_arguments().find(|a| a.get_id() == id);
    match matches.value_source(id) {
        Some(ValueSource::CommandLine) => match file.filter(|f| f.used.iter().any(|u| u == id)) {
            Some(f) => Source::File {
                path: f.path.clone(),
                line: f.values.get(id).map_or(0, |(line, _)| *line),
            },
            None => Source::Flag(format!(
                "--{}",
                arg.and_then(|a| a.get_long()).unwrap_or(id)
            )),
        },
        Some(ValueSource::EnvVariable) => Source::Environment(
            arg.and_then(|a| a.get_env())
                .map_or(env_name(id), |e| e.to_string_lossy().into_owned()),
        ),
        Some(ValueSource::DefaultValue) => Source::Default,
        _ => Source::Unset,
    }
}

impl Loaded {
    /// The effective configuration as a TOML file, each value with where it came from.
    pub fn render(&self) -> String {
        let cmd = command();
        let mut out = String::from("# kinesd's effective configuration (`--print-config`)\n");
        let bare = without_env(&cmd);
        for arg in cmd.get_arguments().filter(|a| a.get_long().is_some()) {
            let id = arg.get_id().as_str();
            if NOT_LAYERED.contains(&id) {
                continue;
            }
            let source = source_of(&self.matches, self.file.as_ref(), id);
            let value = match arg.get_action() {
                ArgAction::SetTrue => self.matches.get_flag(id).to_string(),
                _ => {
                    let values: Vec<String> = self
                        .matches
                        .get_raw(id)
                        .into_iter()
                        .flatten()
                        .map(|v| toml_value(&bare, arg, &v.to_string_lossy()))
                        .collect();
                    match (arg.get_action(), values.len()) {
                        (ArgAction::Append, _) => format!("[{}]", values.join(", ")),
                        (_, 0) => String::new(),
                        _ => values.join(", "),
                    }
                }
            };
            let tables = self.file.as_ref().is_some_and(|f| !f.streams.is_empty());
            if id == "streams" && tables && matches!(source, Source::Default) {
                continue; // the file's [[streams]] tables, printed below
            }
            if value.is_empty() {
                out.push_str(&format!("# {id} is {source}\n"));
            } else {
                out.push_str(&format!("{id} = {value}  # {source}\n"));
            }
        }
        if let Some(file) = self.file.as_ref().filter(|f| !f.streams.is_empty()) {
            if matches!(
                self.matches.value_source("streams"),
                Some(ValueSource::DefaultValue)
            ) {
                out.push_str(&format!("# [[streams]] from {}\n", file.path.display()));
                for s in &file.streams {
                    out.push_str(&stream_table(s));
                }
            }
        }
        out
    }
}

/// A value as TOML: a number for an option that takes only numbers (which clap tells by
/// refusing a word), anything else quoted.
fn toml_value(cmd: &clap::Command, arg: &clap::Arg, text: &str) -> String {
    let long = arg.get_long().unwrap_or_default();
    let takes_words = cmd
        .clone()
        .try_get_matches_from(["kinesd", &format!("--{long}=x")])
        .is_ok();
    match text.parse::<i64>() {
        Ok(_) if !takes_words => text.to_string(),
        _ => toml::Value::String(text.to_string()).to_string(),
    }
}

fn stream_table(s: &DeclaredStream) -> String {
    let quote = |t: &str| toml::Value::String(t.to_string()).to_string();
    let mut out = format!("\n[[streams]]\nname = {}\n", quote(&s.name));
    match s.shards {
        Some(n) => out.push_str(&format!("shards = {n}\n")),
        None => out.push_str("mode = \"ON_DEMAND\"\n"),
    }
    if let Some(h) = s.retention_hours {
        out.push_str(&format!("retention_hours = {h}\n"));
    }
    if !s.tags.is_empty() {
        let tags: Vec<String> = s
            .tags
            .iter()
            .map(|(k, v)| format!("{} = {}", quote(k), quote(v)))
            .collect();
        out.push_str(&format!("tags = {{ {} }}\n", tags.join(", ")));
    }
    if !s.consumers.is_empty() {
        let names: Vec<String> = s.consumers.iter().map(|c| quote(c)).collect();
        out.push_str(&format!("consumers = [{}]\n", names.join(", ")));
    }
    out
}
