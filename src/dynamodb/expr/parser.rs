//! Tokens → condition trees, update actions and projections, with placeholders resolved.
//!
//! Grammar (keywords case-insensitive):
//! ```text
//! condition := and ("OR" and)*
//! and       := not ("AND" not)*
//! not       := "NOT" not | "(" condition ")" | function | operand rest
//! rest      := comparator operand | "BETWEEN" operand "AND" operand
//!            | "IN" "(" operand ("," operand)* ")"
//! function  := attribute_exists(path) | attribute_not_exists(path)
//!            | attribute_type(path, operand) | begins_with(operand, operand)
//!            | contains(operand, operand)
//! operand   := path | :value | size(path)
//! update    := (SET set ("," set)* | REMOVE path ("," path)* | ADD path :value ("," …)*
//!              | DELETE path :value ("," …)*)+
//! set       := path "=" term (("+" | "-") term)?
//! term      := path | :value | if_not_exists(path, term) | list_append(term, term)
//! projection:= path ("," path)*
//! ```

use super::lexer::{tokenize, Tok};
use super::{Action, Comparator, Condition, Operand, Path, Placeholders, Step};
use crate::dynamodb::error::DynError;

/// Which parameter is parsed: it names the expression in every message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl Kind {
    pub fn parameter(self) -> &'static str {
        match self {
            Kind::Condition => "ConditionExpression",
            Kind::Filter => "FilterExpression",
            Kind::KeyCondition => "KeyConditionExpression",
            Kind::Update => "UpdateExpression",
            Kind::Projection => "ProjectionExpression",
        }
    }
}

/// Longest expression DynamoDB takes, in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;

/// Deepest nesting of parentheses, `NOT`s and update functions parsed: the parser recurses
/// once per level, and an expression within the size limit could otherwise nest thousands
/// deep.
const MAX_DEPTH: usize = 64;

struct Parser<'a> {
    toks: Vec<Tok>,
    at: usize,
    kind: Kind,
    ph: &'a mut Placeholders,
    depth: usize,
}

pub fn condition(text: &str, kind: Kind, ph: &mut Placeholders) -> Result<Condition, DynError> {
    let mut p = Parser::new(text, kind, ph)?;
    let c = p.condition()?;
    p.finish()?;
    Ok(c)
}

pub fn update(text: &str, ph: &mut Placeholders) -> Result<Vec<Action>, DynError> {
    let mut p = Parser::new(text, Kind::Update, ph)?;
    let actions = p.update()?;
    p.finish()?;
    Ok(actions)
}

pub fn projection(text: &str, ph: &mut Placeholders) -> Result<Vec<Path>, DynError> {
    let mut p = Parser::new(text, Kind::Projection, ph)?;
    let mut paths = vec![p.path()?];
    while p.eat(&Tok::Comma) {
        paths.push(p.path()?);
    }
    p.finish()?;
    Ok(paths)
}

impl<'a> Parser<'a> {
    fn new(text: &str, kind: Kind, ph: &'a mut Placeholders) -> Result<Parser<'a>, DynError> {
        if text.trim().is_empty() {
            return Err(DynError::validation(format!(
                "Invalid {}: The expression can not be empty;",
                kind.parameter()
            )));
        }
        if text.len() > MAX_EXPRESSION_BYTES {
            return Err(DynError::validation(format!(
                "Invalid {}: Expression size has exceeded the maximum allowed size; expression size: {}",
                kind.parameter(),
                text.len()
            )));
        }
        let toks = tokenize(text).map_err(|bad| {
            DynError::validation(format!(
                "Invalid {}: Syntax error; token: \"{}\", near: \"{}\"",
                kind.parameter(),
                bad.0,
                bad.0
            ))
        })?;
        Ok(Parser {
            toks,
            at: 0,
            kind,
            ph,
            depth: 0,
        })
    }

    fn invalid(&self, what: impl std::fmt::Display) -> DynError {
        DynError::validation(format!("Invalid {}: {what}", self.kind.parameter()))
    }

    /// DynamoDB's syntax error: the offending token and its neighbours.
    fn syntax_error(&self) -> DynError {
        let token = self
            .toks
            .get(self.at)
            .map(Tok::text)
            .unwrap_or_else(|| "<EOF>".into());
        let from = self.at.saturating_sub(1);
        let near: String = self
            .toks
            .iter()
            .skip(from)
            .take(3)
            .map(Tok::text)
            .collect::<Vec<_>>()
            .join(" ");
        self.invalid(format!(
            "Syntax error; token: \"{token}\", near: \"{near}\""
        ))
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        if self.peek() == Some(tok) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        if self.peek().is_some_and(|t| t.is_keyword(keyword)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, tok: &Tok) -> Result<(), DynError> {
        if self.eat(tok) {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    fn finish(&self) -> Result<(), DynError> {
        if self.at < self.toks.len() {
            return Err(self.syntax_error());
        }
        Ok(())
    }

    fn condition(&mut self) -> Result<Condition, DynError> {
        let mut left = self.and()?;
        while self.eat_keyword("OR") {
            left = Condition::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Condition, DynError> {
        let mut left = self.not()?;
        while self.eat_keyword("AND") {
            left = Condition::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    /// One level deeper, refused past [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, DynError>,
    ) -> Result<T, DynError> {
        if self.depth >= MAX_DEPTH {
            return Err(self.invalid(format!(
                "The expression is nested more than {MAX_DEPTH} levels deep"
            )));
        }
        self.depth += 1;
        let parsed = parse(self);
        self.depth -= 1;
        parsed
    }

    fn not(&mut self) -> Result<Condition, DynError> {
        self.nested(Self::not_inner)
    }

    fn not_inner(&mut self) -> Result<Condition, DynError> {
        if self.eat_keyword("NOT") {
            return Ok(Condition::Not(Box::new(self.not()?)));
        }
        if self.eat(&Tok::Open) {
            let inner = self.condition()?;
            self.expect(&Tok::Close)?;
            return Ok(inner);
        }
        if let Some(name) = self.function_name() {
            if name != "size" {
                return self.function_condition(&name);
            }
        }
        let left = self.operand()?;
        let comparator = match self.peek() {
            Some(Tok::Eq) => Comparator::Eq,
            Some(Tok::Ne) => Comparator::Ne,
            Some(Tok::Lt) => Comparator::Lt,
            Some(Tok::Le) => Comparator::Le,
            Some(Tok::Gt) => Comparator::Gt,
            Some(Tok::Ge) => Comparator::Ge,
            Some(t) if t.is_keyword("BETWEEN") => {
                self.at += 1;
                let low = self.operand()?;
                if !self.eat_keyword("AND") {
                    return Err(self.syntax_error());
                }
                let high = self.operand()?;
                return Ok(Condition::Between(left, low, high));
            }
            Some(t) if t.is_keyword("IN") => {
                self.at += 1;
                self.expect(&Tok::Open)?;
                let mut list = vec![self.operand()?];
                while self.eat(&Tok::Comma) {
                    list.push(self.operand()?);
                }
                self.expect(&Tok::Close)?;
                if list.len() > 100 {
                    return Err(self.invalid(
                        "The IN operator is provided with too many operands; number of operands: "
                            .to_string()
                            + &list.len().to_string(),
                    ));
                }
                return Ok(Condition::In(left, list));
            }
            _ => return Err(self.syntax_error()),
        };
        self.at += 1;
        let right = self.operand()?;
        Ok(Condition::Compare(left, comparator, right))
    }

    /// A word followed by `(`: a function call.
    fn function_name(&self) -> Option<String> {
        match (self.toks.get(self.at), self.toks.get(self.at + 1)) {
            (Some(Tok::Word(w)), Some(Tok::Open)) => Some(w.clone()),
            _ => None,
        }
    }

    fn function_condition(&mut self, name: &str) -> Result<Condition, DynError> {
        self.at += 2;
        let condition = match name {
            "attribute_exists" => Condition::Exists(self.path()?),
            "attribute_not_exists" => Condition::NotExists(self.path()?),
            "attribute_type" => {
                let path = self.path()?;
                self.expect(&Tok::Comma)?;
                Condition::Type(path, self.operand()?)
            }
            "begins_with" | "contains" => {
                let a = self.operand()?;
                self.expect(&Tok::Comma)?;
                let b = self.operand()?;
                if name == "contains" {
                    Condition::Contains(a, b)
                } else {
                    Condition::BeginsWith(a, b)
                }
            }
            "if_not_exists" | "list_append" => {
                return Err(self.invalid(format!(
                    "The function is not allowed to be used this way in an expression; function: {name}"
                )))
            }
            _ => return Err(self.invalid(format!("Invalid function name; function: {name}"))),
        };
        self.expect(&Tok::Close)?;
        Ok(condition)
    }

    fn operand(&mut self) -> Result<Operand, DynError> {
        if let Some(name) = self.function_name() {
            if name == "size" {
                self.at += 2;
                let path = self.path()?;
                self.expect(&Tok::Close)?;
                return Ok(Operand::Size(path));
            }
            if matches!(
                name.as_str(),
                "attribute_exists"
                    | "attribute_not_exists"
                    | "attribute_type"
                    | "begins_with"
                    | "contains"
                    | "if_not_exists"
                    | "list_append"
            ) {
                return Err(self.invalid(format!(
                    "The function is not allowed to be used this way in an expression; function: {name}"
                )));
            }
            return Err(self.invalid(format!("Invalid function name; function: {name}")));
        }
        if let Some(Tok::Placeholder(_)) = self.peek() {
            return Ok(Operand::Value(self.value()?));
        }
        Ok(Operand::Path(self.path()?))
    }

    fn value(&mut self) -> Result<crate::dynamodb::value::Value, DynError> {
        let Some(Tok::Placeholder(p)) = self.peek().cloned() else {
            return Err(self.syntax_error());
        };
        self.at += 1;
        let Some(value) = self.ph.values.get(&p).cloned() else {
            return Err(self.invalid(format!(
                "An expression attribute value used in expression is not defined; attribute value: {p}"
            )));
        };
        self.ph.used_values.insert(p);
        Ok(value)
    }

    fn name_step(&mut self) -> Result<String, DynError> {
        match self.peek().cloned() {
            Some(Tok::Word(w)) => {
                self.at += 1;
                Ok(w)
            }
            Some(Tok::Name(n)) => {
                self.at += 1;
                let Some(name) = self.ph.names.get(&n).cloned() else {
                    return Err(self.invalid(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {n}"
                    )));
                };
                self.ph.used_names.insert(n);
                Ok(name)
            }
            _ => Err(self.syntax_error()),
        }
    }

    pub(super) fn path(&mut self) -> Result<Path, DynError> {
        let mut path = vec![Step::Attr(self.name_step()?)];
        loop {
            if self.eat(&Tok::Dot) {
                path.push(Step::Attr(self.name_step()?));
            } else if self.eat(&Tok::OpenBracket) {
                let Some(Tok::Index(digits)) = self.peek().cloned() else {
                    return Err(self.syntax_error());
                };
                self.at += 1;
                let index = digits.parse::<usize>().map_err(|_| self.syntax_error())?;
                self.expect(&Tok::CloseBracket)?;
                path.push(Step::Index(index));
            } else {
                return Ok(path);
            }
        }
    }

    fn update(&mut self) -> Result<Vec<Action>, DynError> {
        let mut actions = Vec::new();
        let mut seen: Vec<&'static str> = Vec::new();
        while self.peek().is_some() {
            let clause = match self.peek() {
                Some(t) if t.is_keyword("SET") => "SET",
                Some(t) if t.is_keyword("REMOVE") => "REMOVE",
                Some(t) if t.is_keyword("ADD") => "ADD",
                Some(t) if t.is_keyword("DELETE") => "DELETE",
                _ => return Err(self.syntax_error()),
            };
            if seen.contains(&clause) {
                return Err(self.invalid(format!(
                    "The \"{clause}\" section can only be used once in an update expression;"
                )));
            }
            seen.push(clause);
            self.at += 1;
            loop {
                let path = self.path()?;
                let action = match clause {
                    "SET" => {
                        self.expect(&Tok::Eq)?;
                        Action::Set(path, self.set_value()?)
                    }
                    "REMOVE" => Action::Remove(path),
                    "ADD" => Action::Add(path, self.value()?),
                    _ => Action::Delete(path, self.value()?),
                };
                actions.push(action);
                if !self.eat(&Tok::Comma) {
                    break;
                }
            }
        }
        Ok(actions)
    }

    fn set_value(&mut self) -> Result<Operand, DynError> {
        let left = self.term()?;
        if self.eat(&Tok::Plus) {
            return Ok(Operand::Plus(Box::new(left), Box::new(self.term()?)));
        }
        if self.eat(&Tok::Minus) {
            return Ok(Operand::Minus(Box::new(left), Box::new(self.term()?)));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Operand, DynError> {
        self.nested(Self::term_inner)
    }

    fn term_inner(&mut self) -> Result<Operand, DynError> {
        match self.function_name().as_deref() {
            Some("if_not_exists") => {
                self.at += 2;
                let path = self.path()?;
                self.expect(&Tok::Comma)?;
                let fallback = self.term()?;
                self.expect(&Tok::Close)?;
                Ok(Operand::IfNotExists(path, Box::new(fallback)))
            }
            Some("list_append") => {
                self.at += 2;
                let a = self.term()?;
                self.expect(&Tok::Comma)?;
                let b = self.term()?;
                self.expect(&Tok::Close)?;
                Ok(Operand::ListAppend(Box::new(a), Box::new(b)))
            }
            Some(other) => Err(self.invalid(format!("Invalid function name; function: {other}"))),
            None => match self.peek() {
                Some(Tok::Placeholder(_)) => Ok(Operand::Value(self.value()?)),
                _ => Ok(Operand::Path(self.path()?)),
            },
        }
    }
}
