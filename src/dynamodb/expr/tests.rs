//! The expression language end to end: text parsed with placeholders, then evaluated against
//! an item or applied to it.

use super::eval::holds;
use super::parser::{self, Kind};
use super::update::{apply, check_overlaps};
use super::Placeholders;
use crate::dynamodb::value::{item_from_map, Item, Value};
use serde_json::json;
use std::collections::BTreeMap;

fn item(j: serde_json::Value) -> Item {
    item_from_map(j.as_object().unwrap()).unwrap()
}

fn sample() -> Item {
    item(json!({
        "k": {"S": "shard-1"},
        "n": {"N": "10"},
        "f": {"N": "2.5"},
        "s": {"S": "hello"},
        "nul": {"NULL": true},
        "tags": {"SS": ["a", "b"]},
        "m": {"M": {"inner": {"M": {"pid": {"N": "7"}}}, "x": {"S": "y"}}},
        "l": {"L": [{"N": "1"}, {"S": "two"}]},
    }))
}

fn placeholders(values: serde_json::Value) -> Placeholders {
    let names: BTreeMap<String, String> = [("#m", "m"), ("#p", "pid"), ("#n", "n")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Placeholders::new(names, item(values))
}

fn eval(text: &str, values: serde_json::Value) -> bool {
    let mut ph = placeholders(values);
    let c = parser::condition(text, Kind::Condition, &mut ph)
        .unwrap_or_else(|e| panic!("{text}: {}", e.message));
    holds(&sample(), &c, "ConditionExpression").unwrap()
}

fn parse_error(text: &str, values: serde_json::Value) -> String {
    let mut ph = placeholders(values);
    parser::condition(text, Kind::Condition, &mut ph)
        .map(|_| ())
        .unwrap_err()
        .message
}

#[test]
fn comparisons_are_typed_and_numeric() {
    let v = json!({":ten": {"N": "10.0"}, ":s": {"S": "10"}, ":null": {"NULL": true}, ":nine": {"N": "9"}});
    assert!(eval("n = :ten", v.clone()));
    assert!(eval("#n = :ten", v.clone()));
    assert!(!eval("n = :s", v.clone()));
    assert!(eval("n <> :s", v.clone()));
    assert!(!eval("n < :s", v.clone()), "no order across types");
    assert!(eval("nul = :null", v.clone()), "NULL equals NULL");
    assert!(
        !eval("missing = :null", v.clone()),
        "a missing attribute compares false"
    );
    assert!(!eval("missing <> :null", v.clone()));
    assert!(eval("n > :nine AND f < :nine", v.clone()));
    assert!(eval("n >= :ten AND n <= :ten", v));
}

#[test]
fn logic_precedence_and_parentheses() {
    let v = json!({":a": {"N": "1"}, ":b": {"N": "10"}});
    // AND binds tighter than OR: false OR (true AND true).
    assert!(eval("n = :a OR n = :b AND n > :a", v.clone()));
    // (false OR true) AND false.
    assert!(!eval("(n = :a OR n = :b) AND n < :a", v.clone()));
    assert!(eval("NOT n = :a", v.clone()));
    assert!(eval("not (n = :a) and NOT NOT n = :b", v.clone()));
    assert!(eval("n IN (:a, :b)", v.clone()));
    assert!(eval("n BETWEEN :a AND :b", v.clone()));
    assert!(eval("f BETWEEN :a AND :b", v));
}

#[test]
fn functions_and_paths() {
    let v = json!({":h": {"S": "he"}, ":a": {"S": "a"}, ":two": {"N": "2"}, ":seven": {"N": "7"},
                   ":t": {"S": "SS"}, ":five": {"N": "5"}, ":one": {"N": "1"}});
    assert!(eval(
        "attribute_exists(#m.inner.#p) AND attribute_not_exists(#m.nope)",
        v.clone()
    ));
    assert!(
        eval("attribute_exists (k)", v.clone()),
        "space before the parenthesis"
    );
    assert!(eval("#m.inner.#p = :seven AND l[0] = :one", v.clone()));
    assert!(eval(
        "begins_with(s, :h) AND contains(tags, :a) AND contains(s, :h)",
        v.clone()
    ));
    assert!(eval(
        "size(tags) = :two AND size(s) = :five AND size(l) = :two",
        v.clone()
    ));
    assert!(!eval("size(n) = :two", v.clone()), "a number has no size");
    assert!(eval("attribute_type(tags, :t)", v));
}

#[test]
fn expression_errors_name_the_culprit() {
    assert_eq!(
        parse_error("n = :nope", json!({})),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"
    );
    assert_eq!(
        parse_error("#zz = :a", json!({":a": {"S": "x"}})),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #zz"
    );
    assert_eq!(
        parse_error("n = = :a", json!({":a": {"S": "x"}})),
        "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :a\""
    );
    assert_eq!(
        parse_error("n = :a AND", json!({":a": {"S": "x"}})),
        "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\""
    );
    assert_eq!(
        parse_error("frob(n)", json!({})),
        "Invalid ConditionExpression: Invalid function name; function: frob"
    );
    assert_eq!(
        parse_error("", json!({})),
        "Invalid ConditionExpression: The expression can not be empty;"
    );
    assert!(parse_error("n ! :a", json!({":a": {"S": "x"}})).contains("Syntax error; token: \"!\""));
    let mut ph = placeholders(json!({":a": {"N": "5"}, ":b": {"N": "1"}}));
    let c = parser::condition("n BETWEEN :a AND :b", Kind::Condition, &mut ph).unwrap();
    let e = holds(&sample(), &c, "ConditionExpression").unwrap_err();
    assert!(
        e.message.contains("BETWEEN operator requires upper bound"),
        "{}",
        e.message
    );
}

#[test]
fn unused_placeholders_are_refused() {
    let mut ph = placeholders(json!({":a": {"N": "1"}, ":b": {"N": "2"}}));
    parser::condition("n = :a", Kind::Condition, &mut ph).unwrap();
    let e = ph.check_all_used().unwrap_err();
    assert_eq!(
        e.message,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#m, #n, #p}"
    );
}

fn update(text: &str, values: serde_json::Value) -> Result<Item, String> {
    let mut ph = placeholders(values);
    let actions = parser::update(text, &mut ph).map_err(|e| e.message)?;
    check_overlaps(&actions).map_err(|e| e.message)?;
    apply(&sample(), &actions).map_err(|e| e.message)
}

#[test]
fn updates_compute_against_the_old_item() {
    let v = json!({":one": {"N": "1"}, ":zero": {"N": "0"}, ":l": {"L": [{"BOOL": true}]},
                   ":b": {"SS": ["b", "c"]}, ":x": {"S": "new"}});
    let out = update(
        "SET n = n + :one, f = n - f, fresh = if_not_exists(fresh, :zero), l = list_append(l, :l), #m.#p = :x REMOVE s, l[0] ADD tags :b, counter :one",
        v.clone(),
    );
    // `l = …` and `l[0]` overlap: refused.
    assert!(out.unwrap_err().contains("Two document paths"));
    let out = update(
        "SET n = n + :one, f = n - f, fresh = if_not_exists(fresh, :zero), l = list_append(l, :l), #m.#p = :x REMOVE s ADD tags :b, counter :one",
        v.clone(),
    )
    .unwrap();
    assert_eq!(
        out["n"],
        Value::N(crate::dynamodb::number::Number::parse("11").unwrap())
    );
    assert_eq!(
        out["f"].to_json(),
        json!({"N": "7.5"}),
        "operands read the old n"
    );
    assert_eq!(out["fresh"].to_json(), json!({"N": "0"}));
    assert_eq!(
        out["l"].to_json(),
        json!({"L": [{"N": "1"}, {"S": "two"}, {"BOOL": true}]})
    );
    assert_eq!(out["m"].to_json()["M"]["pid"], json!({"S": "new"}));
    assert!(!out.contains_key("s"));
    assert_eq!(out["tags"].to_json(), json!({"SS": ["a", "b", "c"]}));
    assert_eq!(out["counter"].to_json(), json!({"N": "1"}));

    let out = update("REMOVE l[0] DELETE tags :b", v.clone()).unwrap();
    assert_eq!(out["l"].to_json(), json!({"L": [{"S": "two"}]}));
    assert_eq!(out["tags"].to_json(), json!({"SS": ["a"]}));

    assert!(update("SET s = s + :one", v.clone())
        .unwrap_err()
        .contains("incorrect data type"));
    assert!(update("SET nope.deeper = :one", v.clone())
        .unwrap_err()
        .contains("document path provided in the update expression is invalid"));
    assert!(update("SET q = q + :one", v.clone())
        .unwrap_err()
        .contains("does not exist in the item"));
    assert!(update("SET n = :one SET f = :one", v.clone())
        .unwrap_err()
        .contains("\"SET\" section can only be used once"));
    assert!(update("ADD #m.x :one", v)
        .unwrap_err()
        .contains("incorrect data type"));
}

#[test]
fn size_and_depth_are_bounded() {
    let deep = format!("{}n = :a{}", "(".repeat(2000), ")".repeat(2000));
    let e = parse_error(&deep, json!({":a": {"N": "1"}}));
    assert!(e.contains("nested more than 64 levels"), "{e}");
    let nots = format!("{}n = :a", "NOT ".repeat(1000));
    assert!(parse_error(&nots, json!({":a": {"N": "1"}})).contains("nested"));
    let long = format!("n = :a{}", " ".repeat(5000));
    assert!(parse_error(&long, json!({":a": {"N": "1"}})).contains("Expression size has exceeded"));
    let mut ph = placeholders(json!({":a": {"N": "1"}}));
    let fine = format!("{}n = :a{}", "(".repeat(60), ")".repeat(60));
    assert!(parser::condition(&fine, Kind::Condition, &mut ph).is_ok());
}
