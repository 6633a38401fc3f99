//! Tokens of the rules language, each with its byte position for error messages.

use super::parser::ParseError;
use crate::error::Quoted;

#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    Identifier(String),
    Text(String),
    Number(f64),
    True,
    False,
    Null,
    Operator(super::ast::Operator),
    And,
    Or,
    Open,
    Close,
}

pub fn tokenize(input: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    use super::ast::Operator::*;
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let c = bytes[i];
        let two = bytes.get(i..i + 2).unwrap_or(&[]);
        let token = match c {
            b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'(' => {
                i += 1;
                Token::Open
            }
            b')' => {
                i += 1;
                Token::Close
            }
            _ if two == b"&&" => {
                i += 2;
                Token::And
            }
            _ if two == b"||" => {
                i += 2;
                Token::Or
            }
            _ if two == b"!=" => {
                i += 2;
                Token::Operator(NotEqual)
            }
            _ if two == b"!~" => {
                i += 2;
                Token::Operator(NotLike)
            }
            _ if two == b">=" => {
                i += 2;
                Token::Operator(GreaterOrEqual)
            }
            _ if two == b"<=" => {
                i += 2;
                Token::Operator(LessOrEqual)
            }
            b'=' => {
                i += 1;
                Token::Operator(Equal)
            }
            b'>' => {
                i += 1;
                Token::Operator(Greater)
            }
            b'<' => {
                i += 1;
                Token::Operator(Less)
            }
            b'~' => {
                i += 1;
                Token::Operator(Like)
            }
            b'\'' | b'"' => {
                let quote = c;
                i += 1;
                let mut text = String::new();
                loop {
                    match bytes.get(i) {
                        None => return Err(ParseError::new(start, "the string is not closed")),
                        Some(b'\\') if bytes.get(i + 1) == Some(&quote) || bytes.get(i + 1) == Some(&b'\\') => {
                            text.push(bytes[i + 1] as char);
                            i += 2;
                        }
                        Some(&b) if b == quote => {
                            i += 1;
                            break;
                        }
                        Some(_) => {
                            let ch = input[i..].chars().next().expect("inside the input");
                            text.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                Token::Text(text)
            }
            b'0'..=b'9' | b'-' | b'.' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                    i += 1;
                }
                let text = &input[start..i];
                let number = crate::numbers::parse(text)
                    .ok_or_else(|| ParseError::new(start, format!("\"{text}\" is not a number")))?;
                Token::Number(number)
            }
            b'@' | b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                i += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'.' | b'@')) {
                    i += 1;
                }
                match &input[start..i] {
                    "true" => Token::True,
                    "false" => Token::False,
                    "null" => Token::Null,
                    name => Token::Identifier(name.to_owned()),
                }
            }
            _ => {
                let ch = input[i..].chars().next().expect("inside the input");
                return Err(ParseError::new(
                    start,
                    format!("unexpected character {}", Quoted(ch.encode_utf8(&mut [0; 4]))),
                ));
            }
        };
        tokens.push((start, token));
    }
    Ok(tokens)
}
