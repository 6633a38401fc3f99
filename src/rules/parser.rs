//! An operator-precedence parser with explicit stacks: `or := and ("||" and)*`,
//! `and := term ("&&" term)*`, `term := "(" or ")" | operand operator operand`.
//!
//! No recursion, so no input can overflow the stack (a filter comes from any visitor's
//! query string). Parentheses add no node to the tree, and a rule has at most
//! [`MAX_EXPRESSIONS`] comparisons, so the tree the evaluator walks stays shallow.

use super::ast::{Expr, Operand};
use super::lexer::{tokenize, Token};
use crate::error::Quoted;
use std::fmt;

/// PocketBase's limit on the comparisons in one filter or rule (`DefaultFilterExprLimit`).
pub const MAX_EXPRESSIONS: usize = 200;

/// A rule that does not parse, with the byte position of the problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The byte offset in the rule's text where the problem is.
    pub position: usize,
    /// What is wrong there.
    pub message: String,
}

impl ParseError {
    /// An error at byte `position`.
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

/// What waits on the operator stack.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    /// A `(` at this byte position.
    Open(usize),
    And,
    Or,
}

impl Pending {
    /// `&&` binds tighter than `||`; both are left-associative.
    fn precedence(self) -> u8 {
        match self {
            Pending::Open(_) => 0,
            Pending::Or => 1,
            Pending::And => 2,
        }
    }
}

/// Parses a non-blank rule into its tree, of at most 200 comparisons (PocketBase's
/// limit); [`Rule::parse`](super::Rule::parse) also takes blank text, as the empty rule.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        tokens,
        next: 0,
        end: input.len(),
    };
    let mut operands: Vec<Expr> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut comparisons = 0usize;
    loop {
        // An operand is expected: any number of `(`, then a comparison.
        while parser.peek() == Some(&Token::Open) {
            pending.push(Pending::Open(parser.position()));
            parser.next += 1;
        }
        let position = parser.position();
        operands.push(parser.comparison()?);
        comparisons += 1;
        if comparisons > MAX_EXPRESSIONS {
            return Err(ParseError::new(
                position,
                format!("more than {MAX_EXPRESSIONS} comparisons in one expression"),
            ));
        }
        // An operator is expected: any number of `)`, then `&&`, `||` or the end.
        loop {
            match parser.peek() {
                Some(Token::Close) => {
                    let position = parser.position();
                    loop {
                        match pending.pop() {
                            Some(Pending::Open(_)) => break,
                            Some(op) => reduce(&mut operands, op),
                            None => return Err(ParseError::new(position, "unexpected \")\"")),
                        }
                    }
                    parser.next += 1;
                }
                Some(Token::And) | Some(Token::Or) => {
                    let op = if parser.peek() == Some(&Token::And) {
                        Pending::And
                    } else {
                        Pending::Or
                    };
                    while let Some(&top) = pending.last() {
                        if top.precedence() < op.precedence() {
                            break;
                        }
                        pending.pop();
                        reduce(&mut operands, top);
                    }
                    pending.push(op);
                    parser.next += 1;
                    break;
                }
                other => {
                    // The end, or a token that cannot follow a comparison: the innermost
                    // unclosed `(` is the problem if there is one.
                    let innermost_open = pending.iter().rev().find_map(|p| match p {
                        Pending::Open(at) => Some(*at),
                        _ => None,
                    });
                    if let Some(open) = innermost_open {
                        return Err(ParseError::new(open, "this \"(\" is not closed"));
                    }
                    if let Some(token) = other {
                        return Err(ParseError::new(
                            parser.position(),
                            format!("unexpected {}", describe(token)),
                        ));
                    }
                    while let Some(op) = pending.pop() {
                        reduce(&mut operands, op);
                    }
                    return Ok(operands.pop().expect("a comparison was parsed"));
                }
            }
        }
    }
}

/// Replaces the two topmost operands with `op` applied to them.
fn reduce(operands: &mut Vec<Expr>, op: Pending) {
    let right = operands.pop().expect("an operator has a right operand");
    let left = operands.pop().expect("an operator has a left operand");
    operands.push(match op {
        Pending::And => Expr::And(Box::new(left), Box::new(right)),
        _ => Expr::Or(Box::new(left), Box::new(right)),
    });
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

    /// `operand operator operand`
    fn comparison(&mut self) -> Result<Expr, ParseError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_parentheses_parse_without_recursion() {
        // ~2,800 nested parentheses overflowed the Worker's stack with the recursive parser.
        for depth in [1, 1_000, 50_000] {
            let text = format!("{}a = 1{}", "(".repeat(depth), ")".repeat(depth));
            assert_eq!(
                parse(&text).unwrap(),
                parse("a = 1").unwrap(),
                "parentheses add no node (depth {depth})"
            );
        }
        let unclosed = format!("{}a = 1{}", "(".repeat(10), ")".repeat(9));
        assert_eq!(
            parse(&unclosed).unwrap_err().position,
            0,
            "the outermost ( is the unclosed one"
        );
        let error = parse(&format!("{}a = 1", "(".repeat(3))).unwrap_err();
        assert_eq!(
            (error.position, error.message.as_str()),
            (2, "this \"(\" is not closed")
        );
        assert_eq!(parse("a = 1))").unwrap_err().message, "unexpected \")\"");
        assert_eq!(parse("(a = 1 b = 2)").unwrap_err().message, "this \"(\" is not closed");
        assert!(parse("()").unwrap_err().message.starts_with("expected a value"));
    }

    #[test]
    fn at_most_pocketbases_200_comparisons() {
        let chain = |n: usize| vec!["a = 1"; n].join(" || ");
        assert!(parse(&chain(MAX_EXPRESSIONS)).is_ok());
        let error = parse(&chain(MAX_EXPRESSIONS + 1)).unwrap_err();
        assert!(error.message.contains("more than 200 comparisons"), "{error}");
        let mixed = vec!["(a = 1 && b = 2)"; 101].join(" || ");
        assert!(parse(&mixed).is_err(), "202 comparisons across groups");
    }

    #[test]
    fn precedence_and_grouping_match_the_grammar() {
        let printed = |text: &str| parse(text).unwrap().to_string();
        assert_eq!(printed("a = 1 || b = 1 && c = 0"), "a = 1 || b = 1 && c = 0");
        assert_eq!(printed("(a = 1 || b = 1) && c = 0"), "(a = 1 || b = 1) && c = 0");
        assert_eq!(
            printed("a = 1 && (b = 1 || c = 0) && d = 2"),
            "a = 1 && (b = 1 || c = 0) && d = 2"
        );
        let Expr::Or(left, _) = parse("a = 1 || b = 1 || c = 1").unwrap() else {
            panic!("|| at the top")
        };
        assert!(matches!(*left, Expr::Or(..)), "left-associative");
        let Expr::Or(_, right) = parse("a = 1 || b = 1 && c = 1").unwrap() else {
            panic!("|| at the top")
        };
        assert!(matches!(*right, Expr::And(..)), "&& binds tighter");
    }
}
