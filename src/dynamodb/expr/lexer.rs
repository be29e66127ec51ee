//! Tokens of DynamoDB's expression language: names, `#name` and `:value` placeholders, list
//! indexes, comparators, punctuation and the arithmetic signs of SET.
//!
//! Every token keeps its text, so syntax errors quote what the client wrote.

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// A bare word: an attribute name, a keyword or a function name.
    Word(String),
    /// `#name`, with the `#`.
    Name(String),
    /// `:value`, with the `:`.
    Placeholder(String),
    /// The digits of a list index.
    Index(String),
    Dot,
    Comma,
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
}

impl Tok {
    pub fn text(&self) -> String {
        match self {
            Tok::Word(s) | Tok::Name(s) | Tok::Placeholder(s) | Tok::Index(s) => s.clone(),
            Tok::Dot => ".".into(),
            Tok::Comma => ",".into(),
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::OpenBracket => "[".into(),
            Tok::CloseBracket => "]".into(),
            Tok::Eq => "=".into(),
            Tok::Ne => "<>".into(),
            Tok::Lt => "<".into(),
            Tok::Le => "<=".into(),
            Tok::Gt => ">".into(),
            Tok::Ge => ">=".into(),
            Tok::Plus => "+".into(),
            Tok::Minus => "-".into(),
        }
    }

    /// A keyword, compared case-insensitively as DynamoDB does.
    pub fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Tok::Word(w) if w.eq_ignore_ascii_case(keyword))
    }
}

/// A character no token starts with: the error names it.
#[derive(Debug, PartialEq, Eq)]
pub struct BadChar(pub char);

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub fn tokenize(text: &str) -> Result<Vec<Tok>, BadChar> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let word_from = |start: usize| -> (String, usize) {
        let mut end = start;
        while end < chars.len() && is_word_char(chars[end]) {
            end += 1;
        }
        (chars[start..end].iter().collect(), end)
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '.' => (Tok::Dot, 1),
            ',' => (Tok::Comma, 1),
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            '[' => (Tok::OpenBracket, 1),
            ']' => (Tok::CloseBracket, 1),
            '=' => (Tok::Eq, 1),
            '+' => (Tok::Plus, 1),
            '-' => (Tok::Minus, 1),
            '<' if next == Some('>') => (Tok::Ne, 2),
            '<' if next == Some('=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if next == Some('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '#' | ':' => {
                let (word, end) = word_from(i + 1);
                if word.is_empty() {
                    return Err(BadChar(c));
                }
                let text = format!("{c}{word}");
                let tok = if c == '#' {
                    Tok::Name(text)
                } else {
                    Tok::Placeholder(text)
                };
                out.push(tok);
                i = end;
                continue;
            }
            c if c.is_ascii_digit() && out.last() == Some(&Tok::OpenBracket) => {
                let (word, end) = word_from(i);
                out.push(Tok::Index(word));
                i = end;
                continue;
            }
            c if is_word_char(c) => {
                let (word, end) = word_from(i);
                out.push(Tok::Word(word));
                i = end;
                continue;
            }
            other => return Err(BadChar(other)),
        };
        out.push(tok);
        i += len;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let toks = tokenize("#a.b[3] <> :v AND size(x)>=:n").unwrap();
        assert_eq!(
            toks,
            vec![
                Tok::Name("#a".into()),
                Tok::Dot,
                Tok::Word("b".into()),
                Tok::OpenBracket,
                Tok::Index("3".into()),
                Tok::CloseBracket,
                Tok::Ne,
                Tok::Placeholder(":v".into()),
                Tok::Word("AND".into()),
                Tok::Word("size".into()),
                Tok::Open,
                Tok::Word("x".into()),
                Tok::Close,
                Tok::Ge,
                Tok::Placeholder(":n".into()),
            ]
        );
        assert_eq!(tokenize("a ! b"), Err(BadChar('!')));
        assert_eq!(tokenize("# x"), Err(BadChar('#')));
    }
}
