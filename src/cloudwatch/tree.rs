//! The three request encodings decoded into one tree, so PutMetricData is parsed and
//! validated once whatever the wire.
//!
//! The query protocol's flattened names (`MetricData.member.1.Dimensions.member.2.Name`)
//! become nested maps, and a map holding only `member.<n>` entries becomes a list in index
//! order, so it reads like the JSON and CBOR shapes. Query values stay text; the parser
//! converts numbers and timestamps where the model says so.

use super::datum::CwError;
use super::Wire;
use std::collections::BTreeMap;

/// One decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Map(BTreeMap<String, Node>),
    List(Vec<Node>),
    Text(String),
    Num(f64),
    Bool(bool),
    Null,
}

/// A decoded request body: its top-level members.
#[derive(Debug)]
pub struct Request {
    pub members: BTreeMap<String, Node>,
}

impl Request {
    /// The query protocol's `Action`.
    pub fn action(&self) -> Result<String, CwError> {
        match self.members.get("Action") {
            Some(Node::Text(action)) if !action.is_empty() => Ok(action.clone()),
            _ => Err(CwError::missing_action()),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Node> {
        self.members.get(name)
    }
}

/// Decodes a body in the request's encoding.
pub fn decode(wire: &Wire, body: &[u8]) -> Result<Request, CwError> {
    let root = match wire {
        Wire::Query => query(body),
        Wire::Json(_) => json(body)?,
        Wire::Cbor(_) => cbor(body)?,
    };
    match root {
        Node::Map(members) => Ok(Request { members }),
        _ => Err(CwError::serialization()),
    }
}

fn json(body: &[u8]) -> Result<Node, CwError> {
    // An empty body is an empty input, as the JSON protocols allow.
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Node::Map(BTreeMap::new()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| CwError::serialization())?;
    Ok(from_json(value))
}

fn from_json(value: serde_json::Value) -> Node {
    use serde_json::Value;
    match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(b),
        Value::Number(n) => Node::Num(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => Node::Text(s),
        Value::Array(items) => Node::List(items.into_iter().map(from_json).collect()),
        Value::Object(members) => Node::Map(
            members
                .into_iter()
                .map(|(k, v)| (k, from_json(v)))
                .collect(),
        ),
    }
}

fn cbor(body: &[u8]) -> Result<Node, CwError> {
    if body.is_empty() {
        return Ok(Node::Map(BTreeMap::new()));
    }
    let mut rest = body;
    let value: ciborium::Value =
        ciborium::de::from_reader(&mut rest).map_err(|_| CwError::serialization())?;
    if !rest.is_empty() {
        return Err(CwError::serialization());
    }
    from_cbor(value)
}

fn from_cbor(value: ciborium::Value) -> Result<Node, CwError> {
    use ciborium::Value;
    Ok(match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Bool(b),
        Value::Integer(i) => Node::Num(i128::from(i) as f64),
        Value::Float(f) => Node::Num(f),
        Value::Text(s) => Node::Text(s),
        // Tag 1 (epoch seconds) around a timestamp: the number is what counts.
        Value::Tag(_, inner) => from_cbor(*inner)?,
        Value::Array(items) => {
            Node::List(items.into_iter().map(from_cbor).collect::<Result<_, _>>()?)
        }
        Value::Map(entries) => {
            let mut members = BTreeMap::new();
            for (key, value) in entries {
                let Value::Text(key) = key else {
                    return Err(CwError::serialization());
                };
                members.insert(key, from_cbor(value)?);
            }
            Node::Map(members)
        }
        Value::Bytes(_) => return Err(CwError::serialization()),
        _ => return Err(CwError::serialization()),
    })
}

fn query(body: &[u8]) -> Node {
    let mut root = Node::Map(BTreeMap::new());
    for (name, value) in form_urlencoded::parse(body) {
        let mut at = &mut root;
        for part in name.split('.') {
            let Node::Map(members) = at else {
                // `A=1&A.B=2`: the deeper name loses, as a repeated scalar would.
                break;
            };
            at = members
                .entry(part.to_string())
                .or_insert_with(|| Node::Map(BTreeMap::new()));
        }
        if matches!(at, Node::Map(m) if m.is_empty()) {
            *at = Node::Text(value.into_owned());
        }
    }
    lists(root)
}

/// Turns every `{member: {1: …, 2: …}}` into a list ordered by index.
fn lists(node: Node) -> Node {
    let Node::Map(mut members) = node else {
        return node;
    };
    if members.len() == 1 {
        if let Some(Node::Map(items)) = members.get("member") {
            if items.keys().all(|k| k.parse::<u32>().is_ok()) {
                let Some(Node::Map(items)) = members.remove("member") else {
                    unreachable!("checked just above");
                };
                let mut indexed: Vec<(u32, Node)> = items
                    .into_iter()
                    .map(|(k, v)| (k.parse().unwrap_or(u32::MAX), lists(v)))
                    .collect();
                indexed.sort_by_key(|(i, _)| *i);
                return Node::List(indexed.into_iter().map(|(_, v)| v).collect());
            }
        }
    }
    Node::Map(members.into_iter().map(|(k, v)| (k, lists(v))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_names_nest_and_members_become_ordered_lists() {
        let body = b"Action=PutMetricData&Namespace=ns&MetricData.member.2.MetricName=b\
&MetricData.member.1.MetricName=a&MetricData.member.1.Dimensions.member.1.Name=d\
&MetricData.member.1.Dimensions.member.1.Value=v%20w&MetricData.member.10.MetricName=c";
        let request = decode(&Wire::Query, body).unwrap();
        assert_eq!(request.action().unwrap(), "PutMetricData");
        let Some(Node::List(data)) = request.get("MetricData") else {
            panic!("MetricData is a list: {request:?}");
        };
        let names: Vec<_> = data
            .iter()
            .map(|d| match d {
                Node::Map(m) => m["MetricName"].clone(),
                _ => Node::Null,
            })
            .collect();
        assert_eq!(
            names,
            ["a", "b", "c"].map(|s| Node::Text(s.into())).to_vec()
        );
        let Node::Map(first) = &data[0] else { panic!() };
        let Node::List(dims) = &first["Dimensions"] else {
            panic!()
        };
        assert_eq!(dims.len(), 1);
        let Node::Map(dim) = &dims[0] else { panic!() };
        assert_eq!(dim["Value"], Node::Text("v w".into()));
    }

    #[test]
    fn malformed_json_and_cbor_are_serialization_errors() {
        for (wire, body) in [
            (Wire::Json("PutMetricData".into()), &b"{\"a\":"[..]),
            (Wire::Json("PutMetricData".into()), &b"[1]"[..]),
            (Wire::Cbor("PutMetricData".into()), &[0xa1, 0x61][..]),
            (Wire::Cbor("PutMetricData".into()), &[0x01][..]),
            (Wire::Cbor("PutMetricData".into()), &[0xa0, 0x00][..]),
        ] {
            let e = decode(&wire, body).unwrap_err();
            assert_eq!(e.code, "SerializationException", "{body:?}");
        }
    }

    #[test]
    fn cbor_tags_are_unwrapped() {
        // {"T": 1(1.5)}
        let body = [0xa1, 0x61, b'T', 0xc1, 0xf9, 0x3e, 0x00];
        let request = decode(&Wire::Cbor("PutMetricData".into()), &body).unwrap();
        assert_eq!(request.get("T"), Some(&Node::Num(1.5)));
    }
}
