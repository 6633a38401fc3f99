//! A recursive-descent parser: `or := and ("||" and)*`, `and := term ("&&" term)*`,
//! `term := "(" or ")" | operand operator operand`.

use super::ast::{Expr, Operand};
use super::lexer::{tokenize, Token};
use crate::error::Quoted;
use std::fmt;

/// A rule that does not parse, with the byte position of the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub position: usize,
    pub message: String,
}

impl ParseError {
    pub fn new(position: usize, message: impl Into<String>) -> Self {
        ParseError {
            position,
            message: message.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at position {})", self.message, self.position)
    }
}

impl std::error::Error for ParseError {}

pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        end: input.len(),
    };
    let expr = parser.or()?;
    if let Some((position, token)) = parser.tokens.get(parser.next) {
        return Err(ParseError::new(*position, format!("unexpected {}", describe(token))));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
}

fn describe(token: &Token) -> String {
    match token {
        Token::Identifier(name) => format!("name {name}", name = Quoted(name)),
        Token::Text(text) => format!("string {text}", text = Quoted(text)),
        Token::Number(n) => format!("number {}", crate::numbers::format(*n)),
        Token::True => "true".into(),
        Token::False => "false".into(),
        Token::Null => "null".into(),
        Token::Operator(op) => format!("operator {}", Quoted(op.symbol())),
        Token::And => "\"&&\"".into(),
        Token::Or => "\"||\"".into(),
        Token::Open => "\"(\"".into(),
        Token::Close => "\")\"".into(),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map(|(p, _)| *p).unwrap_or(self.end)
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.next += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.term()?;
        while self.peek() == Some(&Token::And) {
            self.next += 1;
            let right = self.term()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Token::Open) {
            let open = self.position();
            self.next += 1;
            let inner = self.or()?;
            if self.peek() != Some(&Token::Close) {
                return Err(ParseError::new(open, "this \"(\" is not closed"));
            }
            self.next += 1;
            return Ok(inner);
        }
        let left = self.operand()?;
        let position = self.position();
        let operator = match self.peek() {
            Some(Token::Operator(op)) => *op,
            Some(other) => {
                return Err(ParseError::new(
                    position,
                    format!("expected an operator, found {}", describe(other)),
                ))
            }
            None => {
                return Err(ParseError::new(
                    position,
                    "expected an operator, found the end of the rule",
                ))
            }
        };
        self.next += 1;
        let right = self.operand()?;
        Ok(Expr::Compare(left, operator, right))
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let position = self.position();
        let operand = match self.peek() {
            Some(Token::Identifier(name)) => {
                check_identifier(name, position)?;
                Operand::Identifier(name.clone())
            }
            Some(Token::Text(text)) => Operand::Text(text.clone()),
            Some(Token::Number(n)) => Operand::Number(*n),
            Some(Token::True) => Operand::Bool(true),
            Some(Token::False) => Operand::Bool(false),
            Some(Token::Null) => Operand::Null,
            Some(other) => {
                return Err(ParseError::new(
                    position,
                    format!("expected a value, found {}", describe(other)),
                ))
            }
            None => return Err(ParseError::new(position, "expected a value, found the end of the rule")),
        };
        self.next += 1;
        Ok(operand)
    }
}

/// Only the identifiers edgefs can evaluate are accepted, so a typo fails when the
/// rule loads instead of silently never matching.
fn check_identifier(name: &str, position: usize) -> Result<(), ParseError> {
    let valid_segment = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if let Some(rest) = name.strip_prefix("@request.") {
        let ok = rest == "method"
            || rest.strip_prefix("auth.").is_some_and(valid_segment)
            || rest.strip_prefix("body.").is_some_and(valid_segment);
        if !ok {
            return Err(ParseError::new(
                position,
                format!(
                    "unknown identifier {name}: use @request.auth.<field>, @request.body.<field> or @request.method",
                    name = Quoted(name)
                ),
            ));
        }
        return Ok(());
    }
    if name.starts_with('@') || !valid_segment(name) {
        return Err(ParseError::new(
            position,
            format!("unknown identifier {name}", name = Quoted(name)),
        ));
    }
    Ok(())
}
